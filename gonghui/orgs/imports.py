"""Organisation-tree import (组织架构导入): create or update union organisations from a spreadsheet.

The file is read by `common.sheets.read_table` (the reader of the roster import), then every row is checked with the
organisation services' own validators (`_clean_org_fields`, `_check_placement`, the scope rules), so a row is refused
with exactly the message the back-office form would give. Parents are named by code: an organisation already in the
actor's subtree, or another row of the same file (above or below). Existing codes in scope are updated (changed
fields only); codes outside the scope are refused without saying anything about them.

All or nothing: when any row has an error nothing is written; otherwise every create and update goes through
`org_create` / `org_update` (each audits itself) in one transaction, parents before children, with one `org.import`
event for the whole file. A dry run checks everything and writes nothing. Sheets are small (a federation holds
thousands of organisations, not millions), so the import runs synchronously in the request or command.
"""

import copy
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Q

from gonghui.audit.services import audit_record
from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError, PermissionDenied, ValidationFailed
from gonghui.common.masking import mask_phone
from gonghui.common.paths import STEPLEN
from gonghui.common.roles import Perm
from gonghui.common.sheets import HEADER_SEARCH_ROWS, LINE, ColumnSpec, SheetLimits, read_table
from gonghui.common.validators import normalise_org_code, normalise_uscc, to_half_width
from gonghui.orgs.models import GRASSROOTS_TYPES, TYPE_LEVEL, Organisation, OrgLevel, OrgStatus, OrgType
from gonghui.orgs.services import (
    LEVEL_RANK,
    _check_placement,
    _clean_org_fields,
    _require_structure_below_scope_root,
    org_create,
    org_update,
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

OUTCOME_LABELS = {"added": "新增", "updated": "更新", "unchanged": "无变化", "error": "有错误"}
COUNT_KEYS = ("added", "updated", "unchanged", "error")
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


# ---------------------------------------------------------------------------------------------------------------
# Result


@dataclass
class OrgImportRow:
    """The outcome of one data row: added / updated / unchanged / error, with one Chinese reason."""

    line: int
    code: str
    name: str
    status: str
    reason: str = ""

    @property
    def status_label(self) -> str:
        return OUTCOME_LABELS[self.status]

    def as_json(self) -> dict[str, Any]:
        return {"row": self.line, "code": self.code, "name": self.name, "status": self.status, "reason": self.reason}


@dataclass(frozen=True)
class OrgImportResult:
    filename: str
    dry_run: bool
    written: bool
    rows: list[OrgImportRow]  # in file order
    unknown_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(COUNT_KEYS, 0)
        for row in self.rows:
            counts[row.status] += 1
        return {"rows": len(self.rows), **counts}

    @property
    def has_errors(self) -> bool:
        return any(row.status == "error" for row in self.rows)

    @property
    def rows_errors_first(self) -> list[OrgImportRow]:
        return sorted(self.rows, key=lambda row: (row.status != "error", row.line))

    @property
    def message(self) -> str:
        s = self.summary
        counts = f"共{s['rows']}行：新增{s['added']}行，更新{s['updated']}行，无变化{s['unchanged']}行"
        if self.has_errors:
            return f"{counts}，有错误{s['error']}行。未写入任何数据：请按各行说明修改后重新上传"
        if self.dry_run:
            return f"预览结果（未写入）：{counts}"
        if not s["added"] and not s["updated"]:
            return f"导入完成：{counts}。本次导入没有产生任何变更"
        return f"导入完成：{counts}"

    def as_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "rows": [row.as_json() for row in self.rows],
            "dry_run": self.dry_run,
            "written": self.written,
            "message": self.message,
            "unknown_columns": self.unknown_columns,
            "ignored_columns": self.ignored_columns,
        }


# ---------------------------------------------------------------------------------------------------------------
# Planning


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


def _orgs_by(field_name: str, values: set[str]) -> list[Organisation]:
    found: list[Organisation] = []
    for chunk in _chunks(sorted(values)):
        found.extend(Organisation.objects.filter(**{f"{field_name}__in": chunk}))
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
    if cells.get("parent_code"):
        try:
            row.parent_code = normalise_org_code(cells["parent_code"])
        except ValueError:
            row.parent_code = to_half_width(cells["parent_code"]).upper()
            row.parent_code_valid = False
    given: dict[str, Any] = {}
    for name in ("name", "region_code", "address", "contact_person", "contact_phone"):
        if cells.get(name):
            given[name] = cells[name]
    for name in ("founded_on", "term_ends_on"):
        if cells.get(name):
            given[name] = _parse_date(cells[name])
    type_text = cells.get("org_type")
    if type_text:
        row.org_type = org_type_of(type_text)
        given["org_type"] = row.org_type or type_text
    row.fields = given
    if cells.get("uscc"):
        try:
            row.fields["uscc"] = normalise_uscc(cells["uscc"])
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
        clean = _clean_org_fields(given)
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


