"""导出 Excel on the back-office lists: the rows the list shows under its filters, search and ordering (every page),
scoped by the actor's subtree, personal numbers masked as on screen, one audit event with the filters and the row
count, refused above the row cap, and nothing written by a GET."""

import io
from datetime import date

import pytest
from python_calamine import CalamineWorkbook

from gonghui.audit.models import AuditEvent
from gonghui.backoffice.admin.members import MembershipAdmin
from gonghui.members.quality import rectification_list
from gonghui.members.services import join_application_submit
from tests.members.factories import COMPLETE_PROFILE, enrol, resident_id

MEMBERS = "/admin/members/membership/"


def sheet(response) -> list[list]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()


def exports():
    return list(AuditEvent.objects.filter(action="list.export").order_by("at"))


@pytest.fixture
def roster(tree, actors):
    town = actors["town_cadre"]
    e12, e123 = tree["SZ-GS-T01-12"], tree["SZ-GS-T01-123"]
    return {
        "wang": enrol(town, e12, name="王小明", seq=11, phone="13800001234", employment_form="standard"),
        "li": enrol(town, e12, name="李华", seq=12, employment_form="courier"),
        "zhao": enrol(town, e123, name="赵敏", seq=14, employment_form="standard"),
        "far": enrol(actors["other_district_cadre"], tree["SZ-WZ-T01-E1"], name="钱远", seq=16),
    }


def test_member_list_export_is_the_filtered_roster_masked(roster, login):
    client = login("town_cadre")
    page = client.get(MEMBERS + "?person__employment_form__exact=standard&o=0")
    assert page.status_code == 200
    assert 'href="/admin/members/membership/export/?person__employment_form__exact=standard&amp;o=0"' in page.text

    confirm = client.get(MEMBERS + "export/?person__employment_form__exact=standard&o=0")
    assert confirm.status_code == 200
    assert "就业形态：标准劳动关系" in confirm.text
    assert "2 条" in confirm.text
    assert exports() == []  # the GET wrote nothing

    rows = sheet(client.post(MEMBERS + "export/?person__employment_form__exact=standard&o=0"))
    header = rows[2]
    data = [row for row in rows[3:] if row and isinstance(row[0], float)]
    names = [row[header.index("姓名")] for row in data]
    assert names == ["王小明", "赵敏"]  # ordered by name as the list (o=0), the other district's member absent
    wang = data[0]
    assert wang[header.index("证件号码")] == roster["wang"].person.doc_masked
    assert "*" in wang[header.index("证件号码")]
    assert wang[header.index("手机号码")] == "138****1234"
    [event] = exports()
    assert event.object_type == "membership"
    assert event.details["rows"] == 2
    assert event.details["filters"] == {"person__employment_form__exact": "standard", "o": "0"}
    assert event.details["list"] == "会员名册"
    assert event.actor_label == "town_cadre"


def test_member_list_export_search_and_scope(roster, login):
    client = login("grassroots_cadre")  # 十二号 only: 赵敏 of 一二三 is outside
    rows = sheet(client.post(MEMBERS + "export/"))
    names = sorted(row[1] for row in rows[3:] if row and isinstance(row[0], float))
    assert names == ["李华", "王小明"]
    rows = sheet(client.post(MEMBERS + "export/?q=李"))
    assert [row[1] for row in rows[3:] if row and isinstance(row[0], float)] == ["李华"]
    assert [e.details["rows"] for e in exports()] == [2, 1]
    assert exports()[1].details["conditions"] == "搜索：李"


def test_export_above_the_cap_is_refused_in_chinese_and_writes_nothing(roster, login, monkeypatch):
    monkeypatch.setattr(MembershipAdmin, "export_max_rows", 2)
    client = login("town_cadre")
    confirm = client.get(MEMBERS + "export/")
    assert "超过 2 条" in confirm.text
    assert "超出单次导出上限" in confirm.text
    assert "确认导出" not in confirm.text
    response = client.post(MEMBERS + "export/", follow=True)
    assert response["Content-Type"].startswith("text/html")
    assert "当前筛选结果超过 2 条，超出单次导出上限" in response.text
    assert exports() == []


def test_export_needs_the_export_permission(roster, login):
    # The audit administrator sees no roster at all; the security administrator sees organisations but may not export.
    assert login("auditor").post(MEMBERS + "export/").status_code in (403, 404)
    response = login("secadmin").post("/admin/orgs/organisation/export/")
    assert response.status_code == 403
    assert exports() == []


