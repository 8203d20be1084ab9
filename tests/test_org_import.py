"""Organisation-tree import (组织架构导入): creating a subtree whose children come before their parents in the file,
GBK CSV, updates and unchanged re-imports, every kind of row error (and that an error anywhere writes nothing), dry
runs, scope, the export → import round trip, the command, and the back-office page and template.

Row numbers are those a spreadsheet user sees: title and header rows counted, blank lines counted.
"""

import csv
import io
import json
import re
import zipfile
from datetime import date

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from python_calamine import CalamineWorkbook

from gonghui.audit.models import AuditEvent
from gonghui.common.errors import PermissionDenied, ValidationFailed
from gonghui.common.sheets import SheetUnreadable, cell_text, read_table
from gonghui.imports.orgs import ORG_COLUMNS, org_tree_import
from gonghui.imports.orgs import write as imports
from gonghui.orgs.models import Organisation, OrgLevel, OrgStatus, OrgType
from gonghui.orgs.services import org_dissolve, org_update
from gonghui.orgs.tasks import org_roster_export_request
from tests.conftest import valid_uscc

HEAD = ["组织名称", "组织代码", "组织类型", "上级组织代码", "行政区划代码"]
FULL_HEAD = [*HEAD, "统一社会信用代码", "联系人", "联系电话"]
TITLE = "姑苏区工会组织架构表"
NOT_FOUND = "上级组织代码 {} 不存在或不在您的管辖范围内"
NOT_MINE = "组织代码 {} 已被使用，该组织不在您的管辖范围内，不能导入"
BAD_TYPE = "请选择有效的组织类型（“{}”不在可选范围内，请按模板的下拉选项填写）"
BAD_USCC = "统一社会信用代码校验位不正确，请核对后重新输入"
BAD_PHONE = "联系电话不是有效的中国大陆号码，应为11位手机号或带区号的固定电话"
MOVE = "上级组织代码与该组织现在的上级（{}）不一致：导入不能调整隶属关系，请在“工会组织”中使用“移动到新上级”"
TOWN_UNDER_TOWN = "镇(街道)总工会不能设在镇(街道)总工会“{}”之下（下级组织的层级必须低于上级）"
HELD_USCC = valid_uscc("91320506MA1W0008B")
GOOD_USCC = valid_uscc("91320508MA1W0009C")


# ---------------------------------------------------------------------------------------------------------------
# Helpers


def xlsx_bytes(rows: list[list], *, title: str | None = TITLE) -> bytes:
    """A workbook whose first sheet holds an optional title row, then `rows` (header first); None is a blank row."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("组织架构")
    offset = 0
    if title:
        sheet.write(0, 0, title)
        offset = 1
    for index, row in enumerate(rows):
        for col, value in enumerate(row or []):
            if value not in ("", None):
                sheet.write_string(index + offset, col, str(value))
    book.close()
    return buffer.getvalue()


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def run(actor, content: bytes, filename: str = "组织架构.xlsx", *, dry_run: bool = False):
    return org_tree_import(actor=actor, data=content, filename=filename, dry_run=dry_run)


def outcomes(result) -> dict[int, tuple[str, str]]:
    return {row.line: (row.status, row.reason) for row in result.rows}


def state() -> tuple[list[tuple], int]:
    """Every organisation as stored, and the number of audit events: an import that must write nothing leaves both."""
    orgs = Organisation.objects.order_by("path").values_list(
        "path", "numchild", "code", "name", "org_type", "level", "region_code", "uscc", "founded_on",
        "term_ends_on", "status", "address", "contact_person", "contact_phone", "updated_at",
    )  # fmt: skip
    return list(orgs), AuditEvent.objects.count()


def parent_code(code: str) -> str:
    org = Organisation.objects.get(code=code)
    return Organisation.objects.get_parent(org).code


def tree_is_sound() -> bool:
    """treebeard's own consistency check: paths, depths and child counts all agree."""
    return all(not problem for problem in Organisation.objects.find_problems())


# ---------------------------------------------------------------------------------------------------------------
# Creating


