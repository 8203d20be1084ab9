"""Writing stations: register, change, pause/withdraw, photos, visitors' ratings, and the bulk imports of stations
and demand points from a sheet. Every write checks the actor's scope and is audited in the same transaction."""

from collections.abc import Sequence
from typing import Any, TypedDict, Unpack

from django.core.files.base import ContentFile
from django.db import transaction

from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError, NotFound, ValidationFailed
from gonghui.common.geo import clean_coordinates
from gonghui.common.roles import Perm
from gonghui.common.validators import normalise_cn_phone, to_half_width
from gonghui.members.models import Person
from gonghui.orgs.models import Organisation, OrgStatus
from gonghui.stations.events import demand_points_replaced, station_event
from gonghui.stations.hours import HOLIDAY_RULES, WEEKDAYS, parse_intervals
from gonghui.stations.models import (
    DemandPoint,
    Facility,
    Station,
    StationKind,
    StationPhoto,
    StationRating,
    StationStatus,
)

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTOS = 6
PHOTO_TYPES = {b"\xff\xd8\xff": ("image/jpeg", "jpg"), b"\x89PNG\r\n\x1a\n": ("image/png", "png")}


def _managing_org(actor: Actor, org: Organisation | None) -> Organisation:
    if org is None:
        raise ValidationFailed({"org": "请选择管理单位"})
    if not actor.covers_path(org.path):
        raise ValidationFailed({"org": "所选组织不存在或不在您的管辖范围内"})
    if org.status != OrgStatus.ACTIVE:
        raise ValidationFailed({"org": "所选组织不是正常状态"})
    return org


class StationFields(TypedDict, total=False):
    """A station's fields as `station_create` and `station_update` take them (a key left out is left unchanged).
    Kinds and facilities may be given as codes or as their Chinese labels (a sheet's cells)."""

    kind: str
    name: str
    address: str
    lat: float | str | None
    lng: float | str | None
    coord_system: str  # wgs84 or gcj02
    always_open: bool
    hours: dict[str, str]  # weekday ("1".."7") -> intervals text
    holiday_rule: str
    holiday_hours: str
    facilities: Sequence[str]
    phone: str
    description: str
    status: str


def clean_station_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The fields of a station from a form or a sheet row, every error at once. `hours` is {weekday: text},
    `holiday_hours` text, `facilities` a list of codes or labels, `coord_system` wgs84 or gcj02."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    if "kind" in data:
        kind = data["kind"]
        by_label = {label: value for value, label in StationKind.choices}
        kind = by_label.get(kind, kind)
        if kind not in StationKind.values:
            errors["kind"] = "请选择站点类型"
        clean["kind"] = kind
    for name, label, limit in (("name", "站点名称", 100), ("address", "地址", 200)):
        if name in data:
            value = to_half_width(data[name] or "").strip()
            if not value:
                errors[name] = f"请填写{label}"
            elif len(value) > limit:
                errors[name] = f"{label}不能超过 {limit} 个字"
            clean[name] = value
    if "lat" in data or "lng" in data:
        try:
            clean["lat"], clean["lng"] = clean_coordinates(
                data.get("lat"), data.get("lng"), system=data.get("coord_system") or "wgs84"
            )
        except ValidationFailed as exc:
            errors["lat"] = exc.message
    if "always_open" in data:
        clean["always_open"] = bool(data["always_open"])
    if "hours" in data:
        hours = {}
        for day, label in WEEKDAYS.items():
            try:
                hours[str(day)] = parse_intervals((data["hours"] or {}).get(str(day), ""), label)
            except ValidationFailed as exc:
                errors[f"hours_{day}"] = f"{label}：{exc.message}"
        clean["hours"] = hours
    if "holiday_rule" in data:
        if data["holiday_rule"] not in HOLIDAY_RULES:
            errors["holiday_rule"] = "请选择法定节假日的开放方式"
        clean["holiday_rule"] = data["holiday_rule"]
    if "holiday_hours" in data:
        try:
            clean["holiday_hours"] = parse_intervals(data["holiday_hours"] or "", "节假日开放时间")
        except ValidationFailed as exc:
            errors["holiday_hours"] = exc.message
        if clean.get("holiday_rule") == "special" and not clean.get("holiday_hours") and "holiday_hours" not in errors:
            errors["holiday_hours"] = "节假日“另定时间”时请填写节假日开放时间"
    if "facilities" in data:
        by_label = {label: value for value, label in Facility.choices}
        codes = []
        for item in data["facilities"] or []:
            code = by_label.get(item, item)
            if code not in Facility.values:
                errors["facilities"] = f"没有“{item}”这种设施，可选：{'、'.join(Facility.labels)}"
                break
            if code not in codes:
                codes.append(code)
        clean["facilities"] = [code for code in Facility.values if code in codes]
    if "phone" in data:
        phone = to_half_width(data["phone"] or "").strip()
        if phone:
            try:
                phone = normalise_cn_phone(phone)
            except ValueError as exc:
                errors["phone"] = str(exc)
        clean["phone"] = phone
    if "description" in data:
        clean["description"] = (data["description"] or "").strip()[:500]
    if "status" in data:
        if data["status"] not in StationStatus.values:
            errors["status"] = "请选择站点状态"
        clean["status"] = data["status"]
    if not errors and not clean.get("always_open", True) and "hours" in clean and not any(clean["hours"].values()):
        errors["hours"] = "请至少填写一天的开放时间，或选择24小时开放"
    if errors:
        raise ValidationFailed(errors)
    return clean


