"""Organisation-tree import, the rows: the sheet's columns and limits, and reading and checking each row on its own.
The checks across rows are in `plan`, the writing in `write`."""

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from gonghui.common.errors import ValidationFailed
from gonghui.common.masking import mask_phone
from gonghui.common.sheets import HEADER_SEARCH_ROWS, ColumnSpec, SheetLimits
from gonghui.common.validators import normalise_org_code, normalise_uscc, to_half_width
from gonghui.orgs.models import TYPE_LEVEL, Organisation, OrgStatus, OrgType
from gonghui.orgs.selectors import orgs_by_code, orgs_by_path, orgs_by_uscc
from gonghui.orgs.services import (
    clean_org_fields,
)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ROWS = 10_000
# The sheet is read in the request: room for the rows above plus title rows, blank rows and a 合计 line, and no more.
ORG_LIMITS = SheetLimits(
    rows=2 * MAX_ROWS + HEADER_SEARCH_ROWS, columns=64, cells=1_000_000, unpacked_bytes=200 * 1024 * 1024
)
QUERY_CHUNK = 500  # values per IN (...) list; SQLite and PostgreSQL both take this comfortably

ORG_COLUMNS = ColumnSpec(
    synonyms={
        "name": ("组织名称", "工会名称", "工会组织名称", "名称"),
        "code": ("组织代码", "工会代码", "代码"),
        "org_type": ("组织类型", "工会类型", "类型"),
        "parent_code": ("上级组织代码", "上级工会代码", "上级代码"),
        "region_code": ("行政区划代码", "区划代码"),
        "uscc": ("统一社会信用代码", "社会信用代码", "信用代码"),
        "founded_on": ("成立日期", "成立时间", "建会日期"),
        "term_ends_on": ("任期届满日期", "本届任期届满日期", "届满日期"),
        "address": ("地址", "通讯地址", "办公地址"),
        "contact_person": ("联系人",),
        "contact_phone": ("联系电话", "电话", "联系方式"),
    },
    required=("name", "code"),
    # Known but not imported: the level follows the type; status changes go through dissolve and merge; parents
    # are matched by code, never by name.
    ignored=("序号", "层级", "状态", "上级组织", "上级组织名称", "上级工会", "上级工会名称"),
)

FIELD_LABELS = {
    "name": "组织名称",
    "org_type": "组织类型",
    "region_code": "行政区划代码",
    "uscc": "统一社会信用代码",
    "founded_on": "成立日期",
    "term_ends_on": "任期届满日期",
    "address": "地址",
    "contact_person": "联系人",
    "contact_phone": "联系电话",
}

# Spellings of 组织类型 besides the model's own labels and codes.
TYPE_ALIASES = {
    "县级总工会": OrgType.COUNTY,
    "县总工会": OrgType.COUNTY,
    "区总工会": OrgType.COUNTY,
    "镇总工会": OrgType.TOWN,
    "乡镇总工会": OrgType.TOWN,
    "街道总工会": OrgType.TOWN,
    "开发区总工会": OrgType.PARK,
    "园区总工会": OrgType.PARK,
    "社区工会": OrgType.COMMUNITY,
    "村工会": OrgType.COMMUNITY,
    "基层工会": OrgType.GRASSROOTS,
}

BEYOND_HEADER = "本行在没有表头的列中填了内容，请核对是否错列"
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


def _type_key(text: str) -> str:
    return re.sub(r"\s+", "", to_half_width(text))


_TYPE_SPELLINGS: dict[str, str] = {
    **{_type_key(alias): str(code) for alias, code in TYPE_ALIASES.items()},
    **{_type_key(label): str(code) for code, label in OrgType.choices},
    **{str(code): str(code) for code in OrgType.values},
}


def org_type_of(text: str) -> str | None:
    """The OrgType code written as a label, an alias or the code itself (full-width brackets and spaces allowed)."""
    return _TYPE_SPELLINGS.get(_type_key(text).lower())


