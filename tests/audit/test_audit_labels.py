"""The audit trail as evidence: every action, object type and detail key written anywhere has its Chinese label (a scan
of the sources says so); details read as labelled rows."""

import re
from datetime import date

from gonghui.audit import labels
from gonghui.audit.labels import (
    ACTION_LABELS,
    CHANGED_FIELD_LABELS,
    DETAIL_KEY_LABELS,
    MODEL_OBJECT_TYPE_LABELS,
    OBJECT_TYPE_LABELS,
    OrgNames,
    detail_rows,
)
from gonghui.audit.selectors import AuditFilters
from tests.audit.audit_scan import DYNAMIC_DETAILS, Scan, Unresolved, scanned


def test_the_scan_follows_every_audit_call_back_to_its_literals():
    actions, _, _, problems, _, calls = scanned()
    assert problems == []
    assert calls >= 50  # every service module writes through audit_record
    # Literals at the call, a conditional, a helper two levels deep (membership_leave → _end → _audit_membership),
    # a helper called positionally, and the export of the trail itself.
    for action in [
        "stats.export",
        "member.import_preview",
        "member.import",
        "membership.leave",
        "membership.cancel",
        "join_application.submit",
        "org.update",
        "audit.export",
    ]:
        assert action in actions, action


SAMPLE_MODULE = """
from gonghui.audit.services import audit_record

PLATFORM_ACTION = "thing.constant"


def _audit(actor, action, obj, details=None):
    audit_record(actor=actor, action=action, object_type="thing", details={"k": 1, **(details or {})})


def one(actor):
    _audit(actor, "thing.one", None, {"extra": 2})


def two(actor, flag):
    _audit(actor, "thing.two" if flag else "thing.three", None)


def chained(actor, *, action="thing.default"):
    _audit(actor, action, None, details={"by": "x"} | {"more": 1})


def caller(actor):
    chained(actor, action="thing.four")
    chained(actor)


def constant(actor):
    audit_record(actor=actor, action=PLATFORM_ACTION, object_type="other")


def looped(actor, actions):
    for action in actions:
        audit_record(actor=actor, action=action, object_type="thing")
"""


def test_the_scan_follows_helpers_and_reports_what_it_cannot_follow(tmp_path):
    (tmp_path / "sample.py").write_text(SAMPLE_MODULE, encoding="utf-8")
    scan = Scan(tmp_path)
    calls = scan.audit_calls()
    arguments = [{k.arg: k.value for k in call.keywords} for call in calls]

    found, problems = set(), []
    for args in arguments:
        try:
            found |= scan.strings(args["action"])
        except Unresolved as exc:
            problems.append(str(exc))
    assert found == {"thing.one", "thing.two", "thing.three", "thing.four", "thing.default", "thing.constant"}
    assert problems == ["sample.py:34: action"]  # a loop variable is not a literal
    assert set().union(*(scan.strings(args["object_type"]) for args in arguments)) == {"thing", "other"}
    assert scan.keys(arguments[0]["details"]) == {"k", "extra", "by", "more"}


def test_every_action_written_has_a_chinese_label():
    actions, *_ = scanned()
    missing = {action: sorted(sites) for action, sites in actions.items() if action not in ACTION_LABELS}
    assert missing == {}


def test_every_action_label_is_written_somewhere():
    actions, *_ = scanned()
    assert sorted(set(ACTION_LABELS) - set(actions)) == []


def test_every_object_type_written_has_a_chinese_label():
    _, object_types, *_ = scanned()
    assert sorted(object_types - set(OBJECT_TYPE_LABELS)) == []
    assert sorted(set(OBJECT_TYPE_LABELS) - object_types) == []