REQUIRED = ("kind", "name", "address", "lat", "lng")


def station_name_check(*, org: Organisation, name: str, station_id=None) -> None:
    """A station's name is unique within its managing union."""
    name = to_half_width(name or "").strip()
    if Station.objects.filter(org=org, name=name).exclude(id=station_id).exists():
        raise ValidationFailed({"name": "本单位已有同名站点"})


@transaction.atomic
def station_create(*, actor: Actor, org: Organisation, **fields: Unpack[StationFields]) -> Station:
    actor.require(Perm.STATIONS_MANAGE)
    missing = {name: "此项为必填项" for name in REQUIRED if fields.get(name) in (None, "")}
    org_error = {}
    try:
        org = _managing_org(actor, org)
    except ValidationFailed as exc:
        org_error = exc.errors
    try:
        clean = clean_station_fields({"hours": {}, "always_open": False, "holiday_rule": "regular", **fields})
    except ValidationFailed as exc:
        raise ValidationFailed({**org_error, **exc.errors, **missing}) from None
    if missing or org_error:
        raise ValidationFailed({**org_error, **missing})
    station_name_check(org=org, name=clean["name"])
    station = Station.objects.create(org=org, **clean)
    station_event(actor, "station.create", station, {"kind": station.kind})
    return station


@transaction.atomic
def station_update(*, actor: Actor, station: Station, **fields: Unpack[StationFields]) -> Station:
    actor.require(Perm.STATIONS_MANAGE)
    station = _station_locked(actor, station.id)
    clean = clean_station_fields(dict(fields))
    changed = {}
    for name, value in clean.items():
        if getattr(station, name) != value:
            changed[name] = value
            setattr(station, name, value)
    if not station.always_open and not any(station.hours.values()):
        raise ValidationFailed({"hours": "请至少填写一天的开放时间，或选择24小时开放"})
    if "name" in changed:
        station_name_check(org=station.org, name=station.name, station_id=station.id)
    if changed:
        station.save()
        station_event(actor, "station.update", station, {"fields": sorted(changed)})
    return station


def _station_locked(actor: Actor, station_id) -> Station:
    station = Station.objects.select_for_update(of=("self",)).select_related("org").filter(id=station_id).first()
    if station is None or not actor.covers_path(station.org.path):
        raise NotFound()
    return station


@transaction.atomic
def station_status_set(*, actor: Actor, station: Station, status: str, reason: str) -> Station:
    """开放 / 暂停 / 撤销, with a reason (a withdrawn station can be reopened by setting it open again)."""
    actor.require(Perm.STATIONS_MANAGE)
    station = _station_locked(actor, station.id)
    if status not in StationStatus.values:
        raise ValidationFailed({"status": "请选择站点状态"})
    reason = (reason or "").strip()
    if status != StationStatus.OPEN and not reason:
        raise ValidationFailed({"reason": "暂停或撤销站点请说明原因"})
    if station.status == status:
        raise DomainError(f"站点已经是“{station.get_status_display()}”状态")
    before = station.status
    station.status = status
    station.save(update_fields=["status", "updated_at"])
    station_event(actor, "station.status", station, {"from": before, "to": status, "reason": reason[:200]})
    return station


