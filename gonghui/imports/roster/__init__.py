"""Roster import (会员名册导入): read → validate column-wise → per chunk: stage, merge set-based, record outcomes,
checkpoint — each chunk one transaction. See docs/import.md for the stages and the SQL.

Modes: "dry-run" (preview: classifies every row against the registry, writes nothing to it), "add" (new members
only; members already here are left as they are), "upsert" (add, and update the profile of members already here).
A chunk commits its registry writes, its outcome rows and the job's checkpoint (`JobRun.done`) together, so a
worker killed at any point resumes at the first row not committed; and because existing people and memberships
are matched by the database's unique keys, a re-run of the same file changes nothing.

Modules: `job` (the job's lifecycle: request, preview and import from it, cancel, transfers, run, finish, purge),
`merge` (lookup, classify, profile changes, `merge_chunk`), `load` (set-based inserts, staging tables, COPY and its
SQLite twin), `report` (outcome rows, summary message, problem report), `validate` (the roster layout and the
column-wise validation), `template` (the import template).
"""

from gonghui.imports.roster.job import (
    CHUNK_ROWS,
    IMPORT_MODES,
    MAX_UPLOAD_BYTES,
    MODES,
    PREVIEW_KEEP,
    ROSTER_LIMITS,
    prepare_rows,
    preview_importable,
    previews_expired_purge,
    roster_import_cancel,
    roster_import_from_preview,
    roster_import_get,
    roster_import_request,
    roster_import_run,
    roster_import_transfers,
)
from gonghui.imports.roster.load import luhn_check_digits
from gonghui.imports.roster.merge import COUNT_KEYS, ChunkResult, merge_chunk
from gonghui.imports.roster.report import REPORT_EXTRA, error_report_xlsx, import_rows_json, import_rows_of

__all__ = [
    "CHUNK_ROWS",
    "COUNT_KEYS",
    "IMPORT_MODES",
    "MAX_UPLOAD_BYTES",
    "MODES",
    "PREVIEW_KEEP",
    "REPORT_EXTRA",
    "ROSTER_LIMITS",
    "ChunkResult",
    "error_report_xlsx",
    "import_rows_json",
    "import_rows_of",
    "luhn_check_digits",
    "merge_chunk",
    "prepare_rows",
    "preview_importable",
    "previews_expired_purge",
    "roster_import_cancel",
    "roster_import_from_preview",
    "roster_import_get",
    "roster_import_request",
    "roster_import_run",
    "roster_import_transfers",
]