def test_every_exported_list_has_a_chinese_object_type():
    """List exports record the model's name as the object type, which the scan cannot read at the call."""
    from gonghui.backoffice.exports import ListExportMixin
    from gonghui.backoffice.site import backoffice_site

    exported = {
        model._meta.model_name
        for model, model_admin in backoffice_site._registry.items()
        if isinstance(model_admin, ListExportMixin)
    }
    assert sorted(exported - set(OBJECT_TYPE_LABELS) - set(MODEL_OBJECT_TYPE_LABELS)) == []
    assert sorted(set(MODEL_OBJECT_TYPE_LABELS) - exported) == []
    assert labels.object_type_label("joinapplication") == "入会申请"


def test_every_detail_key_written_has_a_chinese_label():
    _, _, detail_keys, _, scan, _ = scanned()
    assert sorted(detail_keys - set(DETAIL_KEY_LABELS)) == []
    # The summaries the scan cannot read at the call are still where the table says (or the table is out of date).
    assert scan.dynamic_used == set(DYNAMIC_DETAILS)
    # The filters recorded with an export are labelled as well.
    every_filter = AuditFilters(
        start=date(2026, 1, 1),
        end=date(2026, 1, 2),
        action="a",
        actor="b",
        actor_role="c",
        org_path="0001",
        org_id="d",
        object_type="e",
        object="f",
        audit_result="g",
    )
    assert sorted(set(every_filter.as_details()) - set(DETAIL_KEY_LABELS)) == []


def test_labels_are_chinese():
    for table in (ACTION_LABELS, OBJECT_TYPE_LABELS, MODEL_OBJECT_TYPE_LABELS, DETAIL_KEY_LABELS, CHANGED_FIELD_LABELS):
        for code, label in table.items():
            assert re.search(r"[\u4e00-\u9fff]", label), (code, label)
    assert len(set(ACTION_LABELS.values())) == len(ACTION_LABELS)  # no two actions read the same


# ---------------------------------------------------------------- details as labelled rows


def test_details_become_labelled_rows():
    names = OrgNames(
        by_id={"org-1": "苏州市总工会 › 姑苏区总工会"}, by_path={"00010001": "苏州市总工会 › 姑苏区总工会"}
    )
    details = {
        "changes": {"contact_phone": ["", "138****5678"], "org": ["org-1", "org-2"], "role": ["upper_cadre", "x"]},
        "second_factor": True,
        "criteria": {"doc": "3205**********1373", "mobile": "138****1234"},
        "parents": ["SZ-GS-T02", "SZ-WZ"],
        "old_path": "00010001",
        "covering_union": None,
        "count": 2,
        "unknown_key": "保持原样",
    }
    # In the order of the label table on every database (PostgreSQL's jsonb keeps no order), unknown keys last.
    assert detail_rows(details, org_names=names) == [
        (
            "变更内容",
            "联系电话：— → 138****5678；所属组织：苏州市总工会 › 姑苏区总工会 → org-2；角色：上级工会干部 → x",
        ),
        ("数量", "2"),
        ("覆盖工会", "—"),
        ("查询条件", "证件号码：3205**********1373；手机号码：138****1234"),
        ("原组织路径", "苏州市总工会 › 姑苏区总工会"),
        ("上级组织", "SZ-GS-T02、SZ-WZ"),
        ("双因素验证", "是"),
        ("unknown_key", "保持原样"),
    ]


def test_the_aid_standards_changes_read_per_tier():
    details = {"relative": {"grant_limit": ["3000.00", "5000.00"], "file_needs_approval": [False, True]}}
    assert detail_rows(details) == [("相对困难", "建档须上级审批：否 → 是；单笔帮扶审批限额：3000.00 → 5000.00")]


def test_roles_and_unknown_codes():
    assert labels.role_label("audit_admin") == "审计管理员"
    assert labels.role_label("system") == "平台"
    assert labels.role_label("api_token") == "接口令牌"
    assert labels.role_label("") == "未登录"
    assert labels.role_label("retired_role") == "retired_role"
    assert labels.action_label("member.search_by_number") == "按证件号码/手机号码查询会员"
    assert labels.action_label("old.action") == "old.action"
    assert labels.object_type_label("service_case") == "服务申请"
