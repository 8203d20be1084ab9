"""Organisation-tree import: every kind of row error, and that an error anywhere writes nothing."""

import pytest

from gonghui.audit.models import AuditEvent
from gonghui.common.errors import ValidationFailed
from gonghui.common.sheets import SheetUnreadable
from gonghui.imports.orgs import write as imports
from gonghui.orgs.services import org_dissolve, org_update
from tests.imports.org_import_factories import (
    BAD_PHONE,
    BAD_TYPE,
    BAD_USCC,
    FULL_HEAD,
    GOOD_USCC,
    HEAD,
    HELD_USCC,
    MOVE,
    NOT_FOUND,
    NOT_MINE,
    SUBTREE,
    TOWN_UNDER_TOWN,
    csv_bytes,
    outcomes,
    run,
    state,
    xlsx_bytes,
)

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