SUBTREE = [
    HEAD,
    ["金阊精密机械有限公司工会委员会", "SZ-GS-T03-E1", "独立基层工会", "SZ-GS-T03", "320508"],
    ["金阊社区工会", "SZ-GS-T03-C1", "村(社区)工会", "SZ-GS-T03", "320508"],
    None,
    ["金阊社区第一联合工会", "SZ-GS-T03-C1-J1", "联合基层工会", "sz-gs-t03-c1", "320508"],
    ["金阊街道总工会", "SZ-GS-T03", "镇（街道）总工会", "SZ-GS", "320508"],
    ["竹辉二号公司工会委员会", "SZ-GS-T01-E9", "独立基层工会", "SZ-GS-T01", "320508"],
]


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


# ---------------------------------------------------------------------------------------------------------------
# Errors: all or nothing


def test_every_kind_of_row_error_is_reported_and_nothing_is_written(tree, actors, system):
    org_update(actor=system, org=tree["SZ-WZ-T01-E1"], uscc=HELD_USCC)
    bad_uscc = GOOD_USCC[:-1] + ("0" if GOOD_USCC[-1] != "0" else "1")
    rows = [
        FULL_HEAD,
        ["新街道总工会", "SZ-GS-T09", "镇(街道)总工会", "SZ-GS", "320508", "", "", ""],  # 3 fine
        ["甲工会", "SZ-GS-T09-A", "区工会", "SZ-GS-T09", "320508", "", "", ""],  # 4 bad type
        ["乙工会", "SZ-GS-T09-B", "独立基层工会", "SZ-GS-NOPE", "320508", "", "", ""],  # 5 missing parent
        ["丙工会", "SZ-GS-T09-C", "独立基层工会", "SZ-WZ-T01", "320506", "", "", ""],  # 6 parent outside scope
        ["木渎光电有限公司工会委员会", "SZ-WZ-T01-E1", "独立基层工会", "SZ-WZ-T01", "320506", "", "", ""],  # 7
        ["丁工会", "SZ-GS-T09-D", "独立基层工会", "SZ-GS-T09", "320508", "", "", ""],  # 8 duplicate code
        ["戊工会", "SZ-GS-T09-E", "独立基层工会", "SZ-GS-T09", "320508", bad_uscc, "", ""],  # 9 bad USCC
        ["己工会", "SZ-GS-T09-F", "独立基层工会", "SZ-GS-T09", "999999", "", "", ""],  # 10 bad region
        ["庚工会", "SZ-GS-T09-G", "独立基层工会", "SZ-GS-T09", "320508", "", "", "12345"],  # 11 bad phone
        ["辛工会", "SZ-GS-X1", "镇(街道)总工会", "SZ-GS-X2", "320508", "", "", ""],  # 12 cycle
        ["壬工会", "SZ-GS-X2", "镇(街道)总工会", "SZ-GS-X1", "320508", "", "", ""],  # 13 cycle
        ["癸总工会", "SZ-GS-T09-H", "镇(街道)总工会", "SZ-GS-T09", "320508", "", "", ""],  # 14 placement
        ["丁工会二", "SZ-GS-T09-D", "独立基层工会", "SZ-GS-T09", "320508", "", "", ""],  # 15 duplicate code
        ["子工会", "SZ-GS-T01-12-X", "独立基层工会", "SZ-GS-T01-12", "320508", "", "", ""],  # 16 under grassroots
        ["竹辉社区工会", "SZ-GS-T01-C1", "村(社区)工会", "SZ-GS-T02", "320508", "", "", ""],  # 17 a move
        ["丑工会", "SZ-GS-T09-I", "", "SZ-GS-T09", "", "", "", ""],  # 18 required cells missing
        ["寅工会", "A", "独立基层工会", "SZ-GS-T09", "320508", "", "", ""],  # 19 bad code
        ["卯工会", "SZ-GS-T09-J", "独立基层工会", "SZ-GS-T09", "320508", HELD_USCC, "", ""],  # 20 USCC in use
        ["辰工会", "SZ-GS-T09-A1", "独立基层工会", "SZ-GS-T09-A", "320508", "", "", ""],  # 21 parent's type bad
        ["姑苏区总工会", "SZ-GS", "市总工会", "", "", "", "", ""],  # 22 own organisation's type
        ["巳工会", "SZ-GS-T09-K", "独立基层工会", "", "320508", "", "", ""],  # 23 no parent for a new one
    ]
    before = state()

    result = run(actors["district_cadre"], xlsx_bytes(rows))

    cycle = "第12、13行的上级组织代码形成循环：SZ-GS-X1 → SZ-GS-X2 → SZ-GS-X1"
    assert outcomes(result) == {
        3: ("added", ""),
        4: ("error", BAD_TYPE.format("区工会")),
        5: ("error", NOT_FOUND.format("SZ-GS-NOPE")),
        6: ("error", NOT_FOUND.format("SZ-WZ-T01")),
        7: ("error", NOT_MINE.format("SZ-WZ-T01-E1")),
        8: ("error", "第8、15行组织代码重复"),
        9: ("error", BAD_USCC),
        10: ("error", "行政区划代码 999999 不存在或已撤销"),
        11: ("error", BAD_PHONE),
        12: ("error", cycle),
        13: ("error", cycle),
        14: ("error", TOWN_UNDER_TOWN.format("新街道总工会")),
        15: ("error", "第8、15行组织代码重复"),
        16: ("error", "基层工会之下不能再设工会组织"),
        17: ("error", MOVE.format("SZ-GS-T01")),
        18: ("error", "新建组织须填写组织类型；新建组织须填写行政区划代码"),
        19: ("error", "组织代码只能由 2-32 位大写字母、数字、“-”和“_”组成，且以字母或数字开头"),
        20: ("error", "该统一社会信用代码已登记在其他工会组织"),
        21: ("error", "上级组织 SZ-GS-T09-A（第4行）的组织类型有误，无法检查本行"),
        22: ("error", "变更组织类型须由上级工会办理"),
        23: ("error", "新建组织须填写上级组织代码"),
    }
    assert result.summary == {"rows": 21, "added": 1, "updated": 0, "unchanged": 0, "error": 20}
    assert result.written is False
    assert (
        result.message == "共21行：新增1行，更新0行，无变化0行，有错误20行。未写入任何数据：请按各行说明修改后重新上传"
    )
    assert [row.line for row in result.rows_errors_first] == [*range(4, 24), 3]
    assert state() == before


