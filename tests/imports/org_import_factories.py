"""Helpers of the organisation-tree import tests: the headings and messages, files built from rows, one import run,
and the state of the tree. Row numbers are those a spreadsheet user sees: title and header rows counted, blank
lines counted."""

import csv
import io

import xlsxwriter

from gonghui.audit.models import AuditEvent
from gonghui.imports.orgs import org_tree_import
from gonghui.orgs.models import Organisation
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
