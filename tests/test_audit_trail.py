"""The audit trail as evidence: every action, object type and detail key written anywhere has its Chinese label (a scan
of the sources says so), the back office shows labels, organisations by their path of names, details as labelled rows
and every time in Beijing time; the list's filters and its export for an inspection select the same rows, the export
is itself audited, bounded, and refused to anyone who may not read the trail."""

import ast
import contextlib
import io
import re
import zipfile
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

import pytest
import time_machine
from python_calamine import CalamineWorkbook

from gonghui.audit import labels, services
from gonghui.audit.labels import (
    ACTION_LABELS,
    CHANGED_FIELD_LABELS,
    DETAIL_KEY_LABELS,
    MODEL_OBJECT_TYPE_LABELS,
    OBJECT_TYPE_LABELS,
    OrgNames,
    detail_rows,
)
from gonghui.audit.models import AuditEvent
from gonghui.audit.selectors import AuditFilters, audit_event_list
from gonghui.audit.services import audit_record
from gonghui.casework.models import HardshipTier
from gonghui.common.errors import NotFound, PermissionDenied
from gonghui.imports import orgs as org_imports
from gonghui.imports import roster as member_imports
from gonghui.orgs.services import org_update

SOURCES = Path(__file__).resolve().parent.parent / "gonghui"
WRITER = "audit_record"


# ---------------------------------------------------------------- the scan of the sources
#
# Every call of audit_record is found in the syntax trees of the sources. Its `action` and `object_type` arguments are
# followed back to string literals: through conditional expressions, local assignments, and a helper's parameter to
# every call of that helper (positional or keyword, with defaults), however many helpers deep. The keys of `details`
# are followed the same way through dict literals, `**` unpacking, `|` merges and item assignments. An action that
# cannot be followed back to literals fails the scan: a label table is only complete if the scan is.


class Unresolved(Exception):
    pass


# Details whose keys are not literals at the call: import summaries (counts named in each import module) and the
# hardship aid standard's changes (one entry per tier).
DYNAMIC_DETAILS = {
    ("imports/roster/job.py", "job.result['summary']"): {"rows", *member_imports.COUNT_KEYS},
    ("imports/orgs/write.py", "result(written=True).summary"): {"rows", *org_imports.COUNT_KEYS},
    ("stations/imports.py", "result.summary"): {"added", "updated", "unchanged", "error"},
    # The hardship aid standard's changes, one entry per hardship tier.
    ("casework/approval.py", "changes"): set(HardshipTier.values),
}