BASE_ROWS = [
    ["新街道总工会", "SZ-GS-T09", "镇(街道)总工会", "SZ-GS", "320508", "", "", ""],
    ["新街道一号公司工会", "SZ-GS-T09-E1", "独立基层工会", "SZ-GS-T09", "320508", "", "", ""],
]


@pytest.mark.parametrize(
    ("bad_row", "reason"),
    [
        (["甲", "SZ-GS-T09-A", "基层", "SZ-GS-T09", "320508", "", "", ""], BAD_TYPE.format("基层")),
        (["乙", "SZ-GS-T09-B", "独立基层工会", "SZ-GS-T99", "320508", "", "", ""], NOT_FOUND.format("SZ-GS-T99")),
        (["丙", "SZ-GS-T09-C", "独立基层工会", "SZ", "320508", "", "", ""], NOT_FOUND.format("SZ")),
        (["丁", "SZ-WZ", "县级(市、区)总工会", "SZ", "320506", "", "", ""], NOT_MINE.format("SZ-WZ")),
        (
            ["戊", "SZ-GS-T09-E", "独立基层工会", "SZ-GS-T09", "320508", "91320508MA1W0009", "", ""],
            "统一社会信用代码应为18位，实际为16位",
        ),
        (
            ["己", "SZ-GS-T09-F", "独立基层工会", "SZ-GS-T09", "32050", "", "", ""],
            "行政区划代码应为6位数字（GB/T 2260）",
        ),
        (
            ["庚", "SZ-GS-T09-G", "独立基层工会", "SZ-GS-T09", "320508", "", "", "abc"],
            "联系电话格式不正确，应为11位手机号或带区号的固定电话",
        ),
        (
            ["辛", "SZ-GS-T09-H", "独立基层工会", "SZ-GS-T09-H", "320508", "", "", ""],
            "第5行的上级组织代码形成循环：SZ-GS-T09-H → SZ-GS-T09-H",
        ),
        (
            ["壬", "SZ-GS-T09-I", "县级(市、区)总工会", "SZ-GS-T09", "320508", "", "", ""],
            "县级(市、区)总工会不能设在镇(街道)总工会“新街道总工会”之下（下级组织的层级必须低于上级）",
        ),
        (
            ["癸", "SZ-GS-T09-J", "独立基层工会", "SZ-GS-T09", "320508", "", "", "138****5678"],
            "联系电话是打码的号码（含“*”），请填写完整号码或留空",
        ),
        (
            ["子", "SZ-GS-T09-K", "独立基层工会", "SZ-GS-T09", "320508", "", "", ""] + ["多出的内容"],
            "本行在没有表头的列中填了内容，请核对是否错列",
        ),
        (["", "SZ-GS-T09-L", "独立基层工会", "SZ-GS-T09", "320508", "", "", ""], "组织名称不能为空"),
    ],
)
def test_one_bad_row_stops_the_whole_file(tree, actors, bad_row, reason):
    before = state()

    result = run(actors["district_cadre"], xlsx_bytes([FULL_HEAD, *BASE_ROWS, bad_row]))

    assert outcomes(result) == {3: ("added", ""), 4: ("added", ""), 5: ("error", reason)}
    assert result.written is False
    assert state() == before