def test_org_list_export_is_the_filtered_subtree_roster(tree, login):
    client = login("district_cadre")
    rows = sheet(client.post("/admin/orgs/organisation/export/"))
    codes = [row[2] for row in rows[3:] if row and isinstance(row[0], float)]
    assert codes == [
        "SZ-GS",
        "SZ-GS-T01",
        "SZ-GS-T01-C1",
        "SZ-GS-T01-12",
        "SZ-GS-T01-123",
        "SZ-GS-T02",
        "SZ-GS-T02-E1",
    ]
    rows = sheet(client.post("/admin/orgs/organisation/export/?org_type__exact=grassroots"))
    data = [row for row in rows[3:] if row and isinstance(row[0], float)]
    assert [row[2] for row in data] == ["SZ-GS-T01-12", "SZ-GS-T01-123", "SZ-GS-T02-E1"]
    assert [row[6] for row in data] == ["SZ-GS-T01", "SZ-GS-T01", "SZ-GS-T02"]  # 上级组织代码
    assert exports()[-1].details["rows"] == 3


def test_join_application_list_export_generic_columns(tree, actors, login):
    join_application_submit(
        actor=actors["town_cadre"],
        org=tree["SZ-GS-T01-12"],
        doc_type="resident_id",
        doc_number=resident_id(date(1992, 3, 4), 21),
        name="孙丽",
        **COMPLETE_PROFILE,
    )
    rows = sheet(login("town_cadre").post("/admin/members/joinapplication/export/?status__exact=pending"))
    assert rows[0][0] == "入会申请"
    assert "筛选条件：状态：待审核" in rows[1][0]
    assert rows[2][:5] == ["序号", "申请人", "证件号码", "申请加入", "状态"]
    assert rows[3][1] == "孙丽"
    assert rows[3][2].startswith("3205") and "*" in rows[3][2]
    assert rows[3][3] == "十二号公司工会委员会"
    assert rows[3][4] == "待审核"


@pytest.mark.parametrize(
    ("username", "url"),
    [
        ("district_cadre", "/admin/orgs/employer/export/"),
        ("district_cadre", "/admin/members/transferrequest/export/"),
        ("district_cadre", "/admin/members/correctionrequest/export/"),
        ("district_cadre", "/admin/members/declaredtotal/export/"),
        ("district_cadre", "/admin/stations/station/export/"),
        ("sysadmin", "/admin/accounts/user/export/"),
        ("sysadmin", "/admin/accounts/apitoken/export/"),
    ],
)
def test_every_list_exports(username, url, tree, login):
    client = login(username)
    assert client.get(url).status_code == 200
    rows = sheet(client.post(url))
    assert rows[2][0] == "序号"
    assert exports()[-1].details["rows"] == len([row for row in rows[3:] if row and isinstance(row[0], float)])


def test_rectification_list_export_masked_scoped_and_audited(roster, tree, actors, login):
    incomplete = enrol(actors["town_cadre"], tree["SZ-GS-T01-123"], name="孔缺", seq=18, work_unit="")
    org = tree["SZ-GS-T01"]
    client = login("town_cadre")
    assert "导出整改清单（Excel）" in client.get(f"/admin/registry/quality/?org={org.id}").text
    assert client.get("/admin/registry/quality/export/").status_code == 405
    rows = sheet(client.post("/admin/registry/quality/export/", {"org": str(org.id)}))
    assert rows[0][0] == "双塔街道总工会数据整改清单"
    assert rows[2][:8] == ["序号", "姓名", "证件号码", "手机号码", "所在工会", "工会代码", "会员卡号", "问题"]
    data = [row for row in rows[3:] if row and isinstance(row[0], float)]
    expected = rectification_list(actor=actors["town_cadre"], org=org)
    assert [row[1] for row in data] == [item.membership.person.name for item in expected]
    assert [row[7] for row in data] == ["；".join(item.problems) for item in expected]
    assert "钱远" not in [row[1] for row in data]  # another district's member
    [kong] = [row for row in data if row[1] == "孔缺"]
    assert kong[2] == incomplete.person.doc_masked
    assert kong[6] == incomplete.card_number
    assert "必填" in kong[7]
    [event] = exports()
    assert (event.details["list"], event.details["rows"]) == ("数据整改清单", len(expected))

    outsider = login("other_district_cadre")
    assert outsider.post("/admin/registry/quality/export/", {"org": str(org.id)}).status_code == 404
    assert len(exports()) == 1
