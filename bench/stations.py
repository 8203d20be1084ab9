"""Service stations at city scale: 10,000 stations and 100,000 demand points over the whole region
(settings.STATIONS_REGION_BOUNDS), read through the nearest-station search (`stations_nearest`, the public e-map) and
the 15-minute circle of the root organisation (`coverage_analyse`, source "points", walking and riding).

The stations stand in clusters around ~30 town centres (more, and spread wider, in the bigger towns) with some
scattered between them; 85% open, 10% paused, 5% withdrawn, of every kind, with facilities and opening hours
(a third open round the clock). The demand points cluster around the same towns, spread a little wider than the
stations, plus industrial parks with no station near and a few per cent anywhere in the region (farther from any
station than the circle reaches). Everything is drawn from one seeded generator and written with bulk_create.

Nearest: query points drawn 70% where the workers are (around a demand point) and 30% anywhere in the region (the
rural ones make the search widen its radius), each timed once after a warm-up, limit 5; also with open_now.
Compared in the same run with brute force, the naive way: load every open station (id and coordinates) from the
database, measure each on the great circle (geo.distance_m), sort, keep 5, fetch those 5 — timed over a subset of
the query points. The correctness check is done for every query point against a brute-force scan over all open
stations held in memory (also timed, as the lower bound of any scan): the same station ids in the same order.

Coverage: `coverage_analyse(source="points", mode=..., suggestions=10)` at the root, a few runs each for walking and
riding; coverage_seconds is the larger of the two modes' median runs (the target then holds for either). The time is
broken down into loading the demand, the uncovered list, the suggestions, the map layer, and the rest (loading the
stations and the k-d tree search). Compared with brute force in the same run, measured over all points: numpy
all-pairs (in chunks) on the same flat projection the analysis uses, which must agree exactly (every point covered or
not, the nearest distances, the totals, the uncovered list); a pure-Python great-circle loop over a sample,
extrapolated to all points (labelled so); and a great-circle (haversine) numpy check on a sample, to show how far the
analysis's flat projection moves points across the reach.

The bench drops its own model instances after loading and collects garbage before each timed section, so that the
heap is about a web worker's (Django and the app loaded, ~130,000 tracked objects) and the collector's pauses in the
samples are those the code under test causes, not the bench's 100,000 DemandPoint objects. Python's full (generation
2) collections during each timed section are counted and reported: on this heap each takes ~50-150 ms, so they make
the tail of whatever allocates much (the brute-force scans above all).

Targets (from the issue): nearest <= 5 ms p95 per query, coverage analysis <= 2 s.

    python bench/stations.py --size small|full [--keep]
"""

import gc
import math
import os
import random
import statistics
import time
import uuid
from contextlib import contextmanager
from datetime import datetime

from _setup import p50, p95, result, run_sized, say, timed_ms

SIZES = {
    "small": {
        "stations": 1_000,
        "points": 10_000,
        "queries": 200,
        "brute_queries": 50,
        "coverage_runs": 3,
        "python_sample": 200,
    },
    "full": {
        "stations": 10_000,
        "points": 100_000,
        "queries": 500,
        "brute_queries": 100,
        "coverage_runs": 3,
        "python_sample": 100,
    },
}
SEED = 20241121
TOWNS = 30
PARKS = 12  # industrial parks: demand without a station near
TARGET_NEAREST_MS = 5.0
TARGET_COVERAGE_S = 2.0
LIMIT = 5
SCATTERED_STATIONS = 0.08  # between the towns, anywhere in the region
PARK_POINTS = 0.06
ANYWHERE_POINTS = 0.03
URBAN_QUERIES = 0.7
HAVERSINE_SAMPLE = 2_000
CHUNK = 500  # demand points per all-pairs chunk (CHUNK x stations float64 arrays)
# An ordinary Wednesday evening: the day-time stations are closed, the evening and night ones open.
NOW = (2024, 11, 20, 21, 30)
KINDS = {
    "outdoor": 50,
    "women": 10,
    "mothers": 8,
    "home": 12,
    "books": 8,
    "drivers": 5,
    "counselling": 4,
    "other": 3,
}
KIND_WORDS = {
    "outdoor": "户外劳动者服务站",
    "women": "女职工康乃馨服务站",
    "mothers": "妈妈驿站",
    "home": "职工之家",
    "books": "职工书屋",
    "drivers": "司机之家",
    "counselling": "职工心理服务室",
    "other": "职工服务点",
}
DEMAND_WORDS = ("快递网点", "外卖站点", "环卫所", "建筑工地", "网约车停靠点", "物流园", "工厂", "商场")
HOURS = [  # (weight, {weekday: intervals})
    (30, {str(d): [["08:30", "17:30"]] for d in range(1, 6)} | {"6": [], "7": []}),
    (30, {str(d): [["07:00", "21:00"]] for d in range(1, 8)}),
    (10, {str(d): [["18:00", "08:00"]] for d in range(1, 8)}),
    (
        20,
        {str(d): [["08:00", "12:00"], ["14:00", "18:00"]] for d in range(1, 6)} | {"6": [["09:00", "12:00"]], "7": []},
    ),
    (10, {str(d): [["10:00", "22:00"]] for d in range(1, 8)}),
]