def test_uscc_repeated_in_the_file_and_parent_code_repeated(tree, actors):
    rows = [
        FULL_HEAD,
        ["新街道总工会", "SZ-GS-T09", "镇(街道)总工会", "SZ-GS", "320508", GOOD_USCC, "", ""],
        ["新社区工会", "SZ-GS-T09-C1", "村(社区)工会", "SZ-GS-T09", "320508", GOOD_USCC, "", ""],
        ["重复代码一", "SZ-GS-T08", "镇(街道)总工会", "SZ-GS", "320508", "", "", ""],
        ["重复代码二", "SZ-GS-T08", "镇(街道)总工会", "SZ-GS", "320508", "", "", ""],
        ["其下级", "SZ-GS-T08-E1", "独立基层工会", "SZ-GS-T08", "320508", "", "", ""],
    ]
    before = state()

    result = run(actors["district_cadre"], xlsx_bytes(rows))

    assert outcomes(result) == {
        3: ("error", "第3、4行统一社会信用代码重复"),
        4: ("error", "第3、4行统一社会信用代码重复"),
        5: ("error", "第5、6行组织代码重复"),
        6: ("error", "第5、6行组织代码重复"),
        7: ("error", "上级组织代码 SZ-GS-T08 在文件中出现多次，无法确定上级组织"),
    }
    assert state() == before


def test_dissolved_parents_and_dissolved_organisations(tree, actors, system):
    org_dissolve(actor=system, org=tree["SZ-GS-T01-C1"], reason="社区撤并")
    cadre = actors["district_cadre"]
    before = state()

    child = run(
        cadre, xlsx_bytes([HEAD, ["竹辉社区一号工会", "SZ-GS-T01-C1-E1", "独立基层工会", "SZ-GS-T01-C1", "320508"]])
    )
    renamed = run(cadre, xlsx_bytes([HEAD, ["竹辉社区工会联合会", "SZ-GS-T01-C1", "", "", ""]]))
    same = run(cadre, xlsx_bytes([HEAD, ["竹辉社区工会", "SZ-GS-T01-C1", "村(社区)工会", "SZ-GS-T01", "320508"]]))

    assert outcomes(child) == {3: ("error", "上级组织“竹辉社区工会”已撤销，不能再下设组织")}
    assert outcomes(renamed) == {3: ("error", "组织已撤销，不能修改")}
    assert outcomes(same) == {3: ("unchanged", "资料无变化")}
    assert state()[0] == before[0]


def test_type_changes_follow_org_update_rules(tree, actors):
    cadre = actors["district_cadre"]
    rows = [
        HEAD,
        ["", "SZ-GS-T02", "村(社区)工会", "", ""],  # its grassroots child stays below it: fine
        ["", "SZ-GS-T02-E1", "独立基层工会", "", ""],
        ["", "SZ-GS-T01-C1", "县级(市、区)总工会", "", ""],  # would sit above its parent
    ]
    before = state()

    result = run(cadre, xlsx_bytes(rows))
    grassroots = run(cadre, xlsx_bytes([HEAD, ["", "SZ-GS-T01", "独立基层工会", "", ""]]))
    lowered = run(cadre, xlsx_bytes([HEAD, ["", "SZ-GS-T01", "村(社区)工会", "", ""]]))

    assert outcomes(result) == {
        3: ("updated", "变更：组织类型"),
        4: ("unchanged", "资料无变化"),
        5: ("error", "县级(市、区)总工会不能设在镇(街道)总工会“双塔街道总工会”之下（下级组织的层级必须低于上级）"),
    }
    assert outcomes(grassroots) == {3: ("error", "该组织下设有下级组织，不能改为基层工会")}
    assert outcomes(lowered) == {3: ("error", "变更后的层级不高于现有下级组织，请先调整下级组织")}
    assert state() == before


