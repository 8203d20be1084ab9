"""Organisation-tree import (组织架构导入): creating a subtree whose children come before their parents in the file,
GBK CSV, updates and unchanged re-imports."""

from datetime import date

import pytest

from gonghui.audit.models import AuditEvent
from gonghui.orgs.models import Organisation, OrgLevel, OrgStatus, OrgType
from tests.imports.org_import_factories import (
    GOOD_USCC,
    HEAD,
    SUBTREE,
    csv_bytes,
    outcomes,
    parent_code,
    run,
    state,
    tree_is_sound,
    xlsx_bytes,
)


def test_creates_a_subtree_listed_children_first_from_an_xlsx_with_a_title_row(tree, actors):
    before_orgs, before_events = state()

    result = run(actors["district_cadre"], xlsx_bytes(SUBTREE))

    assert outcomes(result) == {
        3: ("added", ""),
        4: ("added", ""),
        6: ("added", ""),
        7: ("added", ""),
        8: ("added", ""),
    }
    assert [row.code for row in result.rows] == [
        "SZ-GS-T03-E1", "SZ-GS-T03-C1", "SZ-GS-T03-C1-J1", "SZ-GS-T03", "SZ-GS-T01-E9",
    ]  # fmt: skip
    assert result.summary == {"rows": 5, "added": 5, "updated": 0, "unchanged": 0, "error": 0}
    assert (result.written, result.dry_run, result.has_errors) == (True, False, False)
    assert result.message == "导入完成：共5行：新增5行，更新0行，无变化0行"
    assert (result.unknown_columns, result.ignored_columns) == ([], [])
    assert Organisation.objects.count() == len(before_orgs) + 5
    assert {code: parent_code(code) for code in [row.code for row in result.rows]} == {
        "SZ-GS-T03-E1": "SZ-GS-T03",
        "SZ-GS-T03-C1": "SZ-GS-T03",
        "SZ-GS-T03-C1-J1": "SZ-GS-T03-C1",
        "SZ-GS-T03": "SZ-GS",
        "SZ-GS-T01-E9": "SZ-GS-T01",
    }
    town = Organisation.objects.get(code="SZ-GS-T03")
    assert (town.name, town.org_type, town.level, town.region_code, town.numchild, town.depth) == (
        "金阊街道总工会", OrgType.TOWN, OrgLevel.TOWN, "320508", 2, 3,
    )  # fmt: skip
    joint = Organisation.objects.get(code="SZ-GS-T03-C1-J1")
    assert (joint.org_type, joint.level, joint.status, joint.uscc, joint.contact_phone) == (
        OrgType.JOINT_GRASSROOTS, OrgLevel.GRASSROOTS, OrgStatus.ACTIVE, None, "",
    )  # fmt: skip
    assert tree_is_sound()
    assert AuditEvent.objects.count() == before_events + 6
    events = AuditEvent.objects.filter(actor_label="district_cadre")
    assert sorted(events.filter(action="org.create").values_list("object_label", flat=True)) == sorted(
        f"{row.name}（{row.code}）" for row in result.rows
    )
    job = AuditEvent.objects.get(action="org.import")
    assert (job.actor_label, job.object_type, job.object_id) == (
        "district_cadre",
        "organisation",
        str(tree["SZ-GS"].id),
    )
    assert (job.object_label, job.object_org_path) == ("姑苏区总工会（SZ-GS）", tree["SZ-GS"].path)
    assert job.details == {"file": "组织架构.xlsx", "rows": 5, "added": 5, "updated": 0, "unchanged": 0, "error": 0}