class Scan:
    def __init__(self, root: Path):
        self.root = root
        self.functions: dict[str, list] = {}
        self.calls: dict[str, list] = {}
        self.module_constants: dict[tuple[Path, str], list[ast.expr]] = {}
        self.dynamic_used: set[tuple[str, str]] = set()
        for path in sorted(root.rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                for child in ast.iter_child_nodes(node):
                    child.parent = node  # type: ignore[attr-defined]
            for node in tree.body:
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            self.module_constants.setdefault((path, target.id), []).append(node.value)
            for node in ast.walk(tree):
                node.path = path  # type: ignore[attr-defined]
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    self.functions.setdefault(node.name, []).append(node)
                elif isinstance(node, ast.Call) and (name := self.callee(node)):
                    self.calls.setdefault(name, []).append(node)

    @staticmethod
    def callee(call: ast.Call) -> str | None:
        if isinstance(call.func, ast.Name):
            return call.func.id
        if isinstance(call.func, ast.Attribute):
            return call.func.attr
        return None

    def where(self, node) -> str:
        return f"{node.path.relative_to(self.root)}:{getattr(node, 'lineno', '?')}"

    @staticmethod
    def enclosing_function(node):
        node = getattr(node, "parent", None)
        while node is not None and not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            node = getattr(node, "parent", None)
        return node

    @staticmethod
    def parameter(func, name: str) -> tuple[int | None, ast.expr | None, bool]:
        """(position among the positional parameters without self, default, whether it is a parameter)."""
        args = func.args
        positional = args.posonlyargs + args.args
        if positional and positional[0].arg in ("self", "cls"):
            positional = positional[1:]
        defaults = dict(
            zip([a.arg for a in positional][len(positional) - len(args.defaults) :], args.defaults, strict=True)
        )
        for index, arg in enumerate(positional):
            if arg.arg == name:
                return index, defaults.get(name), True
        for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            if arg.arg == name:
                return None, default, True
        return None, None, False

    def argument(self, call: ast.Call, func, name: str):
        for keyword in call.keywords:
            if keyword.arg == name:
                return keyword.value
        index, default, _ = self.parameter(func, name)
        if index is not None and index < len(call.args):
            if any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
                raise Unresolved(f"{self.where(call)}: *args passed to {func.name}")
            return call.args[index]
        if any(k.arg is None for k in call.keywords):
            raise Unresolved(f"{self.where(call)}: **kwargs passed to {func.name}")
        return default

    def assignments(self, func, name: str) -> list[ast.expr]:
        found = []
        for node in ast.walk(func):
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets = [node.target]
            else:
                continue
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                found.append(node.value)
        return found

    def through_callers(self, func, name: str, resolve, seen: frozenset):
        key = (func.path, func.name, name)
        if key in seen:
            return set()
        seen = seen | {key}
        callers = self.calls.get(func.name, [])
        if not callers:
            raise Unresolved(f"{self.where(func)}: {func.name}() takes {name} but is never called")
        found = set()
        for call in callers:
            value = self.argument(call, func, name)
            if value is None:
                continue  # not passed and no default: the helper's own default is None (no value)
            found |= resolve(value, seen)
        return found

    def strings(self, expr, seen: frozenset = frozenset()) -> set[str]:
        """Every string an action or object-type expression can take."""
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}
        if isinstance(expr, ast.IfExp):
            return self.strings(expr.body, seen) | self.strings(expr.orelse, seen)
        if isinstance(expr, ast.Name):
            func = self.enclosing_function(expr)
            if func is not None:
                assigned = self.assignments(func, expr.id)
                if assigned:
                    return set().union(*(self.strings(value, seen) for value in assigned))
                if self.parameter(func, expr.id)[2]:
                    return self.through_callers(func, expr.id, self.strings, seen)
            constants = self.module_constants.get((expr.path, expr.id))
            if constants:
                return set().union(*(self.strings(value, seen) for value in constants))
        raise Unresolved(f"{self.where(expr)}: {ast.unparse(expr)}")

    def keys(self, expr, seen: frozenset = frozenset()) -> set[str]:
        """Every top-level key a `details` expression can carry."""
        if expr is None or (isinstance(expr, ast.Constant) and expr.value is None):
            return set()
        dynamic = (str(expr.path.relative_to(self.root)), ast.unparse(expr))
        if dynamic in DYNAMIC_DETAILS:
            self.dynamic_used.add(dynamic)
            return set(DYNAMIC_DETAILS[dynamic])
        if isinstance(expr, ast.Dict):
            found = set()
            for key, value in zip(expr.keys, expr.values, strict=True):
                if key is None:
                    found |= self.keys(value, seen)
                elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                    found.add(key.value)
                else:
                    raise Unresolved(f"{self.where(expr)}: details key {ast.unparse(key)}")
            return found
        if isinstance(expr, ast.Call) and self.callee(expr) == "dict" and not expr.args:
            return {k.arg for k in expr.keywords if k.arg}
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
            return self.keys(expr.left, seen) | self.keys(expr.right, seen)
        if isinstance(expr, ast.BoolOp):
            return set().union(*(self.keys(value, seen) for value in expr.values))
        if isinstance(expr, ast.IfExp):
            return self.keys(expr.body, seen) | self.keys(expr.orelse, seen)
        if isinstance(expr, ast.Name):
            func = self.enclosing_function(expr)
            if func is not None:
                found = set()
                for node in ast.walk(func):
                    if isinstance(node, ast.Assign):
                        for target in node.targets:
                            if (
                                isinstance(target, ast.Subscript)
                                and isinstance(target.value, ast.Name)
                                and target.value.id == expr.id
                            ):
                                if not (isinstance(target.slice, ast.Constant) and isinstance(target.slice.value, str)):
                                    raise Unresolved(f"{self.where(node)}: details key {ast.unparse(target.slice)}")
                                found.add(target.slice.value)
                assigned = self.assignments(func, expr.id)
                if assigned:
                    return found.union(*(self.keys(value, seen) for value in assigned))
                if self.parameter(func, expr.id)[2]:
                    return found | self.through_callers(func, expr.id, self.keys, seen)
        raise Unresolved(f"{self.where(expr)}: details {ast.unparse(expr)}")

    def audit_calls(self) -> list[ast.Call]:
        return self.calls.get(WRITER, [])