def test_a_service_refusing_while_writing_rolls_every_row_back(tree, actors, monkeypatch):
    real_create = imports.org_create

    def create_then_refuse(*, actor, parent, **fields):
        if fields["code"] == "SZ-GS-T03-C1-J1":
            from gonghui.common.errors import DomainError

            raise DomainError("组织代码或统一社会信用代码已被使用，请核对", code="conflict")
        return real_create(actor=actor, parent=parent, **fields)

    monkeypatch.setattr(imports, "org_create", create_then_refuse)
    before = state()

    result = run(actors["district_cadre"], xlsx_bytes(SUBTREE))

    assert outcomes(result)[6] == ("error", "组织代码或统一社会信用代码已被使用，请核对")
    assert result.summary == {"rows": 5, "added": 4, "updated": 0, "unchanged": 0, "error": 1}
    assert result.written is False
    assert state() == before


def test_files_that_cannot_be_used(tree, actors):
    cadre = actors["district_cadre"]
    with pytest.raises(SheetUnreadable) as unknown:
        run(cadre, b"%PDF-1.4", "组织.pdf")
    assert unknown.value.message == "不支持的文件类型，请上传 .xlsx、.xls、.ods 或 .csv 文件"
    with pytest.raises(SheetUnreadable) as no_header:
        run(cadre, csv_bytes([["名称", "类型"], ["甲", "独立基层工会"]]), "a.csv")
    assert no_header.value.message == "没有找到表头：前20行中没有一行同时包含“组织名称”、“组织代码”列，请使用导入模板"
    with pytest.raises(ValidationFailed) as empty:
        run(cadre, csv_bytes([HEAD, ["", "", "", "", ""]]), "a.csv")
    assert empty.value.errors == {"file": "表头下方没有组织数据"}
    with pytest.raises(ValidationFailed) as nothing:
        run(cadre, b"", "a.csv")
    assert nothing.value.errors == {"file": "上传的文件是空的"}
    assert AuditEvent.objects.filter(action="org.import").count() == 0


# ---------------------------------------------------------------------------------------------------------------
# Dry run and scope


def test_dry_run_writes_nothing_and_predicts_the_real_run(tree, actors):
    content = xlsx_bytes(SUBTREE)
    before = state()

    preview = run(actors["district_cadre"], content, dry_run=True)

    assert state() == before
    assert (preview.dry_run, preview.written) == (True, False)
    assert preview.message == "预览结果（未写入）：共5行：新增5行，更新0行，无变化0行"
    real = run(actors["district_cadre"], content)
    assert outcomes(real) == outcomes(preview)
    assert real.written is True


@pytest.mark.parametrize("username", ["grassroots_cadre", "auditor", "secadmin"])
def test_roles_without_structure_permission_are_refused(tree, actors, username):
    before = state()
    with pytest.raises(PermissionDenied):
        run(actors[username], xlsx_bytes(SUBTREE), dry_run=True)
    assert state() == before


def test_system_administrator_may_import(tree, actors):
    result = run(actors["sysadmin"], xlsx_bytes(SUBTREE))
    assert result.summary["added"] == 5


def test_a_cadre_cannot_import_above_or_beside_their_subtree(tree, actors):
    town = actors["town_cadre"]  # SZ-GS-T01
    cases = [
        (["姑苏区总工会", "SZ-GS", "县级(市、区)总工会", "SZ", "320508"], NOT_MINE.format("SZ-GS")),
        (["沧浪街道总工会", "SZ-GS-T02", "", "", ""], NOT_MINE.format("SZ-GS-T02")),
        (["新公司工会", "SZ-GS-T02-E7", "独立基层工会", "SZ-GS-T02", "320508"], NOT_FOUND.format("SZ-GS-T02")),
        (["新街道总工会", "SZ-GS-T09", "镇(街道)总工会", "SZ-GS", "320508"], NOT_FOUND.format("SZ-GS")),
        (["双塔街道总工会", "SZ-GS-T01", "开发区/园区总工会", "", ""], "变更组织类型须由上级工会办理"),
        (["双塔街道总工会", "SZ-GS-T01", "", "SZ-GS", ""], NOT_FOUND.format("SZ-GS")),
        (
            ["双塔街道总工会", "SZ-GS-T01", "", "SZ-GS-T01-C1", ""],
            "上级组织代码与现在的隶属关系不一致：不能移动、撤销或合并本级组织，请联系上级工会",
        ),
    ]
    before = state()
    for row, reason in cases:
        result = run(town, xlsx_bytes([HEAD, row]))
        assert outcomes(result) == {3: ("error", reason)}, row
    assert state() == before

    mine = run(town, xlsx_bytes([HEAD, ["竹辉第二社区工会", "SZ-GS-T01-C2", "村(社区)工会", "SZ-GS-T01", "320508"],
                                 ["双塔街道总工会", "SZ-GS-T01", "", "", ""]]))  # fmt: skip
    assert outcomes(mine) == {3: ("added", ""), 4: ("unchanged", "资料无变化")}
    assert parent_code("SZ-GS-T01-C2") == "SZ-GS-T01"