def test_gbk_csv_with_every_column(tree, actors):
    rows = [
        ["苏州市相城区工会组织架构（2026年）"],
        ["序号", "名称", "工会代码", "类型", "上级工会代码", "区划代码", "统一社会信用代码", "成立时间", "届满日期",
         "地址", "联系人", "联系电话", "备注"],
        ["1", "相城区总工会", "SZ-XC", "县级（市、区）总工会", "SZ", "320507", GOOD_USCC.lower(), "2021/3/8",
         "2026年3月7日", "相城区阳澄湖东路１号", "周敏", "139 1234 5678", "新建"],
        ["2", "相城经济技术开发区总工会", "SZ-XC-P1", "开发区/园区总工会", "SZ-XC", "320507", "", "20220105", "",
         "", "", "0512-65241234", ""],
    ]  # fmt: skip
    content = csv_bytes(rows, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")

    result = run(actors["city_cadre"], content, "相城区.csv")

    assert outcomes(result) == {3: ("added", ""), 4: ("added", "")}
    assert result.unknown_columns == ["备注"]
    assert result.ignored_columns == ["序号"]
    county = Organisation.objects.get(code="SZ-XC")
    assert (county.name, county.org_type, county.level, county.region_code, county.uscc) == (
        "相城区总工会", OrgType.COUNTY, OrgLevel.COUNTY, "320507", GOOD_USCC,
    )  # fmt: skip
    assert (county.founded_on, county.term_ends_on) == (date(2021, 3, 8), date(2026, 3, 7))
    assert (county.address, county.contact_person, county.contact_phone) == (
        "相城区阳澄湖东路1号",
        "周敏",
        "13912345678",
    )
    park = Organisation.objects.get(code="SZ-XC-P1")
    assert (park.org_type, park.level, park.founded_on, park.term_ends_on, park.contact_phone) == (
        OrgType.PARK, OrgLevel.TOWN, date(2022, 1, 5), None, "051265241234",
    )  # fmt: skip
    assert parent_code("SZ-XC") == "SZ" and parent_code("SZ-XC-P1") == "SZ-XC"
    assert tree_is_sound()


# ---------------------------------------------------------------------------------------------------------------
# Updating


def test_updates_changed_fields_only_and_reports_unchanged_rows(tree, actors):
    rows = [
        [*HEAD, "联系人", "联系电话"],
        ["双塔街道总工会委员会", "SZ-GS-T01", "", "", "", "李明", ""],
        ["", "SZ-GS-T01-12", "联合基层工会", "SZ-GS-T01", "", "", ""],
        ["沧浪街道总工会", "SZ-GS-T02", "镇(街道)总工会", "SZ-GS", "320508", "", ""],
        ["", "SZ-GS-T02-E1", "", "", "", "", "0512-6524 1234"],
    ]
    untouched = Organisation.objects.get(code="SZ-GS-T02").updated_at

    result = run(actors["district_cadre"], xlsx_bytes(rows), "更新.xlsx")

    assert outcomes(result) == {
        3: ("updated", "变更：组织名称、联系人"),
        4: ("updated", "变更：组织类型"),
        5: ("unchanged", "资料无变化"),
        6: ("updated", "变更：联系电话"),
    }
    assert [row.name for row in result.rows] == [
        "双塔街道总工会委员会", "十二号公司工会委员会", "沧浪街道总工会", "沧浪精工有限公司工会委员会",
    ]  # fmt: skip
    t01 = Organisation.objects.get(code="SZ-GS-T01")
    assert (t01.name, t01.contact_person, t01.org_type, t01.region_code) == (
        "双塔街道总工会委员会", "李明", OrgType.TOWN, "320508",
    )  # fmt: skip
    union = Organisation.objects.get(code="SZ-GS-T01-12")
    assert (union.org_type, union.level, union.name) == (
        OrgType.JOINT_GRASSROOTS,
        OrgLevel.GRASSROOTS,
        "十二号公司工会委员会",
    )
    assert Organisation.objects.get(code="SZ-GS-T02-E1").contact_phone == "051265241234"
    assert Organisation.objects.get(code="SZ-GS-T02").updated_at == untouched
    update = AuditEvent.objects.get(action="org.update", object_id=str(t01.id))
    assert update.details == {
        "changes": {"name": ["双塔街道总工会", "双塔街道总工会委员会"], "contact_person": ["", "李明"]}
    }
    phone = AuditEvent.objects.get(action="org.update", object_id=str(tree["SZ-GS-T02-E1"].id))
    assert phone.details == {"changes": {"contact_phone": ["", "0512****1234"]}}
    assert AuditEvent.objects.filter(action="org.update").count() == 3
    assert AuditEvent.objects.get(action="org.import").details == {
        "file": "更新.xlsx", "rows": 4, "added": 0, "updated": 3, "unchanged": 1, "error": 0,
    }  # fmt: skip


def test_reimporting_the_same_file_changes_nothing(tree, actors):
    content = xlsx_bytes(SUBTREE)
    run(actors["district_cadre"], content)
    orgs_after_first, events_after_first = state()

    second = run(actors["district_cadre"], content)

    assert second.summary == {"rows": 5, "added": 0, "updated": 0, "unchanged": 5, "error": 0}
    assert {status for status, _reason in outcomes(second).values()} == {"unchanged"}
    assert second.message == "导入完成：共5行：新增0行，更新0行，无变化5行。本次导入没有产生任何变更"
    orgs, events = state()
    assert orgs == orgs_after_first  # not even updated_at moved
    assert events == events_after_first + 1
    assert AuditEvent.objects.filter(action="org.import").order_by("at").last().details == {
        "file": "组织架构.xlsx", "rows": 5, "added": 0, "updated": 0, "unchanged": 5, "error": 0,
    }  # fmt: skip


def test_type_changes_are_applied_in_an_order_each_update_accepts(tree, actors):
    # The town becomes a community-level union, so its community union must become a grassroots one: applied
    # top-down, org_update would refuse the town (its child would sit at its own level). Listed parent first.
    rows = [
        HEAD,
        ["", "SZ-GS-T01", "区域工会联合会", "", ""],
        ["", "SZ-GS-T01-C1", "联合基层工会", "", ""],
        ["", "SZ-GS-T02-E1", "村(社区)工会", "SZ-GS-T02", ""],
    ]

    result = run(actors["district_cadre"], xlsx_bytes(rows))

    assert outcomes(result) == {
        3: ("updated", "变更：组织类型"),
        4: ("updated", "变更：组织类型"),
        5: ("updated", "变更：组织类型"),
    }
    levels = dict(
        Organisation.objects.filter(code__in=["SZ-GS-T01", "SZ-GS-T01-C1", "SZ-GS-T02-E1"]).values_list("code", "level")
    )
    assert levels == {
        "SZ-GS-T01": OrgLevel.COMMUNITY,
        "SZ-GS-T01-C1": OrgLevel.GRASSROOTS,
        "SZ-GS-T02-E1": OrgLevel.COMMUNITY,
    }
