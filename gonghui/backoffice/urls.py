"""The back office's own pages under /admin/, beside the admin's model pages: the member registry, imports, the
service centre, statistics, stations, the organisation tree, jobs and the second factor. Each page goes through the
site's admin_view (signed in, allowed into the back office, never cached) except the second step of sign-in, which
comes before that."""

from django.urls import URLPattern, path

from gonghui.backoffice.views import (
    accounts,
    care,
    casework,
    hardship,
    imports,
    jobs,
    member_requests,
    members,
    orgs,
    portal_admin,
    stations,
    stats,
)


def backoffice_urls(site) -> list[URLPattern]:
    """The routes of `site` (the back-office admin site), first in its URL list."""
    return [
        path("registry/find/", site.admin_view(members.member_search_view), name="member_search"),
        path("registry/enrol/", site.admin_view(members.member_enrol_view), name="member_enrol"),
        path("registry/quality/", site.admin_view(members.data_quality), name="member_quality"),
        path("registry/export/", site.admin_view(members.member_export), name="member_export"),
        path(
            "registry/quality/export/",
            site.admin_view(members.rectification_export),
            name="member_rectification_export",
        ),
        path("registry/unions/", site.admin_view(members.union_directory), name="union_directory"),
        path("registry/import/", site.admin_view(imports.roster_import_view), name="roster_import"),
        path(
            "registry/import/template/",
            site.admin_view(imports.roster_import_template),
            name="roster_import_template",
        ),
        path(
            "registry/import/<str:job_id>/",
            site.admin_view(imports.roster_import_detail),
            name="roster_import_detail",
        ),
        path(
            "registry/import/<str:job_id>/cancel/",
            site.admin_view(imports.roster_import_cancel_view),
            name="roster_import_cancel",
        ),
        path(
            "registry/import/<str:job_id>/import/",
            site.admin_view(imports.roster_import_from_preview_view),
            name="roster_import_from_preview",
        ),
        path(
            "registry/import/<str:job_id>/declared/",
            site.admin_view(imports.roster_import_declared_view),
            name="roster_import_declared",
        ),
        path(
            "registry/import/<str:job_id>/transfers/",
            site.admin_view(imports.roster_import_transfers_view),
            name="roster_import_transfers",
        ),
        path(
            "registry/members/<str:membership_id>/",
            site.admin_view(members.member_detail),
            name="member_detail",
        ),
        path(
            "registry/members/<str:membership_id>/correct/",
            site.admin_view(members.member_correct),
            name="member_correct",
        ),
        path(
            "registry/members/<str:membership_id>/print/",
            site.admin_view(members.member_print),
            name="member_print",
        ),
        path(
            "registry/applications/<str:application_id>/print/",
            site.admin_view(members.join_application_print),
            name="join_application_print",
        ),
        path(
            "registry/members/<str:membership_id>/card/",
            site.admin_view(members.member_card),
            name="member_card",
        ),
        path(
            "registry/applications/<str:application_id>/",
            site.admin_view(member_requests.join_application_detail),
            name="join_application_detail",
        ),
        path(
            "registry/transfers/<str:transfer_id>/",
            site.admin_view(member_requests.transfer_detail),
            name="transfer_detail",
        ),
        path(
            "registry/corrections/<str:correction_id>/",
            site.admin_view(portal_admin.correction_detail),
            name="correction_detail",
        ),
        path("orgs/<str:org_id>/join-code/", site.admin_view(portal_admin.org_join_code), name="org_join_code"),
        path(
            "orgs/<str:org_id>/join-code.png",
            site.admin_view(portal_admin.org_join_code_png),
            name="org_join_code_png",
        ),
        path("orgs/import/", site.admin_view(imports.org_import_view), name="org_import"),
        path(
            "orgs/import/template/",
            site.admin_view(imports.org_import_template),
            name="org_import_template",
        ),
        path("services/new/", site.admin_view(casework.case_new), name="case_new"),
        path("services/approvals/", site.admin_view(hardship.approvals), name="hardship_approvals"),
        path(
            "services/approvals/<str:approval_id>/",
            site.admin_view(hardship.approval_detail),
            name="hardship_approval_detail",
        ),
        path("services/aid-rules/", site.admin_view(hardship.aid_rules_page), name="hardship_aid_rules"),
        path("services/aid/<str:aid_id>/pay/", site.admin_view(hardship.aid_pay), name="hardship_aid_pay"),
        path(
            "services/files/<str:file_id>/card/",
            site.admin_view(hardship.hardship_file_card),
            name="hardship_file_card",
        ),
        path("stats/", site.admin_view(stats.stats_dashboard), name="stats_dashboard"),
        path("stations/import/", site.admin_view(stations.station_import), name="station_import"),
        path("stations/demand/", site.admin_view(stations.demand_import), name="demand_import"),
        path("stations/coverage/", site.admin_view(stations.coverage_view), name="station_coverage"),
        path("stats/reports/<str:report>/", site.admin_view(stats.stats_report), name="stats_report"),
        path("services/figures/", site.admin_view(casework.service_figures), name="service_figures"),
        path("services/callbacks/", site.admin_view(casework.callbacks), name="case_callbacks"),
        path("services/cases/<str:case_id>/", site.admin_view(casework.case_detail), name="case_detail"),
        path(
            "services/attachments/<str:attachment_id>/",
            site.admin_view(casework.attachment_download),
            name="case_attachment",
        ),
        path("services/files/new/", site.admin_view(hardship.hardship_file_new), name="hardship_file_new"),
        path(
            "services/files/<str:file_id>/",
            site.admin_view(hardship.hardship_file_detail),
            name="hardship_file_detail",
        ),
        path("services/plans/new/", site.admin_view(care.plan_new), name="plan_new"),
        path("services/plans/<str:plan_id>/", site.admin_view(care.plan_detail), name="plan_detail"),
        path("services/campaigns/new/", site.admin_view(care.campaign_new), name="campaign_new"),
        path(
            "services/campaigns/<str:campaign_id>/",
            site.admin_view(care.campaign_detail),
            name="campaign_detail",
        ),
        path("orgs/tree/", site.admin_view(orgs.org_tree), name="org_tree"),
        path(
            "orgs/tree/children/<str:org_id>/",
            site.admin_view(orgs.org_tree_children),
            name="org_tree_children",
        ),
        path("orgs/tree/search/", site.admin_view(orgs.org_tree_search), name="org_tree_search"),
        path("jobs/<str:job_id>/status/", site.admin_view(jobs.job_status), name="job_status"),
        path("jobs/<str:job_id>/download/", site.admin_view(jobs.job_download), name="job_download"),
        path("security/otp/setup/", site.admin_view(accounts.otp_setup), name="otp_setup"),
        path("security/otp/verify/", accounts.otp_verify, name="otp_verify"),
        path("theme.css", site.theme_css, name="theme_css"),
    ]