# ---------------------------------------------------------------------------------------------------------------
# Export → import


def _export(tree, actor, org, django_capture_on_commit_callbacks) -> bytes:
    with django_capture_on_commit_callbacks(execute=True):
        job = org_roster_export_request(actor=actor, org=org)
    job.refresh_from_db()
    with job.result_file.open("rb") as handle:
        return handle.read()


def _rewrite(content: bytes, edit) -> bytes:
    """The exported workbook read back and written again with `edit(rows)` applied, as a person editing it would."""
    rows = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_name("组织名册").to_python()
    edit(rows)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("组织名册")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value not in ("", None):
                sheet.write_string(r, c, cell_text(value))
    book.close()
    return buffer.getvalue()


def test_export_then_import_gives_every_row_unchanged(tree, actors, system, django_capture_on_commit_callbacks):
    org_update(
        actor=system, org=tree["SZ-GS-T01-12"], contact_phone="13812345678", contact_person="王红", uscc=GOOD_USCC,
        founded_on=date(2020, 5, 1), term_ends_on=date(2025, 4, 30), address="双塔街道十二号",
    )  # fmt: skip
    org_update(actor=system, org=tree["SZ-GS-T01"], contact_phone="0512-65241234")
    org_dissolve(actor=system, org=tree["SZ-GS-T02-E1"], reason="企业注销")
    cadre = actors["district_cadre"]
    content = _export(tree, cadre, tree["SZ-GS"], django_capture_on_commit_callbacks)
    header = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_name("组织名册").to_python()[2]
    assert header[:8] == [
        "序号",
        "组织名称",
        "组织代码",
        "组织类型",
        "层级",
        "上级组织",
        "上级组织代码",
        "行政区划代码",
    ]
    before = state()

    result = run(cadre, content, "组织名册_SZ-GS.xlsx")

    assert result.summary == {"rows": 7, "added": 0, "updated": 0, "unchanged": 7, "error": 0}
    assert [row.code for row in result.rows] == [
        "SZ-GS", "SZ-GS-T01", "SZ-GS-T01-C1", "SZ-GS-T01-12", "SZ-GS-T01-123", "SZ-GS-T02", "SZ-GS-T02-E1",
    ]  # fmt: skip
    assert [row.line for row in result.rows] == list(range(4, 11))
    assert result.ignored_columns == ["序号", "层级", "上级组织", "状态"]
    assert result.unknown_columns == []
    orgs, events = state()
    assert (orgs, events) == (before[0], before[1] + 1)

    def edit(rows):
        rows[6][13] = "陈刚"  # 联系人 of SZ-GS-T01-12 (row 7 of the sheet)
        rows.insert(8, ["", "一二四公司工会委员会", "SZ-GS-T01-124", "独立基层工会", "", "", "SZ-GS-T01", "320508"])

    edited = run(cadre, _rewrite(content, edit), "组织名册_SZ-GS.xlsx")

    assert edited.summary == {"rows": 8, "added": 1, "updated": 1, "unchanged": 6, "error": 0}
    assert outcomes(edited)[7] == ("updated", "变更：联系人")
    assert outcomes(edited)[9] == ("added", "")
    union = Organisation.objects.get(code="SZ-GS-T01-12")
    assert (union.contact_person, union.contact_phone) == ("陈刚", "13812345678")
    assert parent_code("SZ-GS-T01-124") == "SZ-GS-T01"


# ---------------------------------------------------------------------------------------------------------------
# Command


