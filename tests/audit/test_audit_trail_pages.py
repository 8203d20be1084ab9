"""The audit trail in the back office: labels, organisations by their path of names, details as labelled rows and every
time in Beijing time; the list's filters and its export for an inspection select the same rows, the export is itself
audited, bounded, and refused to anyone who may not read the trail."""

import io
import re
import zipfile
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
import time_machine
from python_calamine import CalamineWorkbook

from gonghui.audit import services
from gonghui.audit.labels import OrgNames
from gonghui.audit.models import AuditEvent
from gonghui.audit.selectors import AuditFilters, audit_event_list
from gonghui.audit.services import audit_record
from gonghui.common.errors import NotFound, PermissionDenied
from gonghui.orgs.services import org_update

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