@cache
def scanned():
    """(actions, object types, detail keys, problems, the scan) over the sources."""
    scan = Scan(SOURCES)
    actions: dict[str, set[str]] = {}
    object_types: set[str] = set()
    detail_keys: set[str] = set()
    problems: list[str] = []
    calls = scan.audit_calls()
    for call in calls:
        arguments = {k.arg: k.value for k in call.keywords}
        if "action" not in arguments:
            problems.append(f"{scan.where(call)}: audit_record without a keyword action")
            continue
        try:
            for action in scan.strings(arguments["action"]):
                actions.setdefault(action, set()).add(scan.where(call))
        except Unresolved as exc:
            problems.append(f"action: {exc}")
        # An object type computed at run time (a model's name) is shown as itself; literal ones are checked.
        with contextlib.suppress(Unresolved):
            object_types |= scan.strings(arguments.get("object_type"))
        try:
            detail_keys |= scan.keys(arguments.get("details"))
        except Unresolved as exc:
            problems.append(f"details: {exc}")
    return actions, object_types, detail_keys, problems, scan, len(calls)


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


# ---------------------------------------------------------------- pages

NEW_YEAR_UTC = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)  # 2026-01-01 07:30 in Beijing
LIST = "/admin/audit/auditevent/"
EXPORT = "/admin/audit/auditevent/export/"


@pytest.fixture
def trail(tree, accounts, actors):
    """Three events of cadres, each written by a service or as a service writes it, at known instants. The town
    cadre's account belongs to 张伟."""
    type(accounts["town_cadre"]).objects.filter(username="town_cadre").update(full_name="张伟")
    with time_machine.travel(NEW_YEAR_UTC, tick=False):
        org_update(actor=actors["town_cadre"], org=tree["SZ-GS-T01-C1"], contact_person="王红")
    with time_machine.travel(datetime(2026, 1, 2, 2, 0, tzinfo=UTC), tick=False):
        search = audit_record(
            actor=actors["district_cadre"],
            action="member.search_by_number",
            object_type="membership",
            object_org_path=tree["SZ-GS"].path,
            details={"criteria": {"doc": "3205**********1373"}, "purpose": "核对档案"},
        )
    with time_machine.travel(datetime(2026, 1, 3, 2, 0, tzinfo=UTC), tick=False):
        other = audit_record(
            actor=actors["other_district_cadre"],
            action="org.update",
            object_type="organisation",
            object_id=tree["SZ-WZ-T01"].id,
            object_label='=HYPERLINK("http://x","点此")',
            object_org_path=tree["SZ-WZ-T01"].path,
            details={"changes": {"contact_person": ["", "李四"]}},
        )
    update = AuditEvent.objects.get(action="org.update", actor_label="town_cadre")
    return {"update": update, "search": search, "other": other}


def _text(response) -> str:
    return response.content.decode()


def test_list_shows_labels_names_and_beijing_time(trail, login):
    page = _text(login("auditor").get(LIST + "?" + urlencode({"action__exact": "org.update"})))

    assert "修改组织信息" in page
    assert "张伟（town_cadre）</td>" in page
    assert "other_district_cadre</td>" in page
    assert "上级工会干部</td>" in page
    assert "苏州市总工会 › 姑苏区总工会 › 双塔街道总工会" in page  # the town cadre's union
    assert "苏州市总工会 › 姑苏区总工会 › 双塔街道总工会 › 竹辉社区工会" in page  # the object's union
    assert "2026-01-01 07:30:00" in page
    assert "2025-12-31" not in page
    for code in ("org.update", "upper_cadre", trail["update"].actor_org_path + "<"):
        assert f">{code}" not in page and f"{code}</td>" not in page


def test_detail_page_shows_labelled_rows_and_one_date(trail, login):
    event = trail["update"]
    page = _text(login("auditor").get(f"{LIST}{event.id}/change/"))

    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert "2026-01-01 07:30:00 town_cadre 修改组织信息" in title
    assert "<dt>时间</dt><dd>2026-01-01 07:30:00</dd>" in page
    assert "2025-12-31" not in page
    assert "<dt>操作</dt><dd>修改组织信息</dd>" in page
    assert "<dt>操作者</dt><dd>张伟（town_cadre）</dd>" in page
    assert "<dt>角色</dt><dd>上级工会干部</dd>" in page
    assert "<dt>操作者所属组织</dt><dd>苏州市总工会 › 姑苏区总工会 › 双塔街道总工会</dd>" in page
    assert "<dt>对象类型</dt><dd>组织</dd>" in page
    assert "<dt>对象所属组织</dt><dd>苏州市总工会 › 姑苏区总工会 › 双塔街道总工会 › 竹辉社区工会</dd>" in page
    assert "<dt>变更内容</dt><dd>联系人：— → 王红</dd>" in page
    assert "contact_person" not in page and "{&quot;" not in page and '{"' not in page
    assert event.actor_org_path not in page


