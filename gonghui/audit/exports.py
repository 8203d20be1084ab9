"""审计日志导出: the filtered trail as an .xlsx for an inspection, in the words and the time of the back office pages.

Written through the project's one spreadsheet writer (common.workbooks), so an actor's name, an object's label or a
detail that looks like a formula stays text."""

import io
from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from gonghui.audit.labels import (
    EMPTY,
    OrgNames,
    action_label,
    actor_kind_label,
    detail_rows,
    object_type_label,
    role_label,
)
from gonghui.audit.models import AuditEvent, AuditResult
from gonghui.audit.selectors import AuditFilters
from gonghui.common.workbooks import new_workbook

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

HEADINGS = [
    ("时间", 20),
    ("操作", 26),
    ("结果", 8),
    ("操作者", 18),
    ("操作者类型", 10),
    ("角色", 14),
    ("操作者所属组织", 40),
    ("IP 地址", 16),
    ("对象类型", 14),
    ("对象", 30),
    ("对象编号", 38),
    ("对象所属组织", 40),
    ("详情", 60),
    ("事件编号", 38),
]


def local_time(moment: datetime) -> str:
    """A moment as the product shows it: Asia/Shanghai, to the second."""
    return timezone.localtime(moment).strftime(TIME_FORMAT)


def result_label(result: str) -> str:
    try:
        return AuditResult(result).label
    except ValueError:
        return result


def actor_org_name(event: AuditEvent, names: OrgNames) -> str:
    """The actor's organisation by its id (stable when the organisation later moves); its recorded path otherwise."""
    if event.actor_org_id:
        named = names.name_of_id(str(event.actor_org_id))
        if named != str(event.actor_org_id):
            return named
    return names.name_of_path(event.actor_org_path) if event.actor_org_path not in ("", "-") else EMPTY


def details_text(event: AuditEvent, names: OrgNames) -> str:
    return "；".join(f"{label}：{value}" for label, value in detail_rows(event.details, org_names=names)) or EMPTY


def describe_filters(filters: AuditFilters, names: OrgNames) -> str:
    """The filters in a sentence: 筛选条件：时间 2026-12-01 至 2026-12-07；操作：导出会员名册；… (全部 when none)."""
    parts = []
    if filters.start or filters.end:
        start = filters.start.isoformat() if filters.start else "不限"
        end = filters.end.isoformat() if filters.end else "不限"
        parts.append(f"时间：{start} 至 {end}")
    if filters.action:
        parts.append(f"操作：{action_label(filters.action)}")
    if filters.audit_result:
        parts.append(f"结果：{result_label(filters.audit_result)}")
    if filters.actor:
        parts.append(f"操作者：{filters.actor}")
    if filters.actor_role:
        parts.append(f"角色：{role_label(filters.actor_role)}")
    if filters.org_id or filters.org_path:
        parts.append(f"组织：{names.name_of_id(filters.org_id) if filters.org_id else filters.org_path}（含下级）")
    if filters.object_type:
        parts.append(f"对象类型：{object_type_label(filters.object_type)}")
    if filters.object:
        parts.append(f"对象：{filters.object}")
    return "；".join(parts) or "全部"


def event_row(event: AuditEvent, names: OrgNames) -> list[str]:
    return [
        local_time(event.at),
        action_label(event.action),
        result_label(event.result),
        names.actor(event.actor_id, event.actor_label) if event.actor_kind == "user" else event.actor_label,
        actor_kind_label(event.actor_kind),
        role_label(event.actor_role),
        actor_org_name(event, names),
        event.ip or EMPTY,
        object_type_label(event.object_type),
        event.object_label or EMPTY,
        event.object_id or EMPTY,
        names.name_of_path(event.object_org_path),
        details_text(event, names),
        str(event.id),
    ]


def audit_trail_xlsx(
    *,
    events: Iterable[AuditEvent],
    count: int,
    filters: AuditFilters,
    names: OrgNames,
    exported_at: datetime,
    exported_by: str,
) -> bytes:
    buffer = io.BytesIO()
    book = new_workbook(buffer, constant_memory=True)
    sheet = book.add_worksheet("审计日志")
    title = book.add_format({"bold": True, "font_size": 14})
    head = book.add_format({"bold": True, "border": 1, "valign": "vcenter"})
    cell = book.add_format({"border": 1, "valign": "top"})
    wrapped = book.add_format({"border": 1, "valign": "top", "text_wrap": True})
    for col, (_, width) in enumerate(HEADINGS):
        sheet.set_column(col, col, width)
    sheet.write_string(0, 0, "审计日志导出", title)
    sheet.write_string(1, 0, f"筛选条件：{describe_filters(filters, names)}")
    sheet.write_string(
        2, 0, f"导出人：{exported_by}；导出时间：{timezone.localtime(exported_at):{TIME_FORMAT}}；共 {count} 条"
    )
    for col, (heading, _) in enumerate(HEADINGS):
        sheet.write_string(3, col, heading, head)
    detail_col = [heading for heading, _ in HEADINGS].index("详情")
    for row_index, event in enumerate(events, start=4):
        for col, value in enumerate(event_row(event, names)):
            sheet.write_string(row_index, col, value, wrapped if col == detail_col else cell)
    sheet.freeze_panes(4, 0)
    book.close()
    return buffer.getvalue()