def main() -> None:
    run_sized("stations", __doc__, SIZES, run)


# ---------------------------------------------------------------- drawing the data


def seeded_uuid7(rng: random.Random, unix_ms: int) -> uuid.UUID:
    """A UUIDv7 laid out as gonghui.common.ids does, its random bits from `rng` (deterministic ids)."""
    bits = rng.getrandbits(74)
    value = (unix_ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | ((bits >> 62) & 0xFFF) << 64 | 0b10 << 62
    return uuid.UUID(int=value | (bits & ((1 << 62) - 1)))


def inside(bounds, rng: random.Random, draw) -> tuple[float, float]:
    """A point from `draw()` inside the region (drawn again until it is), rounded to 6 places (~0.1 m)."""
    while True:
        lat, lng = draw()
        if bounds.contains(lat, lng):
            return round(lat, 6), round(lng, 6)


def around(rng: random.Random, centre: tuple[float, float], sigma_km: float):
    lat, lng = centre
    return lambda: (
        lat + rng.gauss(0, sigma_km) / 111.2,
        lng + rng.gauss(0, sigma_km) / (111.2 * math.cos(math.radians(lat))),
    )


def anywhere(rng: random.Random, bounds):
    return lambda: (rng.uniform(bounds.south, bounds.north), rng.uniform(bounds.west, bounds.east))


def weighted(rng: random.Random, table: dict):
    return rng.choices(list(table), weights=list(table.values()))[0]


def build_orgs(actor, rng: random.Random, bounds) -> tuple:
    """The root, the nine districts of the demo city, and TOWNS towns at random centres, each under the district
    whose demo centre is nearest. Returns (root, [(town, centre, weight, sigma_km)])."""
    from django.db import transaction

    from gonghui.common.geo import distance_m
    from gonghui.demo.federation import DISTRICTS, ROOT
    from gonghui.demo.stations import CENTRES
    from gonghui.orgs.models import OrgType
    from gonghui.orgs.services import org_create

    name, code, region = ROOT
    towns = []
    with transaction.atomic():
        root = org_create(actor=actor, parent=None, name=name, code=code, org_type=OrgType.CITY, region_code=region)
        districts = {}
        for district, short, district_region, _word in DISTRICTS:
            districts[short] = (
                org_create(
                    actor=actor,
                    parent=root,
                    name=f"{district}总工会",
                    code=f"SZ-{short}",
                    org_type=OrgType.COUNTY,
                    region_code=district_region,
                ),
                district,
            )
        margin = 0.06
        for n in range(1, TOWNS + 1):
            centre = (
                round(rng.uniform(bounds.south + margin, bounds.north - margin), 6),
                round(rng.uniform(bounds.west + margin, bounds.east - margin), 6),
            )
            short = min(CENTRES, key=lambda s, c=centre: distance_m(*c, *CENTRES[s]))
            district, district_name = districts[short]
            town = org_create(
                actor=actor,
                parent=district,
                name=f"{district_name}第{n}街道总工会",
                code=f"SZ-{short}-T{n:02d}",
                org_type=OrgType.TOWN,
                region_code=district.region_code,
            )
            weight = rng.lognormvariate(0, 0.7)
            towns.append((town, centre, weight, 1.5 + 1.5 * math.sqrt(weight)))
    return root, towns


def draw_stations(rng: random.Random, bounds, towns: list, count: int) -> list:
    from gonghui.stations.models import Facility, Station, StationKind, StationStatus

    facilities = list(Facility.values)
    weights = [w for _, _, w, _ in towns]
    base_ms = 1_732_000_000_000
    rows = []
    for n in range(1, count + 1):
        town, centre, _w, sigma = towns[rng.choices(range(len(towns)), weights=weights)[0]]
        if rng.random() < SCATTERED_STATIONS:
            lat, lng = inside(bounds, rng, anywhere(rng, bounds))
        else:
            lat, lng = inside(bounds, rng, around(rng, centre, sigma))
        kind = weighted(rng, KINDS)
        state = rng.random()
        status = StationStatus.OPEN if state < 0.85 else StationStatus.PAUSED if state < 0.95 else StationStatus.CLOSED
        always_open = rng.random() < (0.5 if kind == StationKind.OUTDOOR else 0.15)
        hours = (
            {str(d): [] for d in range(1, 8)}
            if always_open
            else rng.choices([h for _, h in HOURS], weights=[w for w, _ in HOURS])[0]
        )
        holiday_rule = rng.choice(["regular", "regular", "closed", "special"])
        chosen = set(rng.sample(facilities, rng.randint(2, 6)))
        rows.append(
            Station(
                id=seeded_uuid7(rng, base_ms + n),
                org=town,
                kind=kind,
                name=f"{town.name.removesuffix('总工会')}{KIND_WORDS[kind]}{n:05d}",
                address=f"{town.name.removesuffix('总工会')}第{rng.randint(1, 999)}号",
                lat=lat,
                lng=lng,
                hours=hours,
                always_open=always_open,
                holiday_rule=holiday_rule,
                holiday_hours=[["09:00", "17:00"]] if holiday_rule == "special" else [],
                facilities=[code for code in facilities if code in chosen],
                phone=f"0512-6{rng.randint(1000000, 9999999)}",
                status=status,
            )
        )
    return rows


def draw_points(rng: random.Random, bounds, towns: list, count: int) -> list:
    from gonghui.stations.models import DemandPoint

    weights = [w for _, _, w, _ in towns]
    margin = 0.05
    parks = [
        (
            (
                rng.uniform(bounds.south + margin, bounds.north - margin),
                rng.uniform(bounds.west + margin, bounds.east - margin),
            ),
            towns[rng.randrange(len(towns))][0],
        )
        for _ in range(PARKS)
    ]
    rows = []
    for n in range(1, count + 1):
        town, centre, _w, sigma = towns[rng.choices(range(len(towns)), weights=weights)[0]]
        where = rng.random()
        if where < ANYWHERE_POINTS:
            lat, lng = inside(bounds, rng, anywhere(rng, bounds))
        elif where < ANYWHERE_POINTS + PARK_POINTS:
            centre, town = parks[rng.randrange(PARKS)]
            lat, lng = inside(bounds, rng, around(rng, centre, 1.2))
        else:
            lat, lng = inside(bounds, rng, around(rng, centre, sigma * 1.3))
        workers = max(1, min(200, round(rng.lognormvariate(2.8, 1.0))))
        rows.append(DemandPoint(org=town, name=f"{rng.choice(DEMAND_WORDS)}{n:06d}", lat=lat, lng=lng, workers=workers))
    return rows


# ---------------------------------------------------------------- brute force


def brute_nearest(query, stations: list, limit: int) -> list:
    """`stations`: [(id, lat, lng, str id)]; the `limit` nearest on the great circle as (distance, str id, id),
    nearest first (ties by id, as the selector breaks them)."""
    from gonghui.common.geo import distance_m

    lat, lng = query
    measured = [(distance_m(lat, lng, s_lat, s_lng), sid, pk) for pk, s_lat, s_lng, sid in stations]
    measured.sort(key=lambda item: item[:2])
    return measured[:limit]


def brute_nearest_db(query, limit: int) -> list:
    """The naive way through the database: every open station's id and coordinates, each measured, sorted."""
    from gonghui.common.geo import distance_m
    from gonghui.stations.models import Station, StationStatus

    lat, lng = query
    rows = Station.objects.filter(status=StationStatus.OPEN).values_list("id", "lat", "lng")
    measured = sorted((distance_m(lat, lng, s_lat, s_lng), str(sid), sid) for sid, s_lat, s_lng in rows)[:limit]
    found = Station.objects.in_bulk([sid for _, _, sid in measured])
    return [(distance, found[sid]) for distance, _, sid in measured]


def nearest_all_pairs(points_xy, stations_xy, chunk: int = CHUNK):
    """For each point, the distance to the nearest station and its index: numpy over all pairs, in chunks."""
    import numpy as np

    nearest = np.empty(len(points_xy))
    which = np.empty(len(points_xy), dtype=np.int64)
    sx, sy = stations_xy[:, 0][None, :], stations_xy[:, 1][None, :]
    for lo in range(0, len(points_xy), chunk):
        px, py = points_xy[lo : lo + chunk, 0][:, None], points_xy[lo : lo + chunk, 1][:, None]
        d2 = (px - sx) ** 2 + (py - sy) ** 2
        which[lo : lo + chunk] = d2.argmin(axis=1)
        nearest[lo : lo + chunk] = np.sqrt(d2[np.arange(len(d2)), which[lo : lo + chunk]])
    return nearest, which


def haversine_nearest(lat, lng, s_lat, s_lng, chunk: int = CHUNK):
    """Great-circle distance (the formula of geo.distance_m) from each point to its nearest station, numpy."""
    import numpy as np

    from gonghui.common.geo import EARTH_RADIUS_M

    p2, l2 = np.radians(s_lat)[None, :], np.radians(s_lng)[None, :]
    cos2 = np.cos(p2)
    out = np.empty(len(lat))
    for lo in range(0, len(lat), chunk):
        p1, l1 = np.radians(lat[lo : lo + chunk])[:, None], np.radians(lng[lo : lo + chunk])[:, None]
        h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * cos2 * np.sin((l2 - l1) / 2) ** 2
        out[lo : lo + chunk] = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h.min(axis=1))))
    return out


