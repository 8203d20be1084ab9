"""Organisation-tree import, the result: one outcome per data row, the summary and the message the page, the command
and the API show."""

from dataclasses import dataclass, field
from typing import Any

OUTCOME_LABELS = {"added": "新增", "updated": "更新", "unchanged": "无变化", "error": "有错误"}
COUNT_KEYS = ("added", "updated", "unchanged", "error")


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