def _plan(actor: Actor, records: list[dict]) -> list[_Row]:
    rows = [_Row(line=record[LINE], cells=record) for record in records]
    for row in rows:
        _read_cells(row)

    # Codes and credit codes repeated within the file: every such row is an error, named together.
    by_code: dict[str, list[_Row]] = defaultdict(list)
    by_uscc: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        if row.code:
            by_code[row.code].append(row)
        if row.fields.get("uscc"):
            by_uscc[row.fields["uscc"]].append(row)
    repeated_codes = {code for code, group in by_code.items() if len(group) > 1}
    for code in repeated_codes:
        for row in by_code[code]:
            row.problems.append(f"第{_lines(by_code[code])}行组织代码重复")
    for group in by_uscc.values():
        if len(group) > 1:
            for row in group:
                row.problems.append(f"第{_lines(group)}行统一社会信用代码重复")

    # One query for every organisation the file names (own codes and parent codes), one for credit codes in use.
    named = {row.code for row in rows if row.code} | {row.parent_code for row in rows if row.parent_code_valid}
    existing = {org.code: org for org in _orgs_by("code", named - {""})}
    holders = {org.uscc: org.id for org in _orgs_by("uscc", set(by_uscc))}
    for row in rows:
        org = existing.get(row.code)
        if org is None:
            continue
        if not actor.covers_path(org.path):
            # Nothing more is said about it (name, type, parent): the row is refused with this one reason.
            row.problems.append(f"组织代码 {row.code} 已被使用，该组织不在您的管辖范围内，不能导入")
            row.foreign = True
        else:
            row.existing = org

    for row in rows:
        if row.foreign:
            continue
        _check_fields(row)
        uscc = row.fields.get("uscc")
        if uscc and holders.get(uscc) not in (None, row.existing.id if row.existing else None):
            row.problems.append("该统一社会信用代码已登记在其他工会组织")
        if row.existing is not None:
            row.changes = _changes_of(row)
            if row.changes and row.existing.status != OrgStatus.ACTIVE:
                row.problems.append(f"组织{row.existing.get_status_display()}，不能修改")

    # Parents: another row of the file (new or existing), or an organisation in the actor's subtree.
    file_rows = {row.code: row for row in rows if row.code and row.code not in repeated_codes}
    actual_parents = {
        org.path: org
        for org in _orgs_by(
            "path", {row.existing.path[:-STEPLEN] for row in rows if row.existing and row.existing.depth > 1}
        )
    }
    for row in rows:
        if not row.parent_code or row.foreign:
            continue
        parent_row = file_rows.get(row.parent_code)
        parent_org = existing.get(row.parent_code)
        if row.parent_code in repeated_codes:
            row.problems.append(f"上级组织代码 {row.parent_code} 在文件中出现多次，无法确定上级组织")
            continue
        if parent_org is not None and not actor.covers_path(parent_org.path):
            parent_org = None
            parent_row = None
        if not row.parent_code_valid or (parent_row is None and parent_org is None):
            row.problems.append(_not_found(row.parent_code))
            continue
        if row.existing is not None:
            _check_same_parent(actor, row, parent_org, actual_parents)
        elif parent_row is not None and parent_row.existing is None:
            row.parent_row = parent_row
        else:
            row.parent_org = parent_org

    _mark_cycles([row for row in rows if row.existing is None and row.parent_row is not None])
    planned = {row.code: row for row in rows if row.existing is not None}
    _check_type_changes(actor, [row for row in rows if "org_type" in row.changes], planned, actual_parents)
    for row in rows:
        if (
            row.existing is None
            and not row.foreign
            and not row.in_cycle
            and (row.parent_row is not None or row.parent_org is not None)
        ):
            _check_new_placement(row, planned)
    return rows


