"""导出 Excel on every back-office list: the rows the list shows under its current filters, search and ordering (all
pages, not only the one on screen), as an .xlsx file written through gonghui.common.workbooks.

`ListExportMixin` goes in front of a `ScopedModelAdmin` subclass. Its rows come from the admin's own ChangeList, so
they are scoped by the admin's selector exactly as the list is; its columns are the list's columns with the values
the list prints (personal numbers therefore masked as on screen). A GET shows what will be exported and a 确认
button; only the POST writes the file, once the row count is within the cap, and records one audit event with the
filters and the row count.

Stable API for an admin that adopts it:

    class ServiceCaseAdmin(ListExportMixin, _DetailPageAdmin):
        export_perm = Perm.EXPORT            # default; what the actor needs besides seeing the list
        export_max_rows = 20_000             # default cap; a larger result is refused with a Chinese message
        export_title = "职工服务事项"          # default: the model's verbose_name_plural

        def export_columns(self, request):   # optional: [(heading, function(obj) -> value)], default: list_display
            ...

        def export_workbook(self, request, *, rows, title, filters_text, exported_at) -> bytes:
            ...                              # optional: a layout of the domain's own (e.g. the member roster)

An admin that declares its own `actions_list` adds "export_list" to it.
"""

import io
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters, ModelAdmin
from django.contrib.admin.utils import label_for_field, lookup_field
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import models, transaction
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from unfold.decorators import action

from gonghui.audit.services import audit_record
from gonghui.backoffice.base import render_page, request_actor, require_actor
from gonghui.backoffice.views.helpers import download
from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError
from gonghui.common.roles import Perm
from gonghui.common.workbooks import new_workbook

EXPORT_MAX_ROWS = 20_000
# Query parameters of a changelist that do not change which rows it holds.
_NOT_FILTERS = frozenset({"p", "e", "_changelist_filters", "_to_field", "_popup"})


def attachment(content: bytes, file_name: str) -> HttpResponse:
    """An .xlsx download; the Chinese file name goes in filename* (RFC 6266), an ASCII one beside it."""
    return download(content, file_name, ascii_filename="export.xlsx", no_store=True)


def list_export_record(
    *, actor: Actor, list_name: str, object_type: str, filters: dict[str, str], filters_text: str, rows: int
) -> None:
    """The audit event of one list export: which list, under which filters, how many rows."""
    audit_record(
        actor=actor,
        action="list.export",
        object_type=object_type,
        object_label=list_name,
        object_org_path=actor.scope_path,
        details={"list": list_name, "filters": filters, "conditions": filters_text, "rows": rows},
    )