def test_command_prints_one_json_object(tree, accounts, tmp_path):
    path = tmp_path / "组织架构.xlsx"
    path.write_bytes(xlsx_bytes([HEAD, SUBTREE[5], SUBTREE[2]]))
    out = io.StringIO()

    call_command("import_orgs", str(path), "--user", "district_cadre", "--json", stdout=out)

    assert json.loads(out.getvalue()) == {
        "summary": {"rows": 2, "added": 2, "updated": 0, "unchanged": 0, "error": 0},
        "rows": [
            {"row": 3, "code": "SZ-GS-T03", "name": "金阊街道总工会", "status": "added", "reason": ""},
            {"row": 4, "code": "SZ-GS-T03-C1", "name": "金阊社区工会", "status": "added", "reason": ""},
        ],
        "dry_run": False,
        "written": True,
        "message": "导入完成：共2行：新增2行，更新0行，无变化0行",
        "unknown_columns": [],
        "ignored_columns": [],
    }
    assert parent_code("SZ-GS-T03-C1") == "SZ-GS-T03"


def test_command_with_errors_prints_them_writes_nothing_and_fails(tree, accounts, tmp_path):
    path = tmp_path / "组织架构.csv"
    path.write_bytes(csv_bytes([HEAD, SUBTREE[2], SUBTREE[6]]))
    before = state()
    out = io.StringIO()

    with pytest.raises(CommandError) as failed:
        call_command("import_orgs", str(path), "--user", "district_cadre", "--json", stdout=out)

    assert str(failed.value) == "1行有错误，未写入任何数据"
    payload = json.loads(out.getvalue())
    assert payload["summary"] == {"rows": 2, "added": 1, "updated": 0, "unchanged": 0, "error": 1}
    assert payload["rows"][0] == {
        "row": 2, "code": "SZ-GS-T03-C1", "name": "金阊社区工会", "status": "error",
        "reason": NOT_FOUND.format("SZ-GS-T03"),
    }  # fmt: skip
    assert payload["written"] is False
    assert state() == before

    text = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_orgs", str(path), "--user", "district_cadre", "--dry-run", stdout=text)
    assert text.getvalue().splitlines() == [
        "共2行：新增1行，更新0行，无变化0行，有错误1行。未写入任何数据：请按各行说明修改后重新上传",
        f"第2行 SZ-GS-T03-C1：{NOT_FOUND.format('SZ-GS-T03')}",
    ]


def test_command_dry_run_and_refusals(tree, accounts, tmp_path):
    path = tmp_path / "组织架构.xlsx"
    path.write_bytes(xlsx_bytes(SUBTREE))
    before = state()
    out = io.StringIO()

    call_command("import_orgs", str(path), "--user", "district_cadre", "--dry-run", stdout=out)

    assert out.getvalue() == "预览结果（未写入）：共5行：新增5行，更新0行，无变化0行\n"
    assert state() == before
    with pytest.raises(CommandError) as refused:
        call_command("import_orgs", str(path), "--user", "grassroots_cadre", stdout=io.StringIO())
    assert str(refused.value) == "当前角色无权执行此操作"
    with pytest.raises(CommandError) as nobody:
        call_command("import_orgs", str(path), "--user", "nobody", stdout=io.StringIO())
    assert str(nobody.value) == "没有账号 nobody"
    with pytest.raises(CommandError) as missing:
        call_command("import_orgs", str(tmp_path / "none.xlsx"), "--user", "district_cadre", stdout=io.StringIO())
    assert str(missing.value) == f"找不到文件：{tmp_path / 'none.xlsx'}"
    assert state() == before


# ---------------------------------------------------------------------------------------------------------------
# Back office

PAGE = "/admin/orgs/import/"
TEMPLATE = "/admin/orgs/import/template/"
REFUSED = "组织架构导入须由上级工会干部或系统管理员办理，当前角色无权导入"


