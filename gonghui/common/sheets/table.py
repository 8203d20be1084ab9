"""What a read returns (`Table`), the fields an import understands (`ColumnSpec`), and cell and text decoding."""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

import polars as pl

from gonghui.common.sheets.limits import _CJK_TWICE, SheetUnreadable


@dataclass(frozen=True)
class ColumnSpec:
    """The fields an import understands: field → accepted headings; `ignored` headings are known but not used."""

    synonyms: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    ignored: tuple[str, ...] = ()

    def field_of(self, heading: str) -> str | None:
        key = heading_key(heading)
        for name, accepted in self.synonyms.items():
            if key in {heading_key(a) for a in accepted}:
                return name
        return None

    def is_ignored(self, heading: str) -> bool:
        return heading_key(heading) in {heading_key(a) for a in self.ignored}


@dataclass
class Table:
    """A file read as text. `frame` has one String column per mapped field plus `_line`; `original` keeps every
    column as read, with the file's own headings, for the error report."""

    frame: pl.DataFrame
    original: pl.DataFrame
    headings: list[str]  # as written in the file, in order
    mapped: dict[str, str]  # field → heading as written
    unknown: list[str]  # headings not understood (reported to the user)
    ignored: list[str]  # headings understood but not used
    header_line: int
    encoding: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.frame.height


def heading_key(text: str) -> str:
    """Compare headings loosely: full-width → half-width, no spaces, no '*' marks, no '(必填)' and the like."""
    key = unicodedata.normalize("NFKC", str(text or ""))
    key = re.sub(r"[(\[【（][^)\]】）]*[)\]】）]", "", key)  # (必填), （选填）, [文本]
    key = re.sub(r"[\s*:：]", "", key)
    return key.lower()


def decode_csv(data: bytes) -> tuple[str, str]:
    """The text and the encoding name: a BOM decides; otherwise strict UTF-8, else GB18030 (a superset of GBK)."""
    bom = data.startswith(b"\xef\xbb\xbf")
    body = data[3:] if bom else data
    try:
        return body.decode("utf-8"), "UTF-8 (BOM)" if bom else "UTF-8"
    except UnicodeDecodeError as exc:
        if bom or _CJK_TWICE.search(body[: exc.start].decode("utf-8")):
            # Marked as UTF-8, or Chinese text read fine as UTF-8 up to here: a UTF-8 file with a damaged byte, not
            # a GBK file. Reading it all as GB18030 would garble every name, so refuse and say where.
            line = body.count(b"\n", 0, exc.start) + 1
            raise SheetUnreadable(
                f"文件是 UTF-8 编码，但第{line}行有无法识别的字符（文件可能已损坏），请检查该行后重新保存为 CSV"
            ) from None
    try:
        return data.decode("gb18030"), "GBK/GB18030"
    except UnicodeDecodeError:
        raise SheetUnreadable("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV，或直接上传 Excel 文件") from None


def cell_text(value) -> str:
    """One spreadsheet cell as the text a user sees. Numbers keep Excel's 15 significant digits (so an ID typed as a
    number shows its zeroed tail, which validation then explains); dates become YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer() and abs(value) >= 1e15:
            # More digits than a spreadsheet number keeps: the tail is already lost. Show it the way Excel does, so
            # validation refuses it instead of accepting a different person's number whose check digit happens to fit.
            return format(value, ".14E")
        if value.is_integer():
            return format(Decimal(format(value, ".15g")), "f")
        return format(value, ".15g")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
