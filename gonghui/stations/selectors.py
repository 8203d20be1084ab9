"""Reading stations: the public ones near a point (the e-map), and a cadre's own list.

The nearest search asks the database for the open stations in a box around the point (the `lat` index narrows it to
a band, the longitude and status filters do the rest), measures each on the great circle, and keeps those inside
the circle the box holds. When fewer than asked for lie inside it, the radius widens (to where the density seen so
far says enough stations are), up to the whole region: a station outside the circle is farther than every one
inside, so the answer equals a search over all stations.
"""

import math
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from uuid import UUID

from django.db.models import Q

from gonghui.common.actor import Actor
from gonghui.common.errors import NotFound, ValidationFailed
from gonghui.common.geo import box_around, clean_coordinates, distance_m
from gonghui.common.roles import Perm
from gonghui.stations.hours import is_open_at
from gonghui.stations.models import Facility, Station, StationKind, StationPhoto, StationStatus
from gonghui.stations.travel import RIDE, WALK, distance_text, duration_text

FIRST_RADIUS_M = 2_000
MAX_RADIUS_M = 200_000  # beyond any city region: the search then holds every station
MAX_NEAREST = 50


@dataclass(frozen=True)
class Nearby:
    station: Station
    distance_m: float
    walk_minutes: int
    ride_minutes: int
    open_now: bool

    @property
    def distance_text(self) -> str:
        return distance_text(self.distance_m)

    @property
    def walk_text(self) -> str:
        return duration_text(self.walk_minutes)

    @property
    def ride_text(self) -> str:
        return duration_text(self.ride_minutes)


def _open_stations(kind: str | None, facility: str | None):
    stations = Station.objects.filter(status=StationStatus.OPEN)
    if kind:
        if kind not in StationKind.values:
            raise ValidationFailed({"kind": "没有这种站点类型"})
        stations = stations.filter(kind=kind)
    if facility and facility not in Facility.values:
        raise ValidationFailed({"facility": "没有这种设施"})
    return stations


def stations_nearest(
    *,
    lat,
    lng,
    now: datetime,
    limit: int = 5,
    kind: str | None = None,
    facility: str | None = None,
    open_now: bool = False,
) -> list[Nearby]:
    """The `limit` open stations nearest to (lat, lng) (WGS84), nearest first, optionally of one type, with one
    facility, or open at `now`. Public: stations are public places, and only their public details are used."""
    lat, lng = clean_coordinates(lat, lng)
    if not 1 <= limit <= MAX_NEAREST:
        raise ValidationFailed({"limit": f"一次最多查询 {MAX_NEAREST} 个站点"})
    stations = _open_stations(kind, facility)
    # The widening search reads only what it measures and filters by: full stations are read for the winners only.
    columns = ["id", "lat", "lng"]
    if facility:
        columns.append("facilities")
    if open_now:
        columns += ["always_open", "hours", "holiday_rule", "holiday_hours"]
    radius: float = FIRST_RADIUS_M
    while True:
        south, west, north, east = box_around(lat, lng, radius)
        found = []
        for candidate in stations.filter(lat__gte=south, lat__lte=north, lng__gte=west, lng__lte=east).values(*columns):
            if facility and facility not in candidate["facilities"]:
                continue
            if open_now and not is_open_at(SimpleNamespace(**candidate), now):
                continue
            distance = distance_m(lat, lng, candidate["lat"], candidate["lng"])
            if distance <= radius:
                found.append((distance, str(candidate["id"]), candidate["id"]))
        if len(found) >= limit or radius >= MAX_RADIUS_M:
            break
        radius = _next_radius(radius, found=len(found), wanted=limit)
    found.sort()
    winners = found[:limit]
    full = Station.objects.in_bulk([station_id for *_, station_id in winners])
    return [
        Nearby(
            station=full[station_id],
            distance_m=distance,
            walk_minutes=WALK.minutes(distance),
            ride_minutes=RIDE.minutes(distance),
            open_now=is_open_at(full[station_id], now),
        )
        for distance, _, station_id in winners
    ]


def _next_radius(radius: float, *, found: int, wanted: int) -> float:
    """Widen the circle to where `wanted` stations should be at the density seen so far (stations grow with the
    area, so with the square of the radius), by at least half and at most four times; none seen yet: four times."""
    factor = math.sqrt(wanted / found) * 1.2 if found else 4.0
    return min(MAX_RADIUS_M, radius * min(4.0, max(1.5, factor)))


def station_public_get(station_id) -> Station:
    """A station as the public sees it: open or paused (a paused one says so); a withdrawn one is gone."""
    station = (
        Station.objects.filter(id=_uuid_or_missing(station_id))
        .exclude(status=StationStatus.CLOSED)
        .select_related("org")
        .first()
    )
    if station is None:
        raise NotFound("站点不存在或已撤销")
    return station


def station_photo_public_get(photo_id) -> StationPhoto:
    """A photo of a station the public may see (not of a withdrawn one)."""
    try:
        number = int(photo_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    photo = StationPhoto.objects.filter(id=number).exclude(station__status=StationStatus.CLOSED).first()
    if photo is None:
        raise NotFound()
    return photo


def public_stations(*, kind: str | None = None, facility: str | None = None) -> list[Station]:
    """Every open station for the map, optionally of one type or with one facility."""
    stations = list(_open_stations(kind, facility).order_by("name", "id"))
    return [s for s in stations if not facility or facility in s.facilities]


def open_stations_around(coverage, *, limit: int) -> list[Station]:
    """The open stations over a coverage analysis's map layer, within reach of its edge (public data)."""
    points = [point for cell in coverage.layer for point in cell.boundary]
    if not points:
        return []
    south, west, _, _ = box_around(min(p[0] for p in points), min(p[1] for p in points), coverage.reach_m)
    _, _, north, east = box_around(max(p[0] for p in points), max(p[1] for p in points), coverage.reach_m)
    return list(
        Station.objects.filter(
            status=StationStatus.OPEN, lat__gte=south, lat__lte=north, lng__gte=west, lng__lte=east
        ).order_by("lat", "id")[:limit]
    )


def stations_of(actor: Actor, *, query: str = "", kind: str = "", status: str = ""):
    """The stations managed in the actor's subtree (the back-office list)."""
    actor.require(Perm.STATIONS_VIEW)
    stations = Station.objects.filter(org__path__startswith=actor.scope_path).select_related("org")
    if query:
        stations = stations.filter(Q(name__icontains=query) | Q(address__icontains=query))
    if kind:
        stations = stations.filter(kind=kind)
    if status:
        stations = stations.filter(status=status)
    return stations.order_by("org__path", "name")


def station_get(*, actor: Actor, station_id) -> Station:
    actor.require(Perm.STATIONS_VIEW)
    station = Station.objects.filter(id=_uuid_or_missing(station_id)).select_related("org").first()
    if station is None or not actor.covers_path(station.org.path):
        raise NotFound()
    return station


def _uuid_or_missing(value) -> UUID:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        raise NotFound() from None