def upload(content: bytes, name: str = "组织架构.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_page_previews_then_imports(tree, login):
    client = login("district_cadre")
    form = client.get(PAGE)
    assert form.status_code == 200
    page = form.content.decode()
    assert 'id="gh-org-import-form"' in page and 'href="/admin/orgs/import/template/"' in page
    before = state()

    preview = client.post(PAGE, {"file": upload(xlsx_bytes(SUBTREE)), "dry_run": "1"})

    assert preview.status_code == 200
    body = preview.content.decode()
    assert "预览结果（未写入）：共5行：新增5行，更新0行，无变化0行" in body
    assert body.count('class="gh-outcome-added"') == 5
    assert state() == before

    done = client.post(PAGE, {"file": upload(xlsx_bytes(SUBTREE))})

    assert done.status_code == 200
    assert "导入完成：共5行：新增5行，更新0行，无变化0行" in done.content.decode()
    assert Organisation.objects.filter(code__startswith="SZ-GS-T03").count() == 4
    assert AuditEvent.objects.get(action="org.import").actor_label == "district_cadre"


def test_page_lists_errors_first_and_writes_nothing(tree, login):
    client = login("district_cadre")
    rows = [
        HEAD,
        SUBTREE[5],
        ["乙工会", "SZ-GS-T09-B", "独立基层工会", "SZ-GS-NOPE", "320508"],
        ["", "SZ-WZ", "", "", ""],
    ]
    before = state()

    response = client.post(PAGE, {"file": upload(xlsx_bytes(rows))})

    body = response.content.decode()
    assert response.status_code == 200
    assert "共3行：新增1行，更新0行，无变化0行，有错误2行。未写入任何数据：请按各行说明修改后重新上传" in body
    table = body[body.index('id="gh-org-import-rows"') :]
    lines = re.findall(r'<tr class="gh-outcome-(\w+)"><td class="gh-num">(\d+)</td>', table)
    assert lines == [("error", "4"), ("error", "5"), ("added", "3")]
    assert NOT_FOUND.format("SZ-GS-NOPE") in table and NOT_MINE.format("SZ-WZ") in table
    assert state() == before


def test_page_reports_unusable_files(tree, login):
    client = login("district_cadre")
    before = state()

    wrong = client.post(PAGE, {"file": upload(b"%PDF-1.4", "组织.pdf")})
    missing = client.post(PAGE, {"dry_run": "1"})

    assert "不支持的文件类型，请上传 .xlsx、.xls、.ods 或 .csv 文件" in wrong.content.decode()
    assert "请选择要导入的文件" in missing.content.decode()
    assert state() == before


@pytest.mark.parametrize("username", ["grassroots_cadre", "auditor", "secadmin"])
def test_page_and_template_refuse_roles_without_structure_permission(tree, login, username):
    client = login(username)
    before = state()

    form = client.get(PAGE)
    post = client.post(PAGE, {"file": upload(xlsx_bytes(SUBTREE))})
    template = client.get(TEMPLATE)

    assert (form.status_code, post.status_code, template.status_code) == (403, 403, 403)
    assert REFUSED in form.content.decode() and REFUSED in post.content.decode()
    assert 'id="gh-org-import-form"' not in post.content.decode()
    assert state() == before


def test_sidebar_links_the_page_for_roles_that_may_import(tree, login):
    assert PAGE in login("district_cadre").get("/admin/").content.decode()
    assert PAGE in login("sysadmin").get("/admin/").content.decode()
    assert PAGE not in login("grassroots_cadre").get("/admin/").content.decode()


def test_template_download(tree, login):
    response = login("town_cadre").get(TEMPLATE)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == (
        "attachment; filename*=UTF-8''%E7%BB%84%E7%BB%87%E6%9E%B6%E6%9E%84%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"
    )
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    assert book.sheet_names == ["组织架构", "选项", "说明"]
    table = read_table(response.content, "组织架构导入模板.xlsx", ORG_COLUMNS)
    assert set(table.mapped) == set(ORG_COLUMNS.synonyms)
    assert (table.header_line, table.rows, table.unknown, table.ignored) == (2, 0, [], [])
    assert [row[-1] for row in book.get_sheet_by_name("选项").to_python()] == list(OrgType.labels)
    parts = zipfile.ZipFile(io.BytesIO(response.content))
    sheet = parts.read("xl/worksheets/sheet1.xml").decode()
    assert '<dataValidation type="list"' in sheet and "选项!$C$1:$C$9" in sheet
    # Every column carries the text format "@" (style 1), so codes and dates keep the form they are typed in.
    assert '<numFmt numFmtId="164" formatCode="@"/>' in parts.read("xl/styles.xml").decode()
    assert re.findall(r'<col min="(\d+)" max="\d+" width="[\d.]+" style="1"', sheet) == [str(n) for n in range(1, 12)]
    guide = [row[0] for row in book.get_sheet_by_name("说明").to_python()]
    assert guide[0] == "组织架构导入说明" and "上级组织代码" in guide
