"""Service stations: the nearest stations to a point, checked against a brute-force search."""

import random
from datetime import datetime

import pytest
from django.db.models import Count

from gonghui.common.errors import ValidationFailed
from gonghui.common.geo import distance_m, region_bounds
from gonghui.stations.hours import is_open_at, parse_intervals
from gonghui.stations.models import Facility, Station, StationKind, StationStatus
from gonghui.stations.selectors import stations_nearest
from gonghui.stations.travel import RIDE, WALK, distance_text
from tests.stations.factories import (
    C1,
    E12,
    HERE,
    REGION,
    RIDE_REACH,
    T01,
    T02E1,
    WALK_REACH,
    WZT1,
    errors_of,
    holiday_calendar_is_as_expected,
    make_station,
    north,
    set_status,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


EVERY_DAY = {str(day): "08:00-20:00" for day in range(1, 8)}


# ---------------------------------------------------------------------------------------------------------------
# The nearest stations


HOURS_PATTERNS = [
    ({}, True),
    (dict(EVERY_DAY), False),
    ({"1": "09:00-17:00", "2": "09:00-17:00", "3": "09:00-17:00", "4": "09:00-17:00", "5": "09:00-17:00"}, False),
    ({str(day): "22:00-06:00" for day in range(1, 8)}, False),
    ({str(day): "07:00-11:00, 13:00-19:00" for day in range(1, 6)}, False),
    ({"7": "10:00-16:00"}, False),
]


def random_stations(rng: random.Random, tree, count: int) -> list[Station]:
    """`count` stations over the region: most uniform, some in tight clusters, some on the very same spot (ties go
    by id), of every kind, with random facilities and hours; about a tenth paused and a tenth withdrawn."""
    bounds = region_bounds()
    orgs = [tree[T01], tree[C1], tree[T02E1], tree[WZT1], tree[E12]]
    clusters = [(31.30, 120.62), (31.28, 120.58), (31.55, 120.95), (31.05, 120.35)]
    points = []
    for index in range(count):
        if index % 5 == 0:
            base = clusters[index % len(clusters)]
            point = (base[0] + rng.gauss(0, 0.003), base[1] + rng.gauss(0, 0.003))
        elif index % 37 == 1 and points:
            point = points[-1]  # the same spot as the previous station
        else:
            point = (rng.uniform(bounds.south, bounds.north), rng.uniform(bounds.west, bounds.east))
        points.append(point)
    stations = []
    for index, (lat, lng) in enumerate(points):
        hours, always = HOURS_PATTERNS[index % len(HOURS_PATTERNS)]
        roll = rng.random()
        status = StationStatus.PAUSED if roll < 0.1 else StationStatus.CLOSED if roll < 0.2 else StationStatus.OPEN
        stations.append(
            Station(
                org=orgs[index % len(orgs)],
                kind=rng.choice(StationKind.values),
                name=f"随机站点{index:04d}",
                address=f"随机路{index}号",
                lat=round(lat, 7),
                lng=round(lng, 7),
                always_open=always,
                hours={day: parse_intervals(text) for day, text in hours.items()},
                facilities=sorted(rng.sample(Facility.values, rng.randint(0, 4))),
                status=status,
            )
        )
    Station.objects.bulk_create(stations)
    return list(Station.objects.all())


def brute_force(stations, point, limit, *, kind=None, facility=None, open_at=None):
    matching = [
        s
        for s in stations
        if s.status == StationStatus.OPEN
        and (kind is None or s.kind == kind)
        and (facility is None or facility in s.facilities)
        and (open_at is None or is_open_at(s, open_at))
    ]
    ranked = sorted(matching, key=lambda s: (distance_m(point[0], point[1], s.lat, s.lng), str(s.id)))
    return [(str(s.id), distance_m(point[0], point[1], s.lat, s.lng)) for s in ranked[:limit]]


def found(results) -> list[tuple[str, float]]:
    return [(str(r.station.id), r.distance_m) for r in results]


def test_the_nearest_stations_equal_a_brute_force_search_on_random_data(tree):
    rng = random.Random(20260315)
    stations = random_stations(rng, tree, 420)
    bounds = region_bounds()
    now = datetime(2026, 11, 4, 12, 0)  # an ordinary Wednesday noon
    queries = [
        (round(rng.uniform(bounds.south, bounds.north), 6), round(rng.uniform(bounds.west, bounds.east), 6))
        for _ in range(35)
    ]
    for lat, lng in [(31.30, 120.62), (31.28, 120.58), (31.55, 120.95), (31.05, 120.35)] * 3:  # inside the clusters
        queries.append((round(lat + rng.gauss(0, 0.004), 6), round(lng + rng.gauss(0, 0.004), 6)))
    tied = Station.objects.values("lat", "lng").order_by().annotate(n=Count("id"))
    tied_spots = [(row["lat"], row["lng"]) for row in tied if row["n"] > 1]
    assert tied_spots  # some stations share a spot, so the tie-break by id is exercised
    queries += tied_spots[:4]
    open_moments = [datetime(2026, 11, 4, 7, 30), datetime(2026, 11, 4, 23, 30), datetime(2026, 11, 8, 2, 0), now]

    compared = open_now_differs = ties = 0
    for index, point in enumerate(queries):
        for limit in (1, 5, 20):
            result = stations_nearest(lat=point[0], lng=point[1], now=now, limit=limit)
            assert found(result) == brute_force(stations, point, limit)
            ties += any(a.distance_m == b.distance_m for a, b in zip(result, result[1:], strict=False))
            compared += 1
        kind = rng.choice(StationKind.values)
        facility = rng.choice(Facility.values)
        limit = (1, 5, 20)[index % 3]
        for filters in ({"kind": kind}, {"facility": facility}, {"kind": kind, "facility": facility}):
            result = stations_nearest(lat=point[0], lng=point[1], now=now, limit=limit, **filters)
            assert found(result) == brute_force(stations, point, limit, **filters)
            assert all(r.station.status == StationStatus.OPEN for r in result)
            compared += 1
        moment = open_moments[index % len(open_moments)]
        result = stations_nearest(lat=point[0], lng=point[1], now=moment, limit=limit, open_now=True)
        expected = brute_force(stations, point, limit, open_at=moment)
        assert found(result) == expected
        assert all(r.open_now for r in result)
        open_now_differs += expected != brute_force(stations, point, limit)
        compared += 1

    assert compared == len(queries) * 7
    assert ties > 0  # results held stations at the same distance, ordered by id
    assert open_now_differs > len(queries) // 2  # the open-now filter really removes stations
    # The results carry the travel model's minutes and whether each station is open now.
    sample = stations_nearest(lat=31.3, lng=120.62, now=now, limit=20)
    for item in sample:
        assert item.walk_minutes == WALK.minutes(item.distance_m)
        assert item.ride_minutes == RIDE.minutes(item.distance_m)
        assert item.open_now == is_open_at(item.station, now)
    assert {item.open_now for item in sample} == {True, False}


def test_a_lone_station_far_beyond_the_first_radius_is_still_found(tree, system):
    holiday_calendar_is_as_expected()
    # Everything stands in the north-east corner of the region; the query is in the south-west corner.
    far = make_station(system, tree[WZT1], "东北角驿站", (32.0, 121.3))
    farther = make_station(system, tree[WZT1], "东北角书屋", (32.02, 121.33), kind=StationKind.BOOKS)
    nightly = make_station(
        system, tree[WZT1], "东北角夜间站", (31.99, 121.29), always_open=False, hours={"3": "22:00-06:00"}
    )
    paused = make_station(system, tree[T01], "西南角暂停站", (30.81, 119.96))
    set_status(system, paused, StationStatus.PAUSED)
    closed = make_station(system, tree[T01], "西南角撤销站", (30.80, 119.95))
    set_status(system, closed, StationStatus.CLOSED)
    here = (30.80, 119.95)
    stations = list(Station.objects.all())
    wednesday_noon = datetime(2026, 11, 4, 12, 0)

    nearest = stations_nearest(lat=here[0], lng=here[1], now=wednesday_noon, limit=1)

    assert found(nearest) == brute_force(stations, here, 1)
    assert nearest[0].station.id == nightly.id
    assert nearest[0].distance_m > 150_000
    assert nearest[0].distance_m == distance_m(*here, nightly.lat, nightly.lng)
    assert nearest[0].open_now is False
    everything = stations_nearest(lat=here[0], lng=here[1], now=wednesday_noon, limit=50)
    assert [r.station.id for r in everything] == [nightly.id, far.id, farther.id]  # fewer than asked: all open ones
    assert found(everything) == brute_force(stations, here, 50)
    # Open now at Wednesday noon: the night station is not; at Thursday 02:00 it is (Wednesday's night part).
    assert [r.station.id for r in stations_nearest(lat=here[0], lng=here[1], now=wednesday_noon, open_now=True)] == [
        far.id,
        farther.id,
    ]
    thursday_night = datetime(2026, 11, 5, 2, 0)
    night = stations_nearest(lat=here[0], lng=here[1], now=thursday_night, limit=1, open_now=True)
    assert [r.station.id for r in night] == [nightly.id]
    books = stations_nearest(lat=here[0], lng=here[1], now=wednesday_noon, kind=StationKind.BOOKS)
    assert [r.station.id for r in books] == [farther.id]


def test_a_nearby_result_carries_distance_travel_minutes_and_text(tree, system):
    close = make_station(system, tree[T01], "五百米驿站", north(HERE, 500))
    make_station(system, tree[T01], "一公里半驿站", north(HERE, -1500), always_open=False, hours=EVERY_DAY)

    first, second = stations_nearest(lat=HERE[0], lng=HERE[1], now=datetime(2026, 11, 4, 21, 0), limit=5)

    assert first.station.id == close.id
    assert first.distance_m == pytest.approx(500, abs=0.01)
    assert (first.walk_minutes, first.ride_minutes, first.distance_text, first.open_now) == (8, 3, "500 米", True)
    assert second.distance_m == pytest.approx(1500, abs=0.01)
    assert (second.walk_minutes, second.ride_minutes, second.distance_text, second.open_now) == (
        24,
        8,
        "1.5 公里",
        False,
    )
    assert WALK.minutes(0) == 1 and RIDE.minutes(0) == 1
    assert WALK.reach_m() == pytest.approx(WALK_REACH) and RIDE.reach_m() == pytest.approx(RIDE_REACH)
    assert distance_text(850.4) == "850 米"
    assert distance_text(2449) == "2.4 公里"


def test_a_distance_that_rounds_to_a_kilometre_is_shown_in_kilometres():
    assert distance_text(999.6) == "1.0 公里"


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ({"limit": 0}, {"limit": "一次最多查询 50 个站点"}),
        ({"limit": 51}, {"limit": "一次最多查询 50 个站点"}),
        ({"kind": "hotel"}, {"kind": "没有这种站点类型"}),
        ({"facility": "pool"}, {"facility": "没有这种设施"}),
        ({"lat": "120.6", "lng": "31.3"}, {"坐标": "经纬度填反了：120.6 像是经度、31.3 像是纬度，请交换后重新填写"}),
        (
            {"lat": "39.9", "lng": "116.4"},
            {"坐标": f"坐标（纬度 39.9000，经度 116.4000）不在本地区范围内（{REGION}），请核对"},
        ),
    ],
)
def test_a_bad_nearest_query_is_refused(tree, system, query, errors):
    make_station(system, tree[T01], "驿站", HERE)
    with pytest.raises(ValidationFailed) as exc:
        stations_nearest(**{"lat": HERE[0], "lng": HERE[1], "now": datetime(2026, 11, 4, 12), **query})
    assert errors_of(exc) == errors
