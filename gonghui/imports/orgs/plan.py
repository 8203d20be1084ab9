"""Organisation-tree import, planning: the checks across rows and against the tree (parents named by code in the
file or in scope, cycles, placement, type changes below existing children), and each row's outcome."""

from collections import defaultdict

from gonghui.common.actor import Actor
from gonghui.common.errors import PermissionDenied, ValidationFailed
from gonghui.common.paths import STEPLEN
from gonghui.common.roles import Perm
from gonghui.common.sheets import LINE
from gonghui.imports.orgs.result import OrgImportRow
from gonghui.imports.orgs.rows import (
    FIELD_LABELS,
    QUERY_CHUNK,
    _changes_of,
    _check_fields,
    _lines,
    _not_found,
    _orgs_by,
    _read_cells,
    _Row,
)
from gonghui.orgs.models import GRASSROOTS_TYPES, TYPE_LEVEL, Organisation, OrgLevel, OrgStatus
from gonghui.orgs.selectors import below_each
from gonghui.orgs.services import (
    LEVEL_RANK,
    check_placement,
    require_structure_below_scope_root,
)


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
    org = row.known
    present = actual.get(org.path[:-STEPLEN]) if org.depth > 1 else None
    if parent_org is not None and present is not None and parent_org.id == present.id:
        return
    try:
        require_structure_below_scope_root(actor, org)
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
        assert row.parent_org is not None  # a new row is placed under a row of the file or an organisation
        in_file = planned.get(row.parent_org.code)
        parent = in_file.planned() if in_file is not None else row.parent_org
    if row.org_type is None or parent is None:
        return
    if parent.org_type in GRASSROOTS_TYPES:
        row.problems.append("基层工会之下不能再设工会组织")
        return
    try:
        check_placement(org_type=row.org_type, parent=parent)
    except ValidationFailed as exc:
        row.problems.extend(exc.errors.values())


def _check_type_changes(actor: Actor, rows: list[_Row], planned: dict[str, _Row], actual: dict) -> None:
    """org_update's rules for a change of type, applied to the tree as it will be after the import."""
    if not rows:
        return
    children: dict[str, list[Organisation]] = defaultdict(list)
    for chunk_start in range(0, len(rows), QUERY_CHUNK):
        chunk = rows[chunk_start : chunk_start + QUERY_CHUNK]
        for child in below_each(row.known for row in chunk):
            children[child.path[:-STEPLEN]].append(child)
    for row in rows:
        org = row.known
        new_type = row.changes["org_type"]
        if org.path == actor.scope_path or not actor.can(Perm.ORGS_STRUCTURE):
            row.problems.append("变更组织类型须由上级工会办理")
            continue
        present = actual.get(org.path[:-STEPLEN]) if org.depth > 1 else None
        parent = None
        if present is not None:
            parent = planned[present.code].planned() if present.code in planned else present
        try:
            check_placement(org_type=new_type, parent=parent)
        except ValidationFailed as exc:
            row.problems.extend(exc.errors.values())
            continue
        new_rank = LEVEL_RANK[TYPE_LEVEL[new_type]]
        if org.numchild and TYPE_LEVEL[new_type] == OrgLevel.GRASSROOTS:
            row.problems.append("该组织下设有下级组织，不能改为基层工会")
            continue
        ranks = []
        for child in children[org.path]:
            child_type = (planned[child.code].planned_type() if child.code in planned else None) or child.org_type
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