@dataclass(eq=False)
class _Row:
    """One data row while it is being checked."""

    line: int
    cells: dict[str, str | None]
    code: str = ""
    parent_code: str = ""  # normalised; "" when the cell is blank
    parent_code_valid: bool = True
    org_type: str | None = None  # a valid OrgType code given in the file
    fields: dict[str, Any] = field(default_factory=dict)  # clean values of the non-blank cells (code excluded)
    problems: list[str] = field(default_factory=list)
    existing: Organisation | None = None
    foreign: bool = False  # the code belongs to an organisation outside the actor's subtree
    in_cycle: bool = False  # its parent chain within the file loops back to it
    changes: dict[str, Any] = field(default_factory=dict)  # existing rows: the fields that differ
    parent_row: "_Row | None" = None  # a new organisation defined in the file
    parent_org: Organisation | None = None  # an organisation already in the tree
    order: int = 0  # depth among the file's new rows, for parents-before-children creation

    @property
    def known(self) -> Organisation:
        """The organisation a row updates, where the caller has established there is one (`existing`)."""
        assert self.existing is not None, "only rows that update an existing organisation have one"
        return self.existing

    @property
    def display_name(self) -> str:
        if "name" in self.fields:
            return self.fields["name"]
        if self.existing is not None:
            return self.existing.name
        return self.cells.get("name") or ""

    def planned_type(self) -> str | None:
        if self.org_type:
            return self.org_type
        return self.existing.org_type if self.existing is not None else None

    def planned(self) -> Organisation | None:
        """The organisation as it will be after the import (unsaved), for placement checks of its children."""
        org_type = self.planned_type()
        if org_type is None:
            return None
        if self.existing is not None:
            planned = copy.copy(self.existing)
            planned.name = self.fields.get("name", planned.name)
        else:
            planned = Organisation(name=self.display_name, code=self.code, status=OrgStatus.ACTIVE)
        planned.org_type = org_type
        planned.level = TYPE_LEVEL[org_type]
        return planned


def _parse_date(text: str) -> date | str:
    """A date written the ways people write them; anything else is returned as it is, for the validator to refuse."""
    value = to_half_width(text)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?", value):  # a spreadsheet date-time cell
        value = value[:10]
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return text


def _lines(rows: Iterable[_Row]) -> str:
    return "、".join(str(row.line) for row in sorted(rows, key=lambda r: r.line))


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), QUERY_CHUNK):
        yield values[start : start + QUERY_CHUNK]


_BY = {"code": orgs_by_code, "uscc": orgs_by_uscc, "path": orgs_by_path}


def _orgs_by(field_name: str, values: set[str]) -> list[Organisation]:
    found: list[Organisation] = []
    for chunk in _chunks(sorted(values)):
        found.extend(_BY[field_name](chunk))
    return found


def _not_found(code: str) -> str:
    # Missing and outside the actor's subtree read the same: the import never confirms that a code exists elsewhere.
    return f"上级组织代码 {code} 不存在或不在您的管辖范围内"


def _read_cells(row: _Row) -> None:
    """Normalise the row's cells; field problems go to `row.problems` with the services' own messages."""
    cells = row.cells
    if cells.get("_beyond_header"):
        row.problems.append(BEYOND_HEADER)
    try:
        row.code = normalise_org_code(cells.get("code") or "")
    except ValueError as exc:
        row.problems.append(str(exc))
    if parent_code := cells.get("parent_code"):
        try:
            row.parent_code = normalise_org_code(parent_code)
        except ValueError:
            row.parent_code = to_half_width(parent_code).upper()
            row.parent_code_valid = False
    given: dict[str, Any] = {}
    for name in ("name", "region_code", "address", "contact_person", "contact_phone"):
        if cells.get(name):
            given[name] = cells[name]
    for name in ("founded_on", "term_ends_on"):
        if day := cells.get(name):
            given[name] = _parse_date(day)
    type_text = cells.get("org_type")
    if type_text:
        row.org_type = org_type_of(type_text)
        given["org_type"] = row.org_type or type_text
    row.fields = given
    if uscc := cells.get("uscc"):
        try:
            row.fields["uscc"] = normalise_uscc(uscc)
        except ValueError as exc:
            row.problems.append(str(exc))


def _check_fields(row: _Row) -> None:
    """Run the services' field validator over the non-blank cells (code and credit code are checked in bulk)."""
    given = {k: v for k, v in row.fields.items() if k != "uscc"}
    phone = given.get("contact_phone")
    if phone and "*" in phone:
        # An exported roster masks phones: the mask of the stored number means "keep it".
        del given["contact_phone"]
        if row.existing is None or to_half_width(phone) != mask_phone(row.existing.contact_phone):
            row.problems.append("联系电话是打码的号码（含“*”），请填写完整号码或留空")
    if row.existing is None:
        given.setdefault("name", "")
    try:
        clean = clean_org_fields(given)
    except ValidationFailed as exc:
        for name, message in exc.errors.items():
            if name == "org_type":
                message = f"{message}（“{row.cells.get('org_type')}”不在可选范围内，请按模板的下拉选项填写）"
            row.problems.append(message)
        clean = {}
    clean.pop("level", None)
    uscc = row.fields.get("uscc")
    row.fields = {k: v for k, v in clean.items() if k in given}
    if uscc:
        row.fields["uscc"] = uscc
    if row.existing is None:
        for name, label in (("org_type", "组织类型"), ("region_code", "行政区划代码")):
            if not row.cells.get(name):
                row.problems.append(f"新建组织须填写{label}")
        if not row.cells.get("parent_code"):
            row.problems.append("新建组织须填写上级组织代码")


def _changes_of(row: _Row) -> dict[str, Any]:
    org = row.existing
    return {name: value for name, value in row.fields.items() if getattr(org, name) != value}