# ---------------------------------------------------------------- timing helpers


@contextmanager
def timed_parts(target, names: tuple[str, ...], into: dict):
    """Wrap the callables `names` of `target` (a module's attributes, or a dict's entries) so each call's time is
    added to `into[name]`."""
    is_dict = isinstance(target, dict)
    originals = {n: (target[n] if is_dict else getattr(target, n)) for n in names}

    def wrap(name, fn):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                into[name] = into.get(name, 0.0) + time.perf_counter() - started

        return wrapper

    def put(name, fn):
        if is_dict:
            target[name] = fn
        else:
            setattr(target, name, fn)

    for name, fn in originals.items():
        put(name, wrap(name, fn))
    try:
        yield
    finally:
        for name, fn in originals.items():
            put(name, fn)


class FullCollections:
    """Python's full (generation 2) garbage collections while it is active: how many, their total and longest
    pause. On this app's heap (~130,000 tracked objects once Django is loaded) each takes ~50-150 ms, so they make
    the tail of any timing whose code allocates enough to trigger them."""

    def __init__(self):
        self.pauses: list[float] = []
        self._started = 0.0

    def _callback(self, phase, info):
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((time.perf_counter() - self._started) * 1000)

    def __enter__(self):
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc):
        gc.callbacks.remove(self._callback)

    def summary(self) -> dict:
        return {
            "count": len(self.pauses),
            "total_ms": round(sum(self.pauses), 1),
            "max_ms": round(max(self.pauses, default=0.0), 1),
        }

    def text(self) -> str:
        if not self.pauses:
            return "no full garbage collection"
        return (
            f"{len(self.pauses)} full garbage collections in it, {sum(self.pauses):,.0f} ms in all, the longest "
            f"{max(self.pauses):,.0f} ms"
        )


