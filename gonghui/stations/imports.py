"""Station and demand-point sheets (站点导入, 需求点导入): read by `common.sheets.read_table` (every encoding and
layout the roster import reads), every row checked with the services' own field checks, every error reported with
its line as the spreadsheet shows it. All or nothing: when any row has an error nothing is written. Sheets are small
(hundreds of stations, a few thousand demand points), so the import runs in the request or the command, under caps
sized for a web request (STATION_LIMITS, DEMAND_LIMITS) that are checked before the sheet is read.

Stations are matched by managing union and name: an existing one is updated (changed fields only; a field whose
column the sheet does not have is left as it is), a new one created.
"""

import re
from dataclasses import dataclass, field

from django.db import transaction

from gonghui.common.actor import Actor
from gonghui.common.errors import ValidationFailed
from gonghui.common.roles import Perm
from gonghui.common.sheets import HEADER_SEARCH_ROWS, LINE, ColumnSpec, SheetLimits, read_table
from gonghui.common.validators import to_half_width
from gonghui.orgs.models import Organisation
from gonghui.orgs.selectors import orgs_by_code
from gonghui.stations.events import stations_imported
from gonghui.stations.hours import WEEKDAYS, parse_intervals
from gonghui.stations.models import Station
from gonghui.stations.services import (
    REQUIRED,
    _managing_org,
    clean_station_fields,
    demand_point_fields,
    demand_points_replace,
    station_create,
    station_update,
)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_STATION_ROWS = 5_000
MAX_DEMAND_ROWS = 50_000


def _limits(rows: int) -> SheetLimits:
    """Caps for a sheet read in the web request: the import's rows plus title and blank rows, nothing near a
    roster's size."""
    sheet_rows = 2 * rows + HEADER_SEARCH_ROWS
    return SheetLimits(rows=sheet_rows, columns=64, cells=sheet_rows * 32, unpacked_bytes=100 * 1024 * 1024)


STATION_LIMITS = _limits(MAX_STATION_ROWS)
DEMAND_LIMITS = _limits(MAX_DEMAND_ROWS)

STATION_COLUMNS = ColumnSpec(
    synonyms={
        "name": ("站点名称", "名称", "站点"),
        "kind": ("站点类型", "类型"),
        "org_code": ("管理单位代码", "组织代码", "工会代码"),
        "address": ("地址", "详细地址", "站点地址"),
        "lat": ("纬度", "lat", "latitude"),
        "lng": ("经度", "lng", "lon", "longitude"),
        "coord_system": ("坐标系",),
        "hours": ("开放时间", "营业时间", "服务时间"),
        **{f"day_{n}": (label, f"{label}开放时间") for n, label in WEEKDAYS.items()},
        "holiday": ("法定节假日", "节假日", "节假日开放"),
        "facilities": ("设施", "服务设施", "配套设施"),
        "phone": ("联系电话", "电话"),
        "description": ("说明", "备注", "简介"),
    },
    required=("name", "org_code", "lat", "lng"),
    ignored=("序号", "管理单位", "管理单位名称", "状态", "评分"),
)

DEMAND_COLUMNS = ColumnSpec(
    synonyms={
        "name": ("名称", "地点", "地点名称", "需求点"),
        "lat": ("纬度", "lat", "latitude"),
        "lng": ("经度", "lng", "lon", "longitude"),
        "workers": ("人数", "职工人数", "劳动者人数", "户外劳动者人数"),
        "coord_system": ("坐标系",),
    },
    required=("name", "lat", "lng", "workers"),
    ignored=("序号", "备注"),
)

COORD_SYSTEMS = {
    "": "wgs84",
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "cgcs2000": "wgs84",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "火星坐标": "gcj02",
}
_FACILITY_SPLIT = re.compile(r"\s*[,，、;；\s]\s*")  # not "/": 空调/取暖 is one facility


STATUS_LABELS = {"added": "新增", "updated": "更新", "unchanged": "无变化", "error": "有错误"}


