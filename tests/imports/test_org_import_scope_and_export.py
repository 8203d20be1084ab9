"""Organisation-tree import: dry runs, scope, the export → import round trip, and the command."""

import io
import json
from datetime import date

import pytest
import xlsxwriter
from django.core.management import call_command
from django.core.management.base import CommandError
from python_calamine import CalamineWorkbook

from gonghui.common.errors import PermissionDenied
from gonghui.common.sheets import cell_text
from gonghui.orgs.models import Organisation
from gonghui.orgs.services import org_dissolve, org_update
from gonghui.orgs.tasks import org_roster_export_request
from tests.imports.org_import_factories import (
    GOOD_USCC,
    HEAD,
    NOT_FOUND,
    NOT_MINE,
    SUBTREE,
    csv_bytes,
    outcomes,
    parent_code,
    run,
    state,
    xlsx_bytes,
)

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