def cell_text(value: Any) -> Any:
    """A list value as the file holds it: numbers stay numbers, dates read YYYY-MM-DD, times are local."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
            if timezone.is_aware(value)
            else f"{value:%Y-%m-%d %H:%M}"
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return " ".join(str(cell_text(item)) for item in value if item not in (None, ""))
    return strip_tags(str(value))


def generic_workbook(
    *,
    title: str,
    columns: list[tuple[str, Callable[[Any], Any]]],
    rows: Iterable[Any],
    filters_text: str,
    exported_at: datetime,
    exported_by: str,
) -> bytes:
    buffer = io.BytesIO()
    book = new_workbook(buffer, constant_memory=True)
    sheet = book.add_worksheet(title)
    heading = book.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
    meta = book.add_format({"font_size": 10})
    head = book.add_format({"bold": True, "border": 1, "bg_color": "#E8EEF7", "align": "center", "text_wrap": True})
    cell = book.add_format({"border": 1})
    text = book.add_format({"border": 1, "num_format": "@"})
    last_col = max(len(columns), 2)
    sheet.set_column(0, 0, 7)
    for col in range(1, last_col + 1):
        sheet.set_column(col, col, 18)
    sheet.merge_range(0, 0, 0, last_col, title, heading)
    sheet.set_row(0, 28)
    sheet.merge_range(
        1,
        0,
        1,
        last_col,
        f"导出时间：{exported_at:%Y-%m-%d %H:%M}    导出人：{exported_by}    筛选条件：{filters_text}",
        meta,
    )
    sheet.write(2, 0, "序号", head)
    for col, (label, _value) in enumerate(columns, start=1):
        sheet.write(2, col, label, head)
    sheet.freeze_panes(3, 2)
    row = 3
    for number, obj in enumerate(rows, start=1):
        sheet.write(row, 0, number, cell)
        for col, (_label, value_of) in enumerate(columns, start=1):
            value = cell_text(value_of(obj))
            sheet.write(row, col, value, cell if isinstance(value, int | float) else text)
        row += 1
    sheet.write(row + 1, 0, f"合计：{row - 3} 条", meta)
    book.close()
    return buffer.getvalue()


# The mixin is always combined with a ModelAdmin; the type checker is told so.
if TYPE_CHECKING:
    _AdminBase = ModelAdmin
else:
    _AdminBase = object


class ListExportMixin(_AdminBase):
    """导出 Excel for a ScopedModelAdmin's changelist (see the module doc for its API)."""

    export_perm: Perm = Perm.EXPORT
    export_max_rows: int = EXPORT_MAX_ROWS
    export_title: str = ""
    actions_list = ["export_list"]

    # ---- what an admin may override

    def export_columns(self, request) -> list[tuple[str, Callable[[Any], Any]]]:
        columns = []
        for name in self.get_list_display(request):
            if name == "action_checkbox":
                continue
            label = strip_tags(str(label_for_field(name, self.model, model_admin=self)))
            columns.append((label, self._column_value(name)))
        return columns

    def export_workbook(self, request, *, rows: Iterable[Any], title: str, filters_text: str, exported_at) -> bytes:
        return generic_workbook(
            title=title,
            columns=self.export_columns(request),
            rows=rows,
            filters_text=filters_text,
            exported_at=exported_at,
            exported_by=require_actor(request).label,
        )

    def get_export_title(self) -> str:
        return self.export_title or str(self.model._meta.verbose_name_plural)

    # ---- the action

    def has_list_export_permission(self, request, object_id=None) -> bool:
        actor = request_actor(request)
        return actor is not None and actor.can(self.export_perm) and self.has_view_permission(request)

    @action(description="导出 Excel", icon="download", url_path="export", permissions=["list_export"])
    def export_list(self, request):
        actor = require_actor(request)
        if not self.has_list_export_permission(request):
            raise DjangoPermissionDenied
        list_url = reverse(f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_changelist")
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            messages.error(request, "筛选条件有误，请在列表中重新选择后再导出")
            return redirect(list_url)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(list_url)
        queryset = changelist.queryset
        title = self.get_export_title()
        filters = {key: value for key, value in request.GET.items() if key not in _NOT_FILTERS}
        filters_text = self._filters_text(request, changelist)
        query = request.GET.copy()
        for key in _NOT_FILTERS:
            query.pop(key, None)
        back_url = list_url + (f"?{query.urlencode()}" if query else "")
        found = queryset[: self.export_max_rows + 1].count()
        too_many = found > self.export_max_rows
        refusal = (
            f"当前筛选结果超过 {self.export_max_rows} 条，超出单次导出上限。请先用筛选条件或搜索缩小范围，再分批导出。"
        )
        if request.method != "POST":
            return render_page(
                request,
                f"导出：{title}",
                "backoffice/list_export.html",
                list_title=title,
                filters_text=filters_text,
                rows=found,
                too_many=too_many,
                refusal=refusal,
                max_rows=self.export_max_rows,
                query=query.urlencode(),
                back_url=back_url,
                masked_note=self._masked_note(request),
            )
        if too_many:
            messages.error(request, refusal)
            return redirect(back_url)
        exported_at = timezone.localtime()
        with transaction.atomic():
            rows = list(queryset)
            content = self.export_workbook(
                request, rows=rows, title=title, filters_text=filters_text, exported_at=exported_at
            )
            list_export_record(
                actor=actor,
                list_name=title,
                object_type=self.model._meta.model_name,
                filters=filters,
                filters_text=filters_text,
                rows=len(rows),
            )
        return attachment(content, f"{title}_{exported_at:%Y%m%d%H%M}.xlsx")

    def changelist_view(self, request, extra_context=None):
        """The 导出 Excel button carries the list's current filters, search and ordering."""
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and context.get("actions_list") and request.GET:
            export_url = reverse(f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_export_list")
            query = request.GET.copy()
            for key in _NOT_FILTERS:
                query.pop(key, None)
            for item in context["actions_list"]:
                if isinstance(item, dict) and item.get("path") == export_url and query:
                    item["path"] = f"{export_url}?{query.urlencode()}"
        return response

    # ---- helpers

    def _column_value(self, name: str | Callable[[Any], Any]) -> Callable[[Any], Any]:
        def value_of(obj):
            field, attr, value = lookup_field(name, obj, self)
            if field is not None:
                if getattr(field, "flatchoices", None):
                    return dict(field.flatchoices).get(value, value)
                if isinstance(field, models.ForeignKey):
                    return str(value) if value is not None else ""
            return value

        return value_of

    def _masked_note(self, request) -> str:
        names = {"证件号码", "手机号码", "联系电话"}
        shown = [label for label, _value in self.export_columns(request) if label in names]
        return f"{'、'.join(shown)}按列表显示脱敏导出。" if shown else ""

    def _filters_text(self, request, changelist) -> str:
        parts = []
        for spec in changelist.filter_specs:
            params = set(spec.expected_parameters())
            if not params.intersection(request.GET):
                continue
            chosen = [str(choice["display"]) for choice in spec.choices(changelist) if choice.get("selected")]
            if chosen:
                parts.append(f"{spec.title}：{'、'.join(chosen)}")
        if changelist.query:
            parts.append(f"搜索：{changelist.query}")
        return "；".join(parts) or "全部"
