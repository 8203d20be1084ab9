"""The words the audit trail is read in: one table for every action code, object type, actor kind and detail key.

Services write codes (`member.search_by_number`, `service_case`, `upper_cadre`); an auditor reads Chinese. Every
code written anywhere in the sources has its label here, and every label here is written somewhere: a test scans the
sources (tests/test_audit_trail.py) and fails on a code without a label and on a label no code uses. A code without a
label (an event written by an older release) is shown as the code itself, never hidden.

Detail values are shown as text: booleans as 是/否, lists joined, nested maps as labelled pairs, a change as
"before → after". Masked values were masked before they reached the trail and are shown exactly as stored."""

from collections.abc import Mapping
from typing import Any

from gonghui.common.roles import role_label as _account_role_label

ACTION_LABELS: dict[str, str] = {
    # accounts and security
    "account.activate": "启用账号",
    "account.approve_role": "批准角色授予",
    "account.change_password": "修改本人密码",
    "account.create": "创建账号",
    "account.deactivate": "停用账号",
    "account.enrol_totp": "绑定身份验证器",
    "account.login": "登录管理后台",
    "account.reject_role": "驳回角色授予",
    "account.reset_password": "重置密码",
    "account.reset_totp": "重置身份验证器",
    "account.unlock": "解除登录锁定",
    "account.update": "修改账号",
    "api_token.create": "创建接口令牌",
    "api_token.revoke": "吊销接口令牌",
    # the audit trail itself
    "audit.export": "导出审计日志",
    # organisations and employers
    "org.bulk_create": "批量创建组织",
    "org.create": "创建组织",
    "org.dissolve": "撤销组织",
    "org.export": "导出组织名册",
    "org.import": "导入组织",
    "org.merge": "合并组织",
    "org.move": "调整上级组织",
    "org.reveal_contact_phone": "查看组织联系电话",
    "org.update": "修改组织信息",
    "employer.bulk_create": "批量登记企业/单位",
    "employer.create": "登记企业/单位",
    "employer.update": "修改企业/单位信息",
    # member registry
    "person.create": "建立人员档案",
    "person.correct": "更正人员资料",
    "person.reveal": "查看完整证件号码/手机号码",
    "person.reveal_own": "会员查看本人完整信息",
    "membership.bulk_load": "批量载入会籍",
    "membership.cancel": "注销会籍",
    "membership.enrol": "办理入会",
    "membership.leave": "办理退会",
    "membership.reserve": "保留会籍",
    "membership.restore": "恢复会籍",
    "join_application.approve": "批准入会申请",
    "join_application.convert": "入会申请转为接转",
    "join_application.overdue_notice": "提醒入会申请已超期",
    "join_application.reject": "驳回入会申请",
    "join_application.submit": "提交入会申请",
    "join_application.withdraw": "撤回入会申请",
    "transfer.accept": "接收会员转入",
    "transfer.escalate": "接转超期上报",
    "transfer.refuse": "拒绝会员接转",
    "transfer.release": "同意会员转出",
    "transfer.request": "申请会员接转",
    "transfer.withdraw": "撤回会员接转",
    "correction.apply": "采纳资料更正申请",
    "correction.reject": "驳回资料更正申请",
    "correction.submit": "提交资料更正申请",
    "declared_total.record": "登记实有会员数",
    "card.verify": "核验电子会员卡",
    "member.bind": "会员绑定档案",
    "member.export": "导出会员名册",
    "member.import": "导入会员名册",
    "member.import_cancel": "取消会员名册导入",
    "member.import_from_preview": "按预检结果导入会员名册",
    "member.import_preview": "预检会员名册",
    "member.login": "会员登录",
    "member.password_change": "会员修改密码",
    "member.password_set": "会员设置密码",
    "member.search_by_number": "按证件号码/手机号码查询会员",
    "member.unbind": "会员解除绑定",
    # service centre
    "case.accept": "受理服务申请",
    "case.approval_approve": "上级批准服务申请办结",
    "case.approval_refuse": "上级不批准服务申请办结",
    "case.approval_request": "服务申请办结报上级审批",
    "case.attach": "上传申请材料",
    "case.attachment_view": "查看申请材料",
    "case.callback": "登记服务回访",
    "case.callback_draw": "抽取回访样本",
    "case.close": "办结服务申请",
    "case.escalate": "服务申请超期上报",
    "case.figures_export": "导出职工服务统计",
    "case.rate": "评价服务",
    "case.reject": "不予受理服务申请",
    "case.start": "开始办理服务申请",
    "case.submit": "提交服务申请",
    "case.view": "查看服务申请",
    "case.withdraw": "撤回服务申请",
    "hardship.aid": "发放困难帮扶",
    "hardship.approval_approve": "上级批准困难帮扶事项",
    "hardship.approval_escalate": "困难帮扶审批超期上报",
    "hardship.approval_refuse": "上级不批准困难帮扶事项",
    "hardship.approval_request": "困难帮扶事项报上级审批",
    "hardship.establish": "建立困难职工档案",
    "hardship.exit": "困难职工解困脱困",
    "hardship.move": "困难职工档案转移",
    "hardship.pay": "登记帮扶发放",
    "hardship.print": "打印困难职工档案卡",
    "hardship.rules_update": "修改困难帮扶审批标准",
    "hardship.transition_end": "困难职工过渡期结束",
    "hardship.verify": "困难职工年度核查",
    "hardship.view": "查看困难职工档案",
    "insurance.enrol": "互助保障参保",
    "insurance.plan_create": "创建互助保障计划",
    "insurance.plan_enrolment_close": "停止互助保障参保",
    "insurance.plan_enrolment_open": "开放互助保障参保",
    "care.campaign_create": "创建慰问活动",
    "care.visits_record": "登记慰问",
    # stations, statistics, jobs
    "station.create": "登记服务站点",
    "station.photo": "上传站点照片",
    "station.rate": "评价服务站点",
    "station.status": "变更站点状态",
    "station.update": "修改站点信息",
    "stations.demand_import": "导入服务需求点",
    "stations.import": "导入服务站点",
    "stats.export": "导出统计报表",
    "job.download": "下载任务结果文件",
    "list.export": "导出列表",
}