@dataclass(frozen=True)
class RowOutcome:
    line: int
    name: str
    status: str  # added | updated | unchanged | error
    reason: str = ""

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass
class SheetResult:
    filename: str
    dry_run: bool
    written: bool
    rows: list[RowOutcome]
    unknown_columns: list[str] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, int]:
        counts = {"added": 0, "updated": 0, "unchanged": 0, "error": 0}
        for row in self.rows:
            counts[row.status] += 1
        return counts


def _read(
    data: bytes, filename: str, spec: ColumnSpec, limit: int, limits: SheetLimits
) -> tuple[list[dict], list[str], set[str]]:
    if not data:
        raise ValidationFailed({"file": "上传的文件是空的"})
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationFailed({"file": f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB，请拆分后分批导入"})
    table = read_table(data, filename, spec, limits=limits)
    records = table.frame.to_dicts()
    if not records:
        raise ValidationFailed({"file": "表头下方没有数据"})
    if len(records) > limit:
        raise ValidationFailed({"file": f"文件有{len(records)}行，超过{limit}行，请拆分后分批导入"})
    return records, list(table.unknown), set(table.mapped)


def _coord_system(raw: str | None) -> str:
    key = to_half_width(raw or "").strip().lower()
    if key not in COORD_SYSTEMS:
        raise ValidationFailed({"coord_system": f"坐标系“{raw}”无法识别，请填写 WGS84 或 GCJ-02"})
    return COORD_SYSTEMS[key]


def _station_fields(record: dict) -> dict:
    """A sheet row as the fields of `clean_station_fields`."""
    hours_text = to_half_width(record.get("hours") or "").strip()
    always = hours_text in ("24小时", "全天", "全天24小时")
    if not always:
        try:  # a bad everyday column is reported once, not once per weekday
            parse_intervals(hours_text, "hours")
        except ValidationFailed as exc:
            raise ValidationFailed({"hours": f"开放时间：{exc.message}"}) from None
    per_day = {str(n): record.get(f"day_{n}") if record.get(f"day_{n}") is not None else hours_text for n in WEEKDAYS}
    holiday = to_half_width(record.get("holiday") or "").strip()
    if holiday in ("", "照常", "照常开放"):
        rule, holiday_hours = "regular", ""
    elif holiday in ("闭站", "休息", "不开放", "关闭"):
        rule, holiday_hours = "closed", ""
    else:
        rule, holiday_hours = "special", holiday
    facilities = [item for item in _FACILITY_SPLIT.split(to_half_width(record.get("facilities") or "")) if item]
    return {
        "kind": (record.get("kind") or "").strip() or "outdoor",
        "name": record.get("name"),
        "address": record.get("address"),
        "lat": record.get("lat"),
        "lng": record.get("lng"),
        "coord_system": _coord_system(record.get("coord_system")),
        "always_open": always,
        "hours": {} if always else per_day,
        "holiday_rule": rule,
        "holiday_hours": holiday_hours,
        "facilities": facilities,
        "phone": record.get("phone") or "",
        "description": record.get("description") or "",
    }


HOURS_COLUMNS = {"hours", *(f"day_{n}" for n in WEEKDAYS)}
# The sheet columns each station field comes from (an update leaves a field alone when the sheet has none of them).
FIELD_COLUMNS = {
    "kind": {"kind"},
    "name": {"name"},
    "address": {"address"},
    "lat": {"lat"},
    "lng": {"lng"},
    "coord_system": {"lat"},
    "always_open": HOURS_COLUMNS,
    "hours": HOURS_COLUMNS,
    "holiday_rule": {"holiday"},
    "holiday_hours": {"holiday"},
    "facilities": {"facilities"},
    "phone": {"phone"},
    "description": {"description"},
}


def _column_of(field_name: str) -> set[str]:
    return FIELD_COLUMNS[field_name]


def _first_error(exc: ValidationFailed) -> str:
    return "；".join(dict.fromkeys(exc.errors.values()))


def stations_import(*, actor: Actor, data: bytes, filename: str, dry_run: bool) -> SheetResult:
    """Check every row of a station sheet and, when none has an error and this is not a dry run, create or update
    the stations in one transaction with one `stations.import` audit event."""
    actor.require(Perm.STATIONS_MANAGE)
    records, unknown, present = _read(data, filename, STATION_COLUMNS, MAX_STATION_ROWS, STATION_LIMITS)
    codes = {(r.get("org_code") or "").strip().upper() for r in records}
    orgs = {o.code: o for o in orgs_by_code(codes)}
    existing = {(s.org_id, s.name): s for s in Station.objects.filter(org__code__in=codes).select_related("org")}
    planned: list[tuple[Organisation, Station | None, dict, str]] = []
    outcomes: list = []
    seen: dict = {}
    for record in records:
        line, name = record[LINE], (record.get("name") or "").strip()
        try:
            org = orgs.get((record.get("org_code") or "").strip().upper())
            if org is None or not actor.covers_path(org.path):
                raise ValidationFailed(
                    {"org": f"管理单位代码“{record.get('org_code') or ''}”不存在或不在您的管辖范围内"}
                )
            _managing_org(actor, org)
            fields = _station_fields(record)
            missing = [
                label
                for key, label in zip(REQUIRED, ("站点类型", "站点名称", "地址", "纬度", "经度"), strict=True)
                if not fields.get(key)
            ]
            if missing:
                raise ValidationFailed({"missing": f"请填写{'、'.join(missing)}"})
            clean = clean_station_fields(fields)
        except ValidationFailed as exc:
            outcomes.append(RowOutcome(line, name, "error", _first_error(exc)))
            continue
        if (org.id, clean["name"]) in existing:  # an update changes only what the sheet has columns for
            fields = {name: value for name, value in fields.items() if _column_of(name) & present}
            clean = {name: value for name, value in clean.items() if _column_of(name) & present}
        key = (org.id, clean["name"])
        if key in seen:
            outcomes.append(RowOutcome(line, name, "error", f"与第{seen[key]}行是同一站点（同一管理单位、同名）"))
            continue
        seen[key] = line
        current = existing.get(key)
        if current is None:
            status = "added"
        elif any(getattr(current, k) != v for k, v in clean.items()):
            status = "updated"
        else:
            status = "unchanged"
        planned.append((org, current, fields, status))
        outcomes.append(RowOutcome(line, clean["name"], status))
    result = SheetResult(filename=filename, dry_run=dry_run, written=False, rows=outcomes, unknown_columns=unknown)
    if dry_run or result.summary["error"]:
        return result
    with transaction.atomic():
        for org, current, fields, status in planned:
            if status == "added":
                station_create(actor=actor, org=org, **fields)
            elif status == "updated" and current is not None:
                station_update(actor=actor, station=current, **fields)
        stations_imported(actor, filename=filename, summary=result.summary)
    result.written = True
    return result


def demand_points_import(*, actor: Actor, org: Organisation, data: bytes, filename: str, dry_run: bool) -> SheetResult:
    """Replace `org`'s demand points with the rows of a sheet (all or nothing)."""
    actor.require(Perm.STATIONS_MANAGE)
    _managing_org(actor, org)
    records, unknown, _present = _read(data, filename, DEMAND_COLUMNS, MAX_DEMAND_ROWS, DEMAND_LIMITS)
    rows, outcomes = [], []
    for record in records:
        try:
            row = demand_point_fields({**record, "coord_system": _coord_system(record.get("coord_system"))})
        except ValidationFailed as exc:
            outcomes.append(RowOutcome(record[LINE], (record.get("name") or "").strip(), "error", _first_error(exc)))
            continue
        rows.append(row)
        outcomes.append(RowOutcome(record[LINE], row["name"], "added"))
    result = SheetResult(filename=filename, dry_run=dry_run, written=False, rows=outcomes, unknown_columns=unknown)
    if dry_run or result.summary["error"]:
        return result
    demand_points_replace(actor=actor, org=org, rows=rows, filename=filename)
    result.written = True
    return result