def _check_same_parent(actor: Actor, row: _Row, parent_org: Organisation | None, actual: dict) -> None:
    """An import never moves an organisation: the parent code of an existing one must name its present parent."""
    org = row.existing
    present = actual.get(org.path[:-STEPLEN]) if org.depth > 1 else None
    if parent_org is not None and present is not None and parent_org.id == present.id:
        return
    try:
        _require_structure_below_scope_root(actor, org)
    except PermissionDenied as exc:
        row.problems.append(f"上级组织代码与现在的隶属关系不一致：{exc.message}")
        return
    now = f"（{present.code}）" if present is not None else ""
    row.problems.append(
        f"上级组织代码与该组织现在的上级{now}不一致：导入不能调整隶属关系，请在“工会组织”中使用“移动到新上级”"
    )


def _mark_cycles(new_rows: list[_Row]) -> None:
    """New rows whose parent chain within the file loops back on itself; the rest get their depth for ordering."""
    done: dict[_Row, int] = {}
    for start in new_rows:
        chain: list[_Row] = []
        seen: dict[_Row, int] = {}
        row: _Row | None = start
        while row is not None and row not in done and row not in seen:
            seen[row] = len(chain)
            chain.append(row)
            row = row.parent_row
        if row is not None and row in seen:  # a loop: chain[seen[row]:] are on it
            loop = chain[seen[row] :]
            path = " → ".join([*(r.code for r in loop), loop[0].code])
            for member in loop:
                member.problems.append(f"第{_lines(loop)}行的上级组织代码形成循环：{path}")
                member.in_cycle = True
                done[member] = 0
            chain = chain[: seen[row]]
            base = 0
        else:
            base = done[row] if row is not None else 0
        for depth, member in enumerate(reversed(chain), start=base + 1):
            done[member] = depth
            member.order = depth


def _check_new_placement(row: _Row, planned: dict[str, _Row]) -> None:
    """A new organisation under its parent as the parent will be after the import, with org_create's rules."""
    if row.parent_row is not None:
        parent = row.parent_row.planned()
        if parent is None:
            row.problems.append(
                f"上级组织 {row.parent_row.code}（第{row.parent_row.line}行）的组织类型有误，无法检查本行"
            )
            return
    else:
        in_file = planned.get(row.parent_org.code)
        parent = in_file.planned() if in_file is not None else row.parent_org
    if row.org_type is None:
        return
    if parent.org_type in GRASSROOTS_TYPES:
        row.problems.append("基层工会之下不能再设工会组织")
        return
    try:
        _check_placement(org_type=row.org_type, parent=parent)
    except ValidationFailed as exc:
        row.problems.extend(exc.errors.values())


def _check_type_changes(actor: Actor, rows: list[_Row], planned: dict[str, _Row], actual: dict) -> None:
    """org_update's rules for a change of type, applied to the tree as it will be after the import."""
    if not rows:
        return
    children: dict[str, list[Organisation]] = defaultdict(list)
    for chunk_start in range(0, len(rows), QUERY_CHUNK):
        chunk = rows[chunk_start : chunk_start + QUERY_CHUNK]
        query = Q()
        for row in chunk:
            query |= Q(path__startswith=row.existing.path, depth=row.existing.depth + 1)
        for child in Organisation.objects.filter(query):
            children[child.path[:-STEPLEN]].append(child)
    for row in rows:
        org = row.existing
        new_type = row.changes["org_type"]
        if org.path == actor.scope_path or not actor.can(Perm.ORGS_STRUCTURE):
            row.problems.append("变更组织类型须由上级工会办理")
            continue
        present = actual.get(org.path[:-STEPLEN]) if org.depth > 1 else None
        parent = None
        if present is not None:
            parent = planned[present.code].planned() if present.code in planned else present
        try:
            _check_placement(org_type=new_type, parent=parent)
        except ValidationFailed as exc:
            row.problems.extend(exc.errors.values())
            continue
        new_rank = LEVEL_RANK[TYPE_LEVEL[new_type]]
        if org.numchild and TYPE_LEVEL[new_type] == OrgLevel.GRASSROOTS:
            row.problems.append("该组织下设有下级组织，不能改为基层工会")
            continue
        ranks = []
        for child in children[org.path]:
            child_type = planned[child.code].planned_type() if child.code in planned else child.org_type
            ranks.append(LEVEL_RANK[TYPE_LEVEL[child_type]])
        if ranks and min(ranks) <= new_rank:
            row.problems.append("变更后的层级不高于现有下级组织，请先调整下级组织")


def _outcome(row: _Row) -> OrgImportRow:
    code = row.code or (row.cells.get("code") or "")
    if row.problems:
        return OrgImportRow(row.line, code, row.display_name, "error", "；".join(dict.fromkeys(row.problems)))
    if row.existing is None:
        return OrgImportRow(row.line, code, row.display_name, "added", "")
    if row.changes:
        changed = "、".join(FIELD_LABELS[name] for name in row.changes)
        return OrgImportRow(row.line, code, row.display_name, "updated", f"变更：{changed}")
    return OrgImportRow(row.line, code, row.display_name, "unchanged", "资料无变化")