OBJECT_TYPE_LABELS: dict[str, str] = {
    "account": "账号",
    "api_token": "接口令牌",
    "audit_trail": "审计日志",
    "care_campaign": "慰问活动",
    "correction": "资料更正申请",
    "employer": "企业/单位",
    "hardship_aid_rule": "困难帮扶审批标准",
    "hardship_approval": "困难帮扶审批",
    "hardship_file": "困难职工档案",
    "insurance_plan": "互助保障计划",
    "job": "后台任务",
    "join_application": "入会申请",
    "member_account": "会员账号",
    "membership": "会籍",
    "organisation": "组织",
    "person": "人员档案",
    "service_case": "服务申请",
    "station": "服务站点",
    "transfer": "会员接转",
}

# The back office's list exports record the exported model's name as the object type (`list.export`); those that
# differ from the object types services write are named here.
MODEL_OBJECT_TYPE_LABELS: dict[str, str] = {
    "apitoken": "接口令牌",
    "carecampaign": "慰问活动",
    "correctionrequest": "资料更正申请",
    "declaredtotal": "实有会员数",
    "hardshipfile": "困难职工档案",
    "insuranceenrolment": "互助保障参保登记",
    "insuranceplan": "互助保障计划",
    "jobrun": "后台任务",
    "joinapplication": "入会申请",
    "servicecase": "服务申请",
    "studentgrant": "金秋助学资助",
    "transferrequest": "会员接转",
    "user": "账号",
}

ACTOR_KIND_LABELS: dict[str, str] = {
    "user": "后台账号",
    "token": "接口令牌",
    "system": "平台",
    "member": "会员",
    "anonymous": "未登录",
}