def test_detail_page_keeps_masked_values_masked(trail, login):
    page = _text(login("auditor").get(f"{LIST}{trail['search'].id}/change/"))

    assert "<dt>操作</dt><dd>按证件号码/手机号码查询会员</dd>" in page
    assert "<dt>查询条件</dt><dd>证件号码：3205**********1373</dd>" in page
    assert "<dt>查询事由</dt><dd>核对档案</dd>" in page


def _listed_ids(response) -> set[str]:
    return {str(event.id) for event in response.context["cl"].result_list}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action__exact": "org.update"}, {"update", "other"}),
        ({"actor": "district"}, {"search", "other"}),
        ({"org": "SZ-WZ", "actor_role__exact": "upper_cadre"}, {"other"}),
        ({"org": "SZ-GS-T01", "action__exact": "org.update"}, {"update"}),
        ({"object_type__exact": "membership"}, {"search"}),
        ({"actor_role__exact": "upper_cadre"}, {"update", "search", "other"}),
        # Beijing days: 23:30 UTC on 31 December is 1 January there.
        ({"at_from": "2026-01-01", "at_to": "2026-01-01"}, {"update"}),
        ({"at_from": "2026-01-02", "actor_role__exact": "upper_cadre"}, {"search", "other"}),
        ({"at_from": "2026/01/01", "at_to": "2026/01/01"}, {"update"}),  # as the date picker writes it
        ({"at_to": "2025-12-31", "actor": "cadre"}, set()),
        ({"object": "HYPERLINK"}, {"other"}),
    ],
)
def test_list_filters(trail, login, query, expected):
    response = login("auditor").get(LIST + "?" + urlencode(query))
    assert response.status_code == 200
    assert _listed_ids(response) == {str(trail[name].id) for name in expected}


