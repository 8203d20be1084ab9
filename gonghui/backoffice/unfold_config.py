"""django-unfold settings: Chinese titles, our colours, and a sidebar by domain whose items follow the role table."""

from django.templatetags.static import static
from django.urls import reverse_lazy


def _can(code: str):
    from gonghui.common.roles import Perm  # imported when the menu is built: settings load this module

    perm = Perm(code)  # a mistyped code fails at start-up, not as a menu entry that never shows

    def check(request) -> bool:
        from gonghui.backoffice.base import request_actor

        actor = request_actor(request)
        return actor is not None and actor.can(perm)

    return check


UNFOLD = {
    "SITE_TITLE": "数字工会平台",
    "SITE_HEADER": "数字工会平台",
    "SITE_SUBHEADER": "管理后台",
    "SITE_URL": "/",
    "SITE_SYMBOL": "groups",
    # The union-red emblem, shared with the portal (gonghui/common/static/common/favicon.svg).
    "SITE_FAVICONS": [
        {"rel": "icon", "type": "image/svg+xml", "href": lambda request: static("common/favicon.svg")},
    ],
    "SHOW_HISTORY": False,
    "SHOW_VIEW_ON_SITE": False,
    "SHOW_BACK_BUTTON": True,
    "STYLES": [lambda request: static("backoffice/backoffice.css")],
    # Our pages' behaviours (no inline script: the Content-Security-Policy refuses it).
    "SCRIPTS": [lambda request: static("backoffice/backoffice.js")],
    "COLORS": {
        "primary": {
            "50": "oklch(97.1% .013 17.38)",
            "100": "oklch(93.6% .032 17.717)",
            "200": "oklch(88.5% .062 18.334)",
            "300": "oklch(80.8% .114 19.571)",
            "400": "oklch(70.4% .191 22.216)",
            "500": "oklch(63.7% .237 25.331)",
            "600": "oklch(57.7% .245 27.325)",
            "700": "oklch(50.5% .213 27.518)",
            "800": "oklch(44.4% .177 26.899)",
            "900": "oklch(39.6% .141 25.723)",
            "950": "oklch(25.8% .092 26.042)",
        },
    },
    "SIDEBAR": {
        "show_search": False,
        "show_all_applications": False,
        "navigation": [
            {
                "title": "工作台",
                "items": [
                    {"title": "我的工作台", "icon": "dashboard", "link": reverse_lazy("admin:index")},
                    {
                        "title": "驾驶舱",
                        "icon": "monitoring",
                        "link": reverse_lazy("admin:stats_dashboard"),
                        "permission": _can("stats.view"),
                    },
                    {
                        "title": "后台任务",
                        "icon": "pending_actions",
                        "link": reverse_lazy("admin:jobs_jobrun_changelist"),
                        "permission": _can("jobs.view"),
                    },
                ],
            },
            {
                "title": "组织",
                "items": [
                    {
                        "title": "组织树",
                        "icon": "account_tree",
                        "link": reverse_lazy("admin:org_tree"),
                        "permission": _can("orgs.view"),
                    },
                    {
                        "title": "工会组织",
                        "icon": "corporate_fare",
                        "link": reverse_lazy("admin:orgs_organisation_changelist"),
                        "permission": _can("orgs.view"),
                    },
                    {
                        "title": "企业/单位",
                        "icon": "factory",
                        "link": reverse_lazy("admin:orgs_employer_changelist"),
                        "permission": _can("employers.view"),
                    },
                    {
                        "title": "组织架构导入",
                        "icon": "upload_file",
                        "link": reverse_lazy("admin:org_import"),
                        "permission": _can("orgs.structure"),
                    },
                ],
            },
            {
                "title": "服务阵地",
                "items": [
                    {
                        "title": "服务站点",
                        "icon": "location_on",
                        "link": reverse_lazy("admin:stations_station_changelist"),
                        "permission": _can("stations.view"),
                    },
                    {
                        "title": "15分钟服务圈",
                        "icon": "radar",
                        "link": reverse_lazy("admin:station_coverage"),
                        "permission": _can("stations.view"),
                    },
                    {
                        "title": "站点导入",
                        "icon": "upload_file",
                        "link": reverse_lazy("admin:station_import"),
                        "permission": _can("stations.manage"),
                    },
                    {
                        "title": "需求点导入",
                        "icon": "upload_file",
                        "link": reverse_lazy("admin:demand_import"),
                        "permission": _can("stations.manage"),
                    },
                ],
            },
            {
                "title": "会员",
                "items": [
                    {
                        "title": "会员名册",
                        "icon": "groups",
                        "link": reverse_lazy("admin:members_membership_changelist"),
                        "permission": _can("members.view"),
                    },
                    {
                        "title": "会员查询",
                        "icon": "person_search",
                        "link": reverse_lazy("admin:member_search"),
                        "permission": _can("members.view"),
                    },
                    {
                        "title": "入会申请",
                        "icon": "how_to_reg",
                        "link": reverse_lazy("admin:members_joinapplication_changelist"),
                        "permission": _can("members.view"),
                    },
                    {
                        "title": "会员接转",
                        "icon": "swap_horiz",
                        "link": reverse_lazy("admin:members_transferrequest_changelist"),
                        "permission": _can("members.view"),
                    },
                    {
                        "title": "资料更正申请",
                        "icon": "edit_note",
                        "link": reverse_lazy("admin:members_correctionrequest_changelist"),
                        "permission": _can("members.view"),
                    },
                    {
                        "title": "实有会员数",
                        "icon": "numbers",
                        "link": reverse_lazy("admin:members_declaredtotal_changelist"),
                        "permission": _can("members.view"),
                    },
                    {
                        "title": "数据质量",
                        "icon": "fact_check",
                        "link": reverse_lazy("admin:member_quality"),
                        "permission": _can("members.view"),
                    },
                    {
                        "title": "名册导入",
                        "icon": "upload_file",
                        "link": reverse_lazy("admin:roster_import"),
                        "permission": _can("members.import"),
                    },
                ],
            },
            {
                "title": "职工服务",
                "items": [
                    {
                        "title": "服务申请",
                        "icon": "support_agent",
                        "link": reverse_lazy("admin:casework_servicecase_changelist"),
                        "permission": _can("cases.view"),
                    },
                    {
                        "title": "代为录入申请",
                        "icon": "edit_note",
                        "link": reverse_lazy("admin:case_new"),
                        "permission": _can("cases.manage"),
                    },
                    {
                        "title": "困难职工档案",
                        "icon": "folder_shared",
                        "link": reverse_lazy("admin:casework_hardshipfile_changelist"),
                        "permission": _can("cases.view"),
                    },
                    {
                        "title": "上级审批",
                        "icon": "approval",
                        "link": reverse_lazy("admin:hardship_approvals"),
                        "permission": _can("cases.view"),
                    },
                    {
                        "title": "困难帮扶审批标准",
                        "icon": "rule",
                        "link": reverse_lazy("admin:hardship_aid_rules"),
                        "permission": _can("cases.view"),
                    },
                    {
                        "title": "互助保障计划",
                        "icon": "health_and_safety",
                        "link": reverse_lazy("admin:casework_insuranceplan_changelist"),
                        "permission": _can("cases.view"),
                    },
                    {
                        "title": "参保登记",
                        "icon": "assignment_ind",
                        "link": reverse_lazy("admin:casework_insuranceenrolment_changelist"),
                        "permission": _can("cases.view"),
                    },
                    {
                        "title": "金秋助学名单",
                        "icon": "school",
                        "link": reverse_lazy("admin:casework_studentgrant_changelist"),
                        "permission": _can("cases.view"),
                    },
                    {
                        "title": "慰问活动",
                        "icon": "volunteer_activism",
                        "link": reverse_lazy("admin:casework_carecampaign_changelist"),
                        "permission": _can("cases.view"),
                    },
                    {
                        "title": "办结回访",
                        "icon": "phone_callback",
                        "link": reverse_lazy("admin:case_callbacks"),
                        "permission": _can("cases.view"),
                    },
                    {
                        "title": "服务统计",
                        "icon": "bar_chart",
                        "link": reverse_lazy("admin:service_figures"),
                        "permission": _can("cases.view"),
                    },
                ],
            },
            {
                "title": "账号与安全",
                "items": [
                    {
                        "title": "账号",
                        "icon": "badge",
                        "link": reverse_lazy("admin:accounts_user_changelist"),
                        "permission": _can("accounts.view"),
                    },
                    {
                        "title": "API 令牌",
                        "icon": "key",
                        "link": reverse_lazy("admin:accounts_apitoken_changelist"),
                        "permission": _can("api_tokens.manage"),
                    },
                    {
                        "title": "两步验证",
                        "icon": "phonelink_lock",
                        "link": reverse_lazy("admin:otp_setup"),
                    },
                ],
            },
            {
                "title": "审计",
                "items": [
                    {
                        "title": "审计日志",
                        "icon": "policy",
                        "link": reverse_lazy("admin:audit_auditevent_changelist"),
                        "permission": _can("audit.view"),
                    },
                ],
            },
        ],
    },
}