# Roles that are not accounts' roles (common.roles.Role): the platform itself, API tokens, anonymous visitors.
_OTHER_ROLE_LABELS: dict[str, str] = {"system": "平台", "api_token": "接口令牌", "": "未登录"}

DETAIL_KEY_LABELS: dict[str, str] = {
    # the filters recorded with an export of the trail (audit.selectors.AuditFilters.as_details), in their order
    "start": "开始日期",
    "end": "截止日期",
    "action": "操作",
    "actor": "操作者",
    "actor_role": "操作者角色",
    "org": "组织",
    "object_type": "对象类型",
    "object": "对象",
    "audit_result": "结果",
    # what services record
    "accidental": "意外致困",
    "added": "新增",
    "aid": "帮扶记录编号",
    "allow_roster_import": "允许导入名册",
    "already_member_elsewhere": "已是其他工会会员",
    "amount": "金额",
    "amount_granted": "发放金额",
    "approver": "审批工会",
    "as_of": "截至日期",
    "attempts_cleared": "清除失败次数",
    "batch": "批量办理",
    "budget": "预算",
    "by": "办理方",
    "by_member": "会员本人申请",
    "card_number": "会员卡号",
    "changes": "变更内容",
    "children_moved": "转移下级组织数",
    "code": "组织代码",
    "conditions": "筛选条件说明",
    "conflict": "冲突",
    "corrections_moved": "转移更正申请数",
    "count": "数量",
    "covering_union": "覆盖工会",
    "criteria": "查询条件",
    "deep": "深度困难",
    "descendants_moved": "随迁下级组织数",
    "devices_removed": "移除验证器数",
    "doc": "证件号码",
    "doc_type": "证件类型",
    "done": "已完成",
    "drawn": "抽取数",
    "due_on": "办理期限",
    "duplicate": "重复",
    "employers_moved": "转移企业数",
    "enrolled": "参保人数",
    "error": "错误",
    "field": "字段",
    "fields": "字段",
    "file": "文件",
    "file_needs_approval": "建档须上级审批",
    "filters": "筛选条件",
    "first_sign_in": "首次登录",
    "form": "帮扶形式",
    "format": "文件格式",
    "from": "原",
    "from_parent": "原上级组织",
    "grant_limit": "单笔帮扶审批限额",
    "handling_org": "承办组织",
    "in_transition": "过渡期内",
    "income_per_head": "家庭人均月收入",
    "into": "并入组织",
    "job": "任务编号",
    "kind": "类型",
    "list": "列表",
    "masked": "号码已遮蔽",
    "method": "方式",
    "mobile": "手机号码",
    "mode": "方式",
    "new_path": "新组织路径",
    "note": "审批意见",
    "old_path": "原组织路径",
    "on": "日期",
    "parent": "上级组织",
    "parents": "上级组织",
    "pending_approval": "待审批",
    "period": "统计期间",
    "phone_recorded": "已登记手机号码",
    "photo": "照片",
    "points": "需求点数",
    "pool": "抽样范围",
    "premium": "保费",
    "preview": "预检任务编号",
    "purpose": "查询事由",
    "rating": "评分",
    "reason": "原因",
    "reasons": "报批原因",
    "receipt_no": "收据编号",
    "relative": "相对困难",
    "replaced": "替换数",
    "report": "报表",
    "restored_role": "恢复角色",
    "result": "结果",
    "returned": "返回数",
    "role": "角色",
    "rows": "行数",
    "second_factor": "双因素验证",
    "side": "办理方",
    "size": "大小（字节）",
    "source": "来源",
    "stars": "星级",
    "subject": "审批事项",
    "tier": "困难类别",
    "title": "名称",
    "to": "至",
    "to_parent": "新上级组织",
    "total": "合计",
    "total_in_union": "本会合计",
    "transfer": "接转编号",
    "transition_months": "过渡期（月）",
    "type": "组织类型",
    "unchanged": "未变化",
    "updated": "更新",
    "valid": "有效",
    "visits": "慰问人次",
}

