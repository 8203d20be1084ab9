"""Organisation-tree import, the service and the writing: all or nothing, every create and update through
`org_create` / `org_update` in one transaction, parents before children, one `org.import` event for the file."""

from django.db import transaction

from gonghui.audit.services import audit_record
from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError, ValidationFailed
from gonghui.common.roles import Perm
from gonghui.common.sheets import read_table
from gonghui.imports.orgs.plan import _outcome, _plan
from gonghui.imports.orgs.result import OrgImportResult, OrgImportRow
from gonghui.imports.orgs.rows import MAX_ROWS, MAX_UPLOAD_BYTES, ORG_COLUMNS, ORG_LIMITS, _Row
from gonghui.orgs.models import TYPE_LEVEL, Organisation, OrgLevel
from gonghui.orgs.selectors import orgs_by_id
from gonghui.orgs.services import (
    LEVEL_RANK,
    org_create,
    org_update,
)

# ---------------------------------------------------------------------------------------------------------------
# Writing


def _update_order(rows: list[_Row]) -> list[_Row]:
    """Updates without a change of level first; then demotions from the bottom up and promotions from the top down,
    so each single update (checked by org_update against the tree as it stands) is valid when the end state is."""

    def rank_shift(row: _Row) -> int:
        if "org_type" not in row.changes:
            return 0
        return LEVEL_RANK[TYPE_LEVEL[row.changes["org_type"]]] - LEVEL_RANK[OrgLevel(row.known.level)]

    plain = [row for row in rows if rank_shift(row) == 0]
    demoted = sorted((row for row in rows if rank_shift(row) > 0), key=lambda r: (-r.known.depth, r.line))
    promoted = sorted((row for row in rows if rank_shift(row) < 0), key=lambda r: (r.known.depth, r.line))
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
            org_update(actor=actor, org=row.known, **row.changes)
        except DomainError as exc:
            raise _WriteRefused(row, exc.message) from exc
    for row in creates:
        parent = created[row.parent_row.code] if row.parent_row is not None else row.parent_org
        try:
            created[row.code] = org_create(actor=actor, parent=parent, code=row.code, **row.fields)
        except DomainError as exc:
            raise _WriteRefused(row, exc.message) from exc
    root = orgs_by_id([actor.org_id]).first() if actor.org_id else None
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
