"""Organisation-tree import (组织架构导入): create or update union organisations from a spreadsheet.

The file is read by `common.sheets.read_table` (the reader of the roster import), then every row is checked with the
organisation services' own validators (`clean_org_fields`, `check_placement`, the scope rules), so a row is refused
with exactly the message the back-office form would give. Parents are named by code: an organisation already in the
actor's subtree, or another row of the same file (above or below). Existing codes in scope are updated (changed
fields only); codes outside the scope are refused without saying anything about them.

All or nothing: when any row has an error nothing is written; otherwise every create and update goes through
`org_create` / `org_update` (each audits itself) in one transaction, parents before children, with one `org.import`
event for the whole file. A dry run checks everything and writes nothing. Sheets are small (a federation holds
thousands of organisations, not millions), so the import runs synchronously in the request or command.
"""

from gonghui.imports.orgs.result import COUNT_KEYS, OUTCOME_LABELS, OrgImportResult, OrgImportRow
from gonghui.imports.orgs.rows import MAX_ROWS, MAX_UPLOAD_BYTES, ORG_COLUMNS, ORG_LIMITS, org_type_of
from gonghui.imports.orgs.write import org_tree_import

__all__ = [
    "COUNT_KEYS",
    "MAX_ROWS",
    "MAX_UPLOAD_BYTES",
    "ORG_COLUMNS",
    "ORG_LIMITS",
    "OUTCOME_LABELS",
    "OrgImportResult",
    "OrgImportRow",
    "org_tree_import",
    "org_type_of",
]