# Names of the fields whose before and after values a `changes` detail carries (organisations, employers, accounts,
# people). They are labels for nested keys only; a field not named here is shown as its own name.
CHANGED_FIELD_LABELS: dict[str, str] = {
    "address": "地址",
    "birth_date": "出生日期",
    "contact_person": "联系人",
    "contact_phone": "联系电话",
    "covering_union": "覆盖工会",
    "doc": "证件号码",
    "doc_type": "证件类型",
    "education": "学历",
    "employee_count": "职工人数",
    "employment_form": "就业形态",
    "ethnicity": "民族",
    "founded_on": "成立日期",
    "full_name": "姓名",
    "hukou_type": "户籍类型",
    "industry": "行业",
    "is_model_worker": "劳动模范",
    "lat": "纬度",
    "lng": "经度",
    "mobile": "手机号码",
    "name": "名称/姓名",
    "org": "所属组织",
    "political_status": "政治面貌",
    "post": "岗位/职务",
    "region_code": "行政区划代码",
    "remarks": "备注",
    "role": "角色",
    "sex": "性别",
    "skill_level": "技能等级",
    "term_ends_on": "本届任期届满日期",
    "town_org": "所在镇(街道)/园区工会",
    "uscc": "统一社会信用代码",
    "work_unit": "工作单位",
}

# Detail keys whose value is an organisation's id or a list of them; the interface shows the organisation's name.
ORG_ID_DETAIL_KEYS = frozenset({"covering_union", "from_parent", "handling_org", "into", "org", "parent", "to_parent"})
# Detail keys whose value is a materialized path; shown as the path of names.
ORG_PATH_DETAIL_KEYS = frozenset({"new_path", "old_path"})
ROLE_DETAIL_KEYS = frozenset({"role", "restored_role", "actor_role"})
# Detail keys whose value maps fields to [before, after], like `changes` (the hardship aid standard, per tier).
CHANGE_DETAIL_KEYS = frozenset({"changes", "deep", "relative", "accidental"})
_RESULT_LABELS = {"success": "成功", "denied": "拒绝", "failed": "失败"}

PATH_SEPARATOR = " › "
EMPTY = "—"


def action_label(code: str) -> str:
    return ACTION_LABELS.get(code, code)


def object_type_label(code: str) -> str:
    return OBJECT_TYPE_LABELS.get(code) or MODEL_OBJECT_TYPE_LABELS.get(code, code)


def actor_kind_label(kind: str) -> str:
    return ACTOR_KIND_LABELS.get(kind, kind)


def role_label(role: str) -> str:
    """An account's role in Chinese (common.roles), or the platform's, a token's or an anonymous visitor's."""
    if role in _OTHER_ROLE_LABELS:
        return _OTHER_ROLE_LABELS[role]
    return _account_role_label(role)


def detail_key_label(key: str) -> str:
    return DETAIL_KEY_LABELS.get(key, key)


def changed_field_label(key: str) -> str:
    return CHANGED_FIELD_LABELS.get(key) or DETAIL_KEY_LABELS.get(key, key)


class OrgNames:
    """How the interface names organisations (by id and by materialized path) and accounts (by id). The audit app sits
    below the organisations and accounts apps, so the names are looked up by the caller and handed in; unknown ids and
    paths stay as stored."""

    def __init__(
        self,
        by_id: Mapping[str, str] | None = None,
        by_path: Mapping[str, str] | None = None,
        people: Mapping[str, str] | None = None,
    ):
        self.by_id = dict(by_id or {})
        self.by_path = dict(by_path or {})
        self.people = dict(people or {})

    def actor(self, actor_id, label: str) -> str:
        """An account's person by name with the account name recorded at the time: 张伟（town_cadre）."""
        name = self.people.get(str(actor_id)) if actor_id else None
        return f"{name}（{label}）" if name and name != label else label

    def name_of_id(self, value: str) -> str:
        return self.by_id.get(str(value), str(value))

    def name_of_path(self, path: str) -> str:
        return self.by_path.get(path, path) if path else EMPTY


