"""The standard statistics tables as .xlsx (会员统计表, 建会情况表, 年度工作统计) and the annual summary as .docx:
a merged title, the 填报单位 / 统计日期 lines such tables carry, Chinese headings, a totals row, notes."""

import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from gonghui.common.workbooks import new_workbook
from gonghui.orgs.models import Organisation
from gonghui.stats.selectors import Headline, Rates
from gonghui.stats.summary import AnnualSummary


@dataclass(frozen=True)
class Column:
    heading: str
    width: int
    kind: str = "number"  # text | number | percent


def _table_xlsx(
    *,
    title: str,
    org: Organisation,
    period_line: str,
    columns: list[Column],
    rows: list[list],
    totals: list | None,
    notes: list[str],
    exported_at: datetime,
    exported_by: str,
) -> bytes:
    buffer = io.BytesIO()
    book = new_workbook(buffer)
    sheet = book.add_worksheet(title)  # made a valid sheet name by the workbook
    formats = {
        "title": book.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"}),
        "meta": book.add_format({"font_size": 10}),
        "head": book.add_format({"bold": True, "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True}),
        "text": book.add_format({"border": 1}),
        "number": book.add_format({"border": 1, "num_format": "#,##0"}),
        "percent": book.add_format({"border": 1, "num_format": "0.0"}),
        "money": book.add_format({"border": 1, "num_format": "#,##0.00"}),
        "general": book.add_format({"border": 1}),
        "total_text": book.add_format({"border": 1, "bold": True}),
        "total_number": book.add_format({"border": 1, "bold": True, "num_format": "#,##0"}),
        "total_percent": book.add_format({"border": 1, "bold": True, "num_format": "0.0"}),
        "total_money": book.add_format({"border": 1, "bold": True, "num_format": "#,##0.00"}),
    }
    last = len(columns) - 1
    half = max(1, last // 2)
    sheet.merge_range(0, 0, 0, last, title, formats["title"])
    sheet.set_row(0, 28)
    sheet.merge_range(1, 0, 1, half, f"填报单位：{org.name}", formats["meta"])
    sheet.merge_range(1, half + 1, 1, last, period_line, formats["meta"])
    for col, column in enumerate(columns):
        sheet.set_column(col, col, column.width)
        sheet.write(2, col, column.heading, formats["head"])
    sheet.set_row(2, 32)

    def write_row(index: int, values: list, prefix: str = "") -> None:
        for col, (value, column) in enumerate(zip(values, columns, strict=True)):
            kind = column.kind
            if value is None:
                sheet.write_blank(index, col, None, formats[f"{prefix}text"])
            elif kind == "text":
                sheet.write_string(index, col, str(value), formats[f"{prefix}text"])
            else:
                sheet.write_number(index, col, float(value), formats[f"{prefix}{kind}"])

    index = 3
    for values in rows:
        write_row(index, values)
        index += 1
    if totals is not None:
        write_row(index, totals, "total_")
        index += 1
    index += 1
    for note in notes:
        sheet.merge_range(index, 0, index, last, note, formats["meta"])
        index += 1
    sheet.merge_range(
        index, 0, index, last, f"制表：{exported_by}　导出时间：{exported_at:%Y年%m月%d日 %H:%M}", formats["meta"]
    )
    sheet.freeze_panes(3, 1)
    book.close()
    return buffer.getvalue()


MEMBER_COLUMNS = [
    Column("单位", 30, "text"),
    Column("期末会员数（人）", 12),
    Column("上年同期（人）", 12),
    Column("新入会（人）", 10),
    Column("接转转入（人）", 10),
    Column("接转转出（人）", 10),
    Column("退会及注销（人）", 10),
    Column("净增（人）", 10),
    Column("女职工会员（人）", 10),
    Column("农民工会员（人）", 10),
    Column("新就业形态会员（人）", 12),
]


@dataclass(frozen=True)
class MemberTableRow:
    name: str
    headline: Headline


def member_table_xlsx(
    *,
    org: Organisation,
    period_label: str,
    reached_label: str,
    rows: list[MemberTableRow],
    total: Headline,
    exported_at: datetime,
    exported_by: str,
) -> bytes:
    """会员统计表: one row per child organisation and the total of the whole subtree."""

    def values(name: str, h: Headline) -> list:
        return [
            name,
            h.members,
            h.members_before,
            h.joined,
            h.transferred_in,
            h.transferred_out,
            h.left,
            h.net_change,
            h.female,
            h.migrant,
            h.new_employment,
        ]

    return _table_xlsx(
        title=f"{org.name}会员统计表",
        org=org,
        period_line=f"统计期间：{period_label}　统计日期：{reached_label}",
        columns=MEMBER_COLUMNS,
        rows=[values(r.name, r.headline) for r in rows],
        totals=values("合计", total),
        notes=[
            "说明：会员数含正式会员和保留会籍；期末会员数为统计期末（本期未结束时为统计日期）的人数。",
            "合计为本单位及全部下级组织之和（含直属本单位的会员），各行之和可能小于合计。",
        ],
        exported_at=exported_at,
        exported_by=exported_by,
    )


FOUNDING_COLUMNS = [
    Column("单位", 30, "text"),
    Column("基层工会（个）", 10),
    Column("企业/单位（家）", 10),
    Column("已建会（家）", 10),
    Column("25人以上企业（家）", 12),
    Column("其中已建会（家）", 12),
    Column("建会率（%）", 10, "percent"),
    Column("100人以上企业（家）", 12),
    Column("其中已建会（家）", 12),
    Column("建会率（%）", 10, "percent"),
]


@dataclass(frozen=True)
class FoundingRow:
    name: str
    unions: int
    employers: int
    employers_covered: int
    rates: Rates


def founding_table_xlsx(
    *, org: Organisation, as_of_label: str, rows: list[FoundingRow], total: FoundingRow, exported_at, exported_by
) -> bytes:
    """建会情况表: employers located in each child organisation's area and whether a union covers them."""

    def values(r: FoundingRow) -> list:
        return [
            r.name,
            r.unions,
            r.employers,
            r.employers_covered,
            r.rates.employers_25,
            r.rates.employers_25_covered,
            r.rates.founding_25,
            r.rates.employers_100,
            r.rates.employers_100_covered,
            r.rates.founding_100,
        ]

    return _table_xlsx(
        title=f"{org.name}建会情况表",
        org=org,
        period_line=f"统计日期：{as_of_label}",
        columns=FOUNDING_COLUMNS,
        rows=[values(r) for r in rows],
        totals=values(total),
        notes=[
            "说明：建会率 = 已建会企业数 ÷ 企业总数 × 100%，按职工人数 25 人以上、100 人以上分别计算；",
            "企业按所在镇(街道)/园区统计，已建会指有工会覆盖（独立建会或纳入联合基层工会）。",
            "合计为本单位全部辖区之和；已撤销、已合并组织不单列，其辖区内登记的企业仍计入合计。",
        ],
        exported_at=exported_at,
        exported_by=exported_by,
    )


SUMMARY_COLUMNS = [
    Column("类别", 12, "text"),
    Column("指标", 22, "text"),
    Column("数值", 14, "general"),
    Column("单位", 8, "text"),
    Column("表述参考", 70, "text"),
    Column("说明", 26, "text"),
]


def _summary_period_line(summary: AnnualSummary) -> str:
    line = f"统计年度：{summary.year}年　统计日期：{summary.reached:%Y年%m月%d日}"
    return line if summary.complete else line + "（年度未结束）"


def summary_xlsx(*, summary: AnnualSummary, exported_at: datetime, exported_by: str) -> bytes:
    rows = [[i.section, i.name, i.value, i.unit, i.sentence + "。", i.note] for i in summary.items]
    return _table_xlsx(
        title=f"{summary.org.name}{summary.year}年度工作统计",
        org=summary.org,
        period_line=_summary_period_line(summary),
        columns=SUMMARY_COLUMNS,
        rows=rows,
        totals=None,
        notes=["说明：注明“当前数”的指标为导出时的数值；其余为统计年度内或年底的数值。各指标口径见统计口径说明。"],
        exported_at=exported_at,
        exported_by=exported_by,
    )


def summary_docx(*, summary: AnnualSummary, exported_at: datetime, exported_by: str) -> bytes:
    """The summary as a Word document: a title, the unit and date, one paragraph of sentences per section, and
    the table of figures."""
    document = Document()
    style = document.styles["Normal"]
    style.font.size = Pt(11)
    heading = document.add_heading(f"{summary.org.name}{summary.year}年度工作统计", level=1)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph(f"填报单位：{summary.org.name}　{_summary_period_line(summary)}")
    sections: dict[str, list[str]] = {}
    for item in summary.items:
        sections.setdefault(item.section, []).append(item.sentence)
    for section, sentences in sections.items():
        document.add_heading(section, level=2)
        document.add_paragraph("；".join(sentences) + "。")
    document.add_heading("统计数据", level=2)
    table = document.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("类别", "指标", "数值", "单位", "说明"), strict=True):
        cell.text = text
    for item in summary.items:
        cells = table.add_row().cells
        value = "—" if item.value is None else (f"{item.value}" if isinstance(item.value, Decimal) else f"{item.value}")
        for cell, text in zip(cells, (item.section, item.name, value, item.unit, item.note), strict=True):
            cell.text = text
    document.add_paragraph(f"制表：{exported_by}　导出时间：{exported_at:%Y年%m月%d日 %H:%M}")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
