"""职工服务统计表: the figures of `case_figures` as an .xlsx table with a merged title, the 填报单位/统计期间 line,
Chinese headings and a totals row where a total means something."""

import io
from datetime import date, datetime

from gonghui.casework.selectors import KindFigures
from gonghui.common.workbooks import new_workbook
from gonghui.orgs.models import Organisation

HEADINGS = [
    ("服务类型", 12),
    ("申请/慰问（件）", 14),
    ("受助人数", 10),
    ("发放金额（元）", 16),
    ("物资折价（元）", 16),
    ("办结（件）", 10),
    ("平均办理天数", 12),
    ("超期件数", 10),
    ("超期率", 10),
    ("评价件数", 10),
    ("平均评价（星）", 12),
    ("挽回经济损失（元）", 18),
]


def figures_xlsx(
    *, org: Organisation, start: date, end: date, rows: list[KindFigures], exported_at: datetime, exported_by: str
) -> bytes:
    buffer = io.BytesIO()
    book = new_workbook(buffer)
    sheet = book.add_worksheet("职工服务统计")
    title = book.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
    meta = book.add_format({"font_size": 10})
    head = book.add_format({"bold": True, "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True})
    cell = book.add_format({"border": 1})
    number = book.add_format({"border": 1, "num_format": "#,##0"})
    money = book.add_format({"border": 1, "num_format": "#,##0.00"})
    decimal = book.add_format({"border": 1, "num_format": "0.0"})
    rating = book.add_format({"border": 1, "num_format": "0.00"})
    percent = book.add_format({"border": 1, "num_format": "0.0%"})
    total_label = book.add_format({"border": 1, "bold": True})
    total_number = book.add_format({"border": 1, "bold": True, "num_format": "#,##0"})
    total_money = book.add_format({"border": 1, "bold": True, "num_format": "#,##0.00"})
    last_col = len(HEADINGS) - 1
    sheet.merge_range(0, 0, 0, last_col, f"{org.name}职工服务统计表", title)
    sheet.set_row(0, 28)
    sheet.merge_range(1, 0, 1, 5, f"填报单位：{org.name}", meta)
    sheet.merge_range(1, 6, 1, last_col, f"统计期间：{start:%Y年%m月%d日}至{end:%Y年%m月%d日}", meta)
    for col, (heading, width) in enumerate(HEADINGS):
        sheet.set_column(col, col, width)
        sheet.write(2, col, heading, head)
    sheet.set_row(2, 32)
    row_index = 3
    for item in rows:
        values = [
            (item.label, cell),
            (item.cases, number),
            (item.people, number),
            (float(item.money), money),
            (float(item.extra.get("goods_value", 0)), money),
            (item.closed if item.kind != "care" else None, number),
            (round(item.avg_days, 1) if item.avg_days is not None else None, decimal),
            (item.overdue if item.kind != "care" else None, number),
            (item.overdue_share, percent),
            (item.rated if item.kind != "care" else None, number),
            (round(item.avg_rating, 2) if item.avg_rating is not None else None, rating),
            (float(item.extra["amount_recovered"]) if "amount_recovered" in item.extra else None, money),
        ]
        for col, (value, style) in enumerate(values):
            if value is None:
                sheet.write_blank(row_index, col, None, style)
            else:
                sheet.write(row_index, col, value, style)
        row_index += 1
    sheet.write(row_index, 0, "合计", total_label)
    sheet.write(row_index, 1, sum(item.cases for item in rows), total_number)
    sheet.write_blank(row_index, 2, None, total_number)  # the same person may be helped by several services
    sheet.write(row_index, 3, float(sum(item.money for item in rows)), total_money)
    sheet.write(row_index, 4, float(sum(item.extra.get("goods_value", 0) for item in rows)), total_money)
    sheet.write(row_index, 5, sum(item.closed for item in rows), total_number)
    for col in range(6, last_col + 1):
        sheet.write_blank(row_index, col, None, total_number)
    notes = [
        "说明：1. 申请件数按提交日期统计，慰问按慰问次数统计；受助人数、发放金额按实际发放/支付日期统计。",
        "2. 平均办理天数、评价按办结日期统计；超期率为统计期内提交的申请中曾超期或当前已超期的比例。",
        "3. 受助人数合计不作相加：同一职工可能同时享受多项服务。",
        f"制表：{exported_by}　　制表时间：{exported_at:%Y-%m-%d %H:%M}",
    ]
    for offset, line in enumerate(notes, start=2):
        sheet.merge_range(row_index + offset, 0, row_index + offset, last_col, line, meta)
    book.close()
    return buffer.getvalue()