def format_value(value: Any, *, key: str = "", org_names: OrgNames | None = None) -> str:
    """One detail value as text a person reads."""
    names = org_names or OrgNames()
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "是" if value else "否"
    if key in ORG_ID_DETAIL_KEYS and isinstance(value, str):
        return names.name_of_id(value)
    if key in ORG_ID_DETAIL_KEYS and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "、".join(names.name_of_id(v) for v in value) or EMPTY
    if key in ORG_PATH_DETAIL_KEYS and isinstance(value, str):
        return names.name_of_path(value)
    if key in ROLE_DETAIL_KEYS and isinstance(value, str):
        return role_label(value)
    if key == "action" and isinstance(value, str):
        return action_label(value)
    if key == "object_type" and isinstance(value, str):
        return object_type_label(value)
    if key == "audit_result" and isinstance(value, str):
        return _RESULT_LABELS.get(value, value)
    if key in CHANGE_DETAIL_KEYS and isinstance(value, Mapping):
        return "；".join(
            f"{changed_field_label(field)}：{_change(field, change, names)}"
            for field, change in _in_order(value, CHANGED_FIELD_LABELS)
        )
    if isinstance(value, Mapping):
        return "；".join(
            f"{detail_key_label(k)}：{format_value(v, key=k, org_names=names)}"
            for k, v in _in_order(value, DETAIL_KEY_LABELS)
        )
    if isinstance(value, list | tuple):
        return "、".join(format_value(v, key=key, org_names=names) for v in value) or EMPTY
    return str(value)


def _change(field: str, change: Any, names: OrgNames) -> str:
    """A [before, after] pair as "before → after"; an account's organisation and role by name."""
    if isinstance(change, list | tuple) and len(change) == 2:
        before, after = (format_value(v, key=field, org_names=names) for v in change)
        return f"{before} → {after}"
    return format_value(change, key=field, org_names=names)


_RANKS: dict[int, dict[str, int]] = {}


def _in_order(mapping: Mapping[str, Any], table: Mapping[str, str]) -> list[tuple[str, Any]]:
    """A mapping's items in the order of its label table, unknown keys last by name: PostgreSQL's jsonb keeps no
    order of its own, and a page must read the same on every database."""
    if len(mapping) < 2:
        return list(mapping.items())
    rank = _RANKS.get(id(table))
    if rank is None:
        rank = _RANKS[id(table)] = {key: position for position, key in enumerate(table)}
    return sorted(mapping.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0]))


def detail_rows(details: Mapping[str, Any] | None, *, org_names: OrgNames | None = None) -> list[tuple[str, str]]:
    """The details of an event as (label, value) rows, in the order of DETAIL_KEY_LABELS."""
    return [
        (detail_key_label(key), format_value(value, key=key, org_names=org_names))
        for key, value in _in_order(details or {}, DETAIL_KEY_LABELS)
    ]


def detail_org_ids(details: Mapping[str, Any] | None) -> set[str]:
    """The organisation ids named in details (at any depth: a change's before and after, an export's filters), for the
    caller to look up."""
    found: set[str] = set()
    for key, value in (details or {}).items():
        if isinstance(value, Mapping):
            found |= detail_org_ids(value)
        elif key in ORG_ID_DETAIL_KEYS:
            values = value if isinstance(value, list | tuple) else [value]
            found.update(v for v in values if isinstance(v, str))
    return found


def detail_org_paths(details: Mapping[str, Any] | None) -> set[str]:
    return {v for k, v in (details or {}).items() if k in ORG_PATH_DETAIL_KEYS and isinstance(v, str) and v}