def photo_check(data: bytes, *, photos_before: int) -> tuple[str, str]:
    """(content type, suffix) of an acceptable photo, or ValidationFailed with the reason."""
    if not data:
        raise ValidationFailed({"photo": "请选择照片"})
    if len(data) > MAX_PHOTO_BYTES:
        raise ValidationFailed({"photo": "照片不能超过 5 MB"})
    kind = next((found for magic, found in PHOTO_TYPES.items() if data.startswith(magic)), None)
    if kind is None:
        raise ValidationFailed({"photo": "只能上传 JPG 或 PNG 照片"})
    if photos_before >= MAX_PHOTOS:
        raise ValidationFailed({"photo": f"每个站点最多 {MAX_PHOTOS} 张照片"})
    return kind


@transaction.atomic
def station_photo_add(*, actor: Actor, station: Station, data: bytes, caption: str = "") -> StationPhoto:
    """A JPEG or PNG (recognised by its content), at most 5 MiB, at most 6 per station."""
    actor.require(Perm.STATIONS_MANAGE)
    station = _station_locked(actor, station.id)
    content_type, suffix = photo_check(data, photos_before=station.photos.count())
    photo = StationPhoto(station=station, content_type=content_type, caption=(caption or "").strip()[:100])
    photo.file.save(f"{station.id.hex[:8]}.{suffix}", ContentFile(data), save=False)
    photo.save()
    station_event(actor, "station.photo", station, {"photo": photo.id})
    return photo


@transaction.atomic
def station_rate(*, actor: Actor, person: Person, station: Station, stars: int, comment: str = "") -> StationRating:
    """A member's stars (1–5) for an open station; rating again replaces the earlier stars. `actor` is the member
    (members.member_accounts.member_actor) for the audit trail."""
    if not isinstance(stars, int) or isinstance(stars, bool) or not 1 <= stars <= 5:
        raise ValidationFailed({"stars": "请选择 1 到 5 颗星"})
    locked = Station.objects.select_for_update(of=("self",)).select_related("org").filter(id=station.id).first()
    if locked is None or locked.status != StationStatus.OPEN:
        raise NotFound("站点不存在或未开放")
    station = locked
    comment = (comment or "").strip()
    if len(comment) > 200:
        raise ValidationFailed({"comment": "评价不能超过 200 字"})
    rating = StationRating.objects.filter(station=station, person=person).first()
    if rating is None:
        rating = StationRating.objects.create(station=station, person=person, stars=stars, comment=comment)
        station.rating_count += 1
        station.rating_total += stars
    else:
        station.rating_total += stars - rating.stars
        rating.stars, rating.comment = stars, comment
        rating.save()
    station.save(update_fields=["rating_count", "rating_total"])
    station_event(actor, "station.rate", station, {"stars": stars})
    return rating


def demand_point_fields(row: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    name = to_half_width(row.get("name") or "").strip()
    if not name:
        errors["name"] = "请填写名称"
    lat: float | None
    lng: float | None
    try:
        lat, lng = clean_coordinates(row.get("lat"), row.get("lng"), system=row.get("coord_system") or "wgs84")
    except ValidationFailed as exc:
        errors["lat"] = exc.message
        lat = lng = None
    raw = to_half_width(str(row.get("workers") or "")).strip()
    try:
        number = float(raw) if raw else None
        workers = int(number) if number is not None else None
    except (ValueError, OverflowError):
        number = workers = None
    if workers is None or workers < 1 or workers > 1_000_000 or number != workers:
        errors["workers"] = "人数应为 1 至 1000000 之间的整数"
    if errors:
        raise ValidationFailed(errors)
    return {"name": name[:100], "lat": lat, "lng": lng, "workers": workers}


@transaction.atomic
def demand_points_replace(*, actor: Actor, org: Organisation, rows: list[dict[str, Any]], filename: str) -> int:
    """Replace `org`'s own demand points with `rows` (already checked). Audited as one event."""
    actor.require(Perm.STATIONS_MANAGE)
    org = _managing_org(actor, org)
    removed, _ = DemandPoint.objects.filter(org=org).delete()
    DemandPoint.objects.bulk_create([DemandPoint(org=org, **row) for row in rows], batch_size=2000)
    demand_points_replaced(actor, org, filename=filename, points=len(rows), replaced=removed)
    return len(rows)