def test_list_org_filter_outside_the_subtree_reads_like_a_missing_one(trail, login, actors, tree):
    client = login("district_auditor")
    for code in ("SZ-WZ", "NO-SUCH"):
        response = client.get(LIST + "?" + urlencode({"org": code}), follow=True)
        assert [str(m) for m in response.context["messages"]] == [
            f"没有代码为“{code}”的组织，或该组织不在您的管辖范围内"
        ]
    with pytest.raises(NotFound):
        audit_event_list(actor=actors["district_auditor"], filters=AuditFilters(org_path=tree["SZ-WZ"].path))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"at_from": "2026-13-01"}, "开始日期“2026-13-01”不是有效的日期，请按 YYYY-MM-DD 填写"),
        ({"at_from": "2026-01-02", "at_to": "2026-01-01"}, "结束日期不能早于开始日期"),
    ],
)
def test_list_explains_a_filter_it_cannot_use(trail, login, query, message):
    response = login("auditor").get(LIST + "?" + urlencode(query), follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert [str(m) for m in response.context["messages"]] == [message]


def test_list_refuses_lookups_of_its_own_choosing(trail, login):
    response = login("auditor").get(LIST + "?actor_org_path__startswith=0001")
    assert response.status_code == 400


# ---------------------------------------------------------------- export


def _rows(content: bytes) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()


def _snapshot():
    return list(AuditEvent.objects.order_by("at", "id").values_list("id", flat=True))


HEADINGS = [
    "时间",
    "操作",
    "结果",
    "操作者",
    "操作者类型",
    "角色",
    "操作者所属组织",
    "IP 地址",
    "对象类型",
    "对象",
    "对象编号",
    "对象所属组织",
    "详情",
    "事件编号",
]


def test_export_holds_the_filtered_rows_and_is_audited(trail, login, tree, accounts):
    query = {"action__exact": "org.update", "org": "SZ-GS", "at_from": "2026-01-01", "at_to": "2026-01-31"}
    with time_machine.travel(datetime(2026, 2, 1, 16, 5, tzinfo=UTC), tick=False):
        response = login("auditor").post(EXPORT + "?" + urlencode(query))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == (
        "attachment; filename*=UTF-8''%E5%AE%A1%E8%AE%A1%E6%97%A5%E5%BF%97_20260202000500.xlsx"
    )
    rows = _rows(response.content)
    update = trail["update"]
    assert rows[0][0] == "审计日志导出"
    assert rows[1][0] == (
        "筛选条件：时间：2026-01-01 至 2026-01-31；操作：修改组织信息；组织：苏州市总工会 › 姑苏区总工会（含下级）"
    )
    assert rows[2][0] == "导出人：auditor；导出时间：2026-02-02 00:05:00；共 1 条"
    assert rows[3] == HEADINGS
    assert rows[4:] == [
        [
            "2026-01-01 07:30:00",
            "修改组织信息",
            "成功",
            "张伟（town_cadre）",
            "后台账号",
            "上级工会干部",
            "苏州市总工会 › 姑苏区总工会 › 双塔街道总工会",
            "127.0.0.1",
            "组织",
            "竹辉社区工会（SZ-GS-T01-C1）",
            str(tree["SZ-GS-T01-C1"].id),
            "苏州市总工会 › 姑苏区总工会 › 双塔街道总工会 › 竹辉社区工会",
            "变更内容：联系人：— → 王红",
            str(update.id),
        ]
    ]
    export = AuditEvent.objects.get(action="audit.export")
    assert (export.actor_label, export.actor_role, export.object_type, export.object_label) == (
        "auditor",
        "audit_admin",
        "audit_trail",
        "审计日志 1 条",
    )
    assert export.object_org_path == tree["SZ-GS"].path
    assert export.details == {
        "filters": {
            "start": "2026-01-01",
            "end": "2026-01-31",
            "action": "org.update",
            "org": str(tree["SZ-GS"].id),
        },
        "rows": 1,
    }
    # The export's own page reads in the same words.
    page = _text(login("auditor").get(f"{LIST}{export.id}/change/"))
    assert (
        "<dt>筛选条件</dt><dd>开始日期：2026-01-01；截止日期：2026-01-31；操作：修改组织信息；"
        "组织：苏州市总工会 › 姑苏区总工会</dd>"
    ) in page
    assert "<dt>行数</dt><dd>1</dd>" in page


def test_export_keeps_text_as_text(trail, login):
    response = login("auditor").post(EXPORT + "?" + urlencode({"org": "SZ-WZ", "actor": "cadre"}))

    rows = _rows(response.content)
    assert [row[9] for row in rows[4:]] == ['=HYPERLINK("http://x","点此")']
    with zipfile.ZipFile(io.BytesIO(response.content)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet


def test_export_is_scoped_to_the_auditors_subtree(trail, login):
    response = login("district_auditor").post(EXPORT + "?" + urlencode({"action__exact": "org.update"}))

    assert [row[13] for row in _rows(response.content)[4:]] == [str(trail["update"].id)]


@pytest.mark.parametrize("username", ["sysadmin", "secadmin", "city_cadre", "grassroots_cadre"])
def test_export_is_refused_to_who_may_not_read_the_trail(trail, login, actors, username):
    before = _snapshot()

    response = login(username).post(EXPORT + "?" + urlencode({"action__exact": "org.update"}))

    assert response.status_code == 403
    assert _snapshot() == before
    with pytest.raises(PermissionDenied):
        services.audit_trail_export(actor=actors[username], filters=AuditFilters(), org_names_for=lambda _: OrgNames())
    assert _snapshot() == before


def test_export_past_the_cap_is_refused_and_records_nothing(trail, login, monkeypatch):
    monkeypatch.setattr(services, "AUDIT_EXPORT_MAX_ROWS", 2)
    before = _snapshot()
    query = urlencode({"actor": "cadre"})

    response = login("auditor").post(f"{EXPORT}?{query}", follow=True)

    assert response.redirect_chain == [(f"{LIST}?{query}", 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "筛选出的审计日志共 3 条，超过单次导出上限 2 条，请缩短时间范围或增加筛选条件后再导出"
    ]
    assert _listed_ids(response) == {str(event.id) for event in trail.values()}  # the list keeps its filters
    assert _snapshot() == before


def test_export_answers_only_post(trail, login):
    before = _snapshot()
    assert login("auditor").get(EXPORT).status_code == 405
    assert _snapshot() == before