class QueryCount:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# ---------------------------------------------------------------- the bench


def run(size: dict, size_name: str) -> None:
    import numpy as np
    from django.db import connection, transaction
    from django.db.models import Count
    from django.utils import timezone

    import gonghui.stations.coverage as coverage_mod
    from gonghui.common.actor import system_actor
    from gonghui.common.geo import FlatProjection, distance_m, region_bounds
    from gonghui.stations.coverage import coverage_analyse
    from gonghui.stations.hours import is_open_at
    from gonghui.stations.models import DemandPoint, Station, StationStatus
    from gonghui.stations.selectors import stations_nearest
    from gonghui.stations.travel import CIRCLE_MINUTES, MODES

    vendor = connection.vendor
    actor = system_actor("bench")
    bounds = region_bounds()
    rng = random.Random(SEED)
    now = timezone.make_aware(datetime(*NOW))
    say(
        f"[stations] database: {vendor}; size: {size_name} ({size['stations']:,} stations, {size['points']:,} demand "
        f"points); region {bounds.describe()}; load average {load_average()}"
    )

    # ---- loading ---------------------------------------------------------------------------------------------
    say("[stations] loading ...")
    started = time.perf_counter()
    root, towns = build_orgs(actor, rng, bounds)
    station_rows = draw_stations(rng, bounds, towns, size["stations"])
    point_rows = draw_points(rng, bounds, towns, size["points"])
    with transaction.atomic():
        Station.objects.bulk_create(station_rows, batch_size=2000)
        DemandPoint.objects.bulk_create(point_rows, batch_size=5000)
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("VACUUM (ANALYZE) stations_station")
            cursor.execute("VACUUM (ANALYZE) stations_demandpoint")
        else:
            cursor.execute("ANALYZE")
    load_seconds = time.perf_counter() - started
    by_status = dict(Station.objects.values_list("status").annotate(n=Count("id")).order_by())
    stations_total = Station.objects.count()
    points_total = DemandPoint.objects.count()
    workers_total = sum(DemandPoint.objects.values_list("workers", flat=True))
    assert stations_total == size["stations"] and points_total == size["points"]
    say(
        f"[stations]   {len(towns) + 10} organisations ({len(towns)} towns), {stations_total:,} stations "
        f"({', '.join(f'{k} {v:,}' for k, v in sorted(by_status.items()))}), {points_total:,} demand points "
        f"({workers_total:,} workers) in {load_seconds:.1f} s"
    )

    # The bench's own objects go before timing: with 100,000 model instances alive, Python's full collections
    # (triggered by the allocations of the code under test) take ~100-300 ms and would land in the samples.
    point_coords = [(p.lat, p.lng) for p in point_rows]
    del station_rows, point_rows
    gc.collect()

    # ---- nearest ---------------------------------------------------------------------------------------------
    queries = []
    for _ in range(size["queries"]):
        if rng.random() < URBAN_QUERIES:
            centre = point_coords[rng.randrange(len(point_coords))]
            queries.append(("urban", inside(bounds, rng, around(rng, centre, 0.5))))
        else:
            queries.append(("rural", inside(bounds, rng, anywhere(rng, bounds))))
    say(
        f"[stations] stations_nearest(limit={LIMIT}) at {len(queries)} query points ({URBAN_QUERIES:.0%} near the "
        f"workers, the rest anywhere in the region), each once after a warm-up; now = {now:%Y-%m-%d %H:%M %a}:"
    )
    for _, (lat, lng) in queries[:20]:
        stations_nearest(lat=lat, lng=lng, now=now, limit=LIMIT)
    gc.collect()
    samples = {"urban": [], "rural": []}
    open_samples = []
    query_counts = []
    answers, open_answers = [], []
    collections = {}
    with FullCollections() as watch:
        for label, (lat, lng) in queries:
            counter = QueryCount()
            with connection.execute_wrapper(counter):
                found = []
                samples[label] += timed_ms(
                    lambda lat=lat, lng=lng, found=found: found.append(
                        stations_nearest(lat=lat, lng=lng, now=now, limit=LIMIT)
                    ),
                    1,
                )
            query_counts.append(counter.count)
            answers.append(found[0])
            found = []
            open_samples += timed_ms(
                lambda lat=lat, lng=lng, found=found: found.append(
                    stations_nearest(lat=lat, lng=lng, now=now, limit=LIMIT, open_now=True)
                ),
                1,
            )
            open_answers.append(found[0])
    collections["nearest"] = watch.summary()
    every = samples["urban"] + samples["rural"]
    figures = {
        "nearest_p50_ms": p50(every),
        "nearest_p95_ms": p95(every),
        "nearest_max_ms": round(max(every), 3),
        "nearest_urban_p95_ms": p95(samples["urban"]),
        "nearest_rural_p95_ms": p95(samples["rural"]),
        "nearest_open_now_p50_ms": p50(open_samples),
        "nearest_open_now_p95_ms": p95(open_samples),
        "nearest_sql_queries_mean": round(statistics.mean(query_counts), 2),
        "nearest_sql_queries_max": max(query_counts),
    }
    say(
        f"[stations]   all          p50 {figures['nearest_p50_ms']:7.2f} ms  p95 {figures['nearest_p95_ms']:7.2f} ms  "
        f"max {figures['nearest_max_ms']:7.2f} ms  ({figures['nearest_sql_queries_mean']:.2f} SQL queries a call "
        f"on average, at most {figures['nearest_sql_queries_max']}: the radius widens from 2 km until {LIMIT} "
        f"are found)"
    )
    for label in ("urban", "rural"):
        say(
            f"[stations]   {label:<12} p50 {p50(samples[label]):7.2f} ms  p95 {p95(samples[label]):7.2f} ms  "
            f"({len(samples[label])} queries)"
        )
    say(
        f"[stations]   open_now     p50 {figures['nearest_open_now_p50_ms']:7.2f} ms  "
        f"p95 {figures['nearest_open_now_p95_ms']:7.2f} ms"
    )
    say(f"[stations]   ({watch.text()}, over both the plain and the open_now calls)")

    # correctness: every query point against the in-memory brute force, which is timed too
    in_memory, open_now_memory = [], []
    for station in Station.objects.filter(status=StationStatus.OPEN).iterator():
        entry = (station.id, station.lat, station.lng, str(station.id))
        in_memory.append(entry)
        if is_open_at(station, now):
            open_now_memory.append(entry)
    gc.collect()
    memory_samples, wrong = [], []
    memory_watch = FullCollections()
    for (_, query), answer in zip(queries, answers, strict=True):
        expected = []
        with memory_watch:
            memory_samples += timed_ms(lambda q=query, e=expected: e.extend(brute_nearest(q, in_memory, LIMIT)), 1)
        if [n.station.id for n in answer] != [pk for _, _, pk in expected]:
            wrong.append((query, [n.station.id for n in answer], [pk for _, _, pk in expected]))
        for n, (distance, _, _) in zip(answer, expected, strict=False):
            assert abs(n.distance_m - distance) < 1e-6, (query, n.distance_m, distance)
    open_wrong = []
    for (_, query), answer in zip(queries, open_answers, strict=True):
        expected = brute_nearest(query, open_now_memory, LIMIT)
        if [n.station.id for n in answer] != [pk for _, _, pk in expected]:
            open_wrong.append(query)
        assert all(n.open_now and is_open_at(n.station, now) for n in answer)
    assert not wrong, f"nearest differs from brute force at {len(wrong)} of {len(queries)} points, e.g. {wrong[:3]}"
    assert not open_wrong, f"open_now nearest differs from brute force at {len(open_wrong)} points: {open_wrong[:3]}"
    say(
        f"[stations]   correct: the same {LIMIT} stations in the same order as brute force at all {len(queries)} "
        f"query points (and with open_now)"
    )

    brute_count = size["brute_queries"]
    say(
        f"[stations] brute force, the naive way: every open station ({len(in_memory):,}) from the database, "
        f"measured, sorted, the {LIMIT} nearest fetched; {brute_count} of the query points:"
    )
    brute_nearest_db(queries[0][1], LIMIT)  # warm-up
    gc.collect()
    brute_samples = []
    brute_watch = FullCollections()
    for (_, query), answer in zip(queries[:brute_count], answers, strict=False):
        got = []
        with brute_watch:
            brute_samples += timed_ms(lambda q=query, g=got: g.extend(brute_nearest_db(q, LIMIT)), 1)
        assert [s.id for _, s in got] == [n.station.id for n in answer], query
    figures |= {
        "brute_nearest_p50_ms": p50(brute_samples),
        "brute_nearest_p95_ms": p95(brute_samples),
        "brute_nearest_queries": brute_count,
        "brute_nearest_memory_p50_ms": p50(memory_samples),
        "brute_nearest_memory_p95_ms": p95(memory_samples),
    }
    brute_ratio = figures["brute_nearest_p95_ms"] / figures["nearest_p95_ms"]
    say(
        f"[stations]   from the database p50 {figures['brute_nearest_p50_ms']:7.2f} ms  "
        f"p95 {figures['brute_nearest_p95_ms']:7.2f} ms  = {brute_ratio:,.1f}x "
        f"the search's p95 (same answers; {brute_watch.text()})"
    )
    collections["brute_nearest"] = brute_watch.summary()
    collections["brute_nearest_memory"] = memory_watch.summary()
    say(
        f"[stations]   stations already in memory (no database; {len(queries)} queries) "
        f"p50 {figures['brute_nearest_memory_p50_ms']:7.2f} ms  p95 {figures['brute_nearest_memory_p95_ms']:7.2f} ms "
        f"({memory_watch.text()})"
    )

    # ---- coverage --------------------------------------------------------------------------------------------
    runs = size["coverage_runs"]
    say(
        f'[stations] coverage_analyse(org=root, source="points", suggestions=10), {runs} runs per mode '
        f"(the first one cold for Python's caches; the median reported):"
    )
    parts_names = ("_uncovered", "_suggest", "_layer")
    analyses, seconds, parts_of = {}, {}, {}
    for mode in ("walk", "ride"):
        times, parts_runs = [], []
        watch = FullCollections()
        for _ in range(runs):
            gc.collect()
            parts: dict[str, float] = {}
            with (
                watch,
                timed_parts(coverage_mod, parts_names, parts),
                timed_parts(coverage_mod.DEMAND_LOADERS, ("points",), parts),
            ):
                started = time.perf_counter()
                analysis = coverage_analyse(actor=actor, org=root, source="points", mode=mode, suggestions=10)
                elapsed = time.perf_counter() - started
            times.append(elapsed)
            parts_runs.append(parts | {"rest": elapsed - sum(parts.values())})
        middle = sorted(range(runs), key=lambda i: times[i])[runs // 2]
        analyses[mode], seconds[mode], parts_of[mode] = analysis, times[middle], parts_runs[middle]
        parts = parts_of[mode]
        first_adds = analysis.suggestions[0].adds if analysis.suggestions else 0
        say(
            f"[stations]   {mode:<5} reach {analysis.reach_m:,.0f} m: median {seconds[mode]:.3f} s (runs "
            f"{', '.join(f'{t:.3f}' for t in times)} s); covered {analysis.share}% of the workers "
            f"({analysis.demand_covered:,} of {analysis.demand:,}), {analysis.points_covered:,} of "
            f"{analysis.points:,} points; {analysis.points - analysis.points_covered:,} uncovered; "
            f"{len(analysis.suggestions)} suggestions (the first adds {first_adds:,} "
            f"workers, share after all {analysis.suggestions[-1].share_after if analysis.suggestions else '-'}%); "
            f"{len(analysis.layer):,} layer cells"
        )
        say(
            f"[stations]     loading the demand {parts['points']:.3f} s, stations + k-d tree + the rest "
            f"{parts['rest']:.3f} s, uncovered list {parts['_uncovered']:.3f} s, suggestions "
            f"{parts.get('_suggest', 0.0):.3f} s, map layer {parts['_layer']:.3f} s; {watch.text()} over the "
            f"{runs} runs"
        )
        collections[f"coverage_{mode}"] = watch.summary()
    coverage_seconds = max(seconds.values())

    # ---- coverage by brute force -----------------------------------------------------------------------------
    say("[stations] coverage by brute force, measured over all points (loading both tables included):")
    gc.collect()
    started = time.perf_counter()
    rows = list(DemandPoint.objects.order_by("id").values_list("name", "lat", "lng", "workers"))
    s_rows = np.array(
        list(Station.objects.filter(status=StationStatus.OPEN).values_list("lat", "lng")), dtype=float
    ).reshape(-1, 2)
    p_lat = np.array([r[1] for r in rows])
    p_lng = np.array([r[2] for r in rows])
    weight = np.array([r[3] for r in rows], dtype=np.int64)
    flat = FlatProjection(bounds.centre[0])
    points_xy = np.column_stack(flat.xy(p_lat, p_lng))
    stations_xy = np.column_stack(flat.xy(s_rows[:, 0], s_rows[:, 1]))
    load_brute = time.perf_counter() - started
    started = time.perf_counter()
    brute_min, _ = nearest_all_pairs(points_xy, stations_xy)
    brute_seconds = load_brute + time.perf_counter() - started
    say(
        f"[stations]   numpy all pairs ({len(rows):,} x {len(s_rows):,} = {len(rows) * len(s_rows) / 1e6:,.0f} M "
        f"distances, flat projection as the analysis) {brute_seconds:.2f} s (loading {load_brute:.2f} s)"
    )
    for mode, analysis in analyses.items():
        reach = MODES[mode].reach_m(CIRCLE_MINUTES)
        covered = brute_min <= reach
        assert analysis.points_covered == int(covered.sum()), (mode, analysis.points_covered, int(covered.sum()))
        assert analysis.demand_covered == int(weight[covered].sum()), mode
        assert analysis.demand == int(weight.sum()) == workers_total, mode
        order = sorted(np.flatnonzero(~covered), key=lambda i: (-int(weight[i]), rows[i][0]))[:100]
        assert [u.name for u in analysis.uncovered] == [rows[i][0] for i in order], mode
        for u, i in zip(analysis.uncovered, order, strict=True):
            assert abs(u.nearest_m - brute_min[i]) < 1e-6, (mode, u.name, u.nearest_m, brute_min[i])
        # The suggested sites: each adds the still-uncovered points within reach of its (rounded) centre.
        taken = covered.copy()
        agree = 0
        for s in analysis.suggestions:
            sx, sy = flat.xy(s.lat, s.lng)
            near = ((points_xy[:, 0] - sx) ** 2 + (points_xy[:, 1] - sy) ** 2 <= reach**2) & ~taken
            agree += int(int(near.sum()) == s.adds_points and int(weight[near].sum()) == s.adds)
            taken |= near
        gains = [s.adds for s in analysis.suggestions]
        assert gains == sorted(gains, reverse=True), (mode, gains)  # greedy: each adds no more than the one before
        figures[f"coverage_{mode}_suggestions_recounted"] = agree
        say(
            f"[stations]   {mode}: agrees with the analysis on every point (covered or not, nearest distance), the "
            f"totals and the uncovered list; {agree} of {len(analysis.suggestions)} suggestions add exactly what a "
            f"recount at their rounded centres gives"
        )

    sample = np.array(sorted(rng.sample(range(len(rows)), min(HAVERSINE_SAMPLE, len(rows)))))
    circle = haversine_nearest(p_lat[sample], p_lng[sample], s_rows[:, 0], s_rows[:, 1])
    flips = {}
    for mode in analyses:
        reach = MODES[mode].reach_m(CIRCLE_MINUTES)
        flips[mode] = int(((circle <= reach) != (brute_min[sample] <= reach)).sum())
    relative = np.abs(brute_min[sample] - circle) / np.maximum(circle, 1.0)
    say(
        f"[stations]   great circle vs the flat projection, {len(sample):,} sampled points: nearest distance off by "
        f"{np.median(relative):.2%} median, {relative.max():.2%} at most; covered differs at "
        f"{flips['walk']} (walk) and {flips['ride']} (ride) of them"
    )

    python_n = min(size["python_sample"], len(rows))
    station_coords = [(float(a), float(b)) for a, b in s_rows]
    started = time.perf_counter()
    python_min = [
        min(distance_m(float(p_lat[i]), float(p_lng[i]), a, b) for a, b in station_coords) for i in range(python_n)
    ]
    python_seconds = (time.perf_counter() - started) * len(rows) / python_n
    assert np.allclose(python_min, haversine_nearest(p_lat[:python_n], p_lng[:python_n], s_rows[:, 0], s_rows[:, 1]))
    say(
        f"[stations]   pure Python, geo.distance_m over every pair: {python_n} points measured, extrapolated to all "
        f"{len(rows):,}: {python_seconds:,.0f} s"
    )

    # ---- summary ---------------------------------------------------------------------------------------------
    walk, ride = analyses["walk"], analyses["ride"]
    met = {
        "nearest_p95_ms": figures["nearest_p95_ms"] <= TARGET_NEAREST_MS,
        "coverage_seconds": coverage_seconds <= TARGET_COVERAGE_S,
    }
    say(f"[stations] load average now: {load_average()}")
    say(
        f"[stations]   nearest_p95_ms   {figures['nearest_p95_ms']:8.2f} ms (target <= {TARGET_NEAREST_MS:g} ms)  "
        f"{'met' if met['nearest_p95_ms'] else 'MISSED'}"
    )
    say(
        f"[stations]   coverage_seconds {coverage_seconds:8.3f} s  (target <= {TARGET_COVERAGE_S:g} s; the slower "
        f"mode's median)  {'met' if met['coverage_seconds'] else 'MISSED'}"
    )
    result(
        {
            "bench": "stations",
            "size": size_name,
            "db": vendor,
            "stations": stations_total,
            "stations_open": len(in_memory),
            "stations_open_now": len(open_now_memory),
            "stations_by_status": by_status,
            "demand_points": points_total,
            "workers": workers_total,
            "towns": len(towns),
            "load_seconds": round(load_seconds, 2),
            "query_points": len(queries),
            **figures,
            "nearest_checked": len(queries),
            "coverage_seconds": round(coverage_seconds, 3),
            "coverage_seconds_is": "max of the walk and ride medians",
            "coverage_walk_seconds": round(seconds["walk"], 3),
            "coverage_ride_seconds": round(seconds["ride"], 3),
            "coverage_runs": runs,
            "coverage_walk_parts_seconds": {k: round(v, 3) for k, v in parts_of["walk"].items()},
            "coverage_ride_parts_seconds": {k: round(v, 3) for k, v in parts_of["ride"].items()},
            "coverage_share": float(walk.share),
            "coverage_ride_share": float(ride.share),
            "coverage_points_covered": walk.points_covered,
            "coverage_uncovered": walk.points - walk.points_covered,
            "coverage_ride_uncovered": ride.points - ride.points_covered,
            "coverage_suggestions": len(walk.suggestions),
            "coverage_share_after_suggestions": float(walk.suggestions[-1].share_after) if walk.suggestions else None,
            "coverage_layer_cells": len(walk.layer),
            "brute_coverage_seconds": round(brute_seconds, 3),
            "brute_coverage_is": "measured: numpy all pairs over all points, flat projection, loading included",
            "brute_coverage_python_seconds": round(python_seconds, 1),
            "brute_coverage_python_is": f"extrapolated from {python_n} points, pure-Python geo.distance_m",
            "coverage_checked": len(rows),
            "great_circle_sample": len(sample),
            "great_circle_covered_differs": flips,
            "great_circle_max_relative_error": round(float(relative.max()), 5),
            "targets": {"nearest_p95_ms": TARGET_NEAREST_MS, "coverage_seconds": TARGET_COVERAGE_S},
            "targets_met": met,
            "full_garbage_collections": collections,
            "load_average_end": [round(x, 2) for x in os.getloadavg()],
        }
    )


if __name__ == "__main__":
    main()