# ---------------------------------------------------------------------------------------------------------------
# Writing


def _update_order(rows: list[_Row]) -> list[_Row]:
    """Updates without a change of level first; then demotions from the bottom up and promotions from the top down,
    so each single update (checked by org_update against the tree as it stands) is valid when the end state is."""

    def rank_shift(row: _Row) -> int:
        if "org_type" not in row.changes:
            return 0
        return LEVEL_RANK[TYPE_LEVEL[row.changes["org_type"]]] - LEVEL_RANK[OrgLevel(row.existing.level)]

    plain = [row for row in rows if rank_shift(row) == 0]
    demoted = sorted((row for row in rows if rank_shift(row) > 0), key=lambda r: (-r.existing.depth, r.line))
    promoted = sorted((row for row in rows if rank_shift(row) < 0), key=lambda r: (r.existing.depth, r.line))
    return [*plain, *demoted, *promoted]


class _WriteRefused(Exception):
    """A service refused a row while writing (the tree changed since it was checked): roll everything back."""

    def __init__(self, row: _Row, message: str):
        super().__init__(message)
        self.row = row
        self.message = message


def _write(actor: Actor, rows: list[_Row], *, filename: str, summary: dict[str, int]) -> None:
    created: dict[str, Organisation] = {}
    updates = [row for row in rows if row.existing is not None and row.changes]
    creates = sorted((row for row in rows if row.existing is None), key=lambda r: (r.order, r.line))
    for row in _update_order(updates):
        try:
            org_update(actor=actor, org=row.existing, **row.changes)
        except DomainError as exc:
            raise _WriteRefused(row, exc.message) from exc
    for row in creates:
        parent = created[row.parent_row.code] if row.parent_row is not None else row.parent_org
        try:
            created[row.code] = org_create(actor=actor, parent=parent, code=row.code, **row.fields)
        except DomainError as exc:
            raise _WriteRefused(row, exc.message) from exc
    root = Organisation.objects.filter(id=actor.org_id).first() if actor.org_id else None
    audit_record(
        actor=actor,
        action="org.import",
        object_type="organisation",
        object_id=root.id if root else "",
        object_label=f"{root.name}（{root.code}）" if root else "组织架构导入",
        object_org_path=actor.scope_path,
        details={"file": filename, **summary},
    )


# ---------------------------------------------------------------------------------------------------------------
# The service


def org_tree_import(*, actor: Actor, data: bytes, filename: str, dry_run: bool) -> OrgImportResult:
    """Check every row of an organisation sheet and, when none has an error and this is not a dry run, create and
    update the organisations in one transaction. Raises a DomainError when the file as a whole is unusable."""
    actor.require(Perm.ORGS_STRUCTURE)
    if not data:
        raise ValidationFailed({"file": "上传的文件是空的"})
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationFailed({"file": f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB，请拆分后分批导入"})
    table = read_table(data, filename, ORG_COLUMNS, limits=ORG_LIMITS)
    # A line with content only in ignored columns (序号, the export's "合计" line) is not an organisation.
    records = [
        record
        for record in table.frame.to_dicts()
        if record["_beyond_header"] or any(record.get(name) for name in ORG_COLUMNS.synonyms)
    ]
    if not records:
        raise ValidationFailed({"file": "表头下方没有组织数据"})
    if len(records) > MAX_ROWS:
        raise ValidationFailed({"file": f"文件有{len(records)}行，超过{MAX_ROWS}行，请拆分后分批导入"})
    rows = _plan(actor, records)
    outcomes = [_outcome(row) for row in rows]

    def result(*, written: bool) -> OrgImportResult:
        return OrgImportResult(
            filename=filename,
            dry_run=dry_run,
            written=written,
            rows=outcomes,
            unknown_columns=list(table.unknown),
            ignored_columns=list(table.ignored),
            notes=list(table.notes),
        )

    if dry_run or any(outcome.status == "error" for outcome in outcomes):
        return result(written=False)
    try:
        with transaction.atomic():
            _write(actor, rows, filename=filename, summary=result(written=True).summary)
    except _WriteRefused as refused:
        outcomes[rows.index(refused.row)] = OrgImportRow(
            refused.row.line, refused.row.code, refused.row.display_name, "error", refused.message
        )
        return result(written=False)
    return result(written=True)
