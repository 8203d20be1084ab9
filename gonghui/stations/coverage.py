"""The 15-minute service circle (15分钟服务圈) of an organisation's subtree.

Demand: where the workers are, as points with a weight —
  * `points`: the demand points imported for organisations in the subtree (workers at each place);
  * `employers`: the employers located in the subtree that have coordinates, weighted by their staff;
  * `grid`: an H3 hexagon grid (resolution 8, about 0.74 km² a cell) over the area of the subtree's stations,
    employers and points, one unit per cell — the share of the area within reach.
Supply: every open station of the region, whoever manages it (a worker uses the nearest station, not their own
union's). A demand point is covered when an open station lies within the travel mode's reach in 15 minutes
(gonghui/stations/travel.py).

Then: the covered share, the uncovered points ranked by demand, a map layer (H3 cells with their demand and the
covered part), and suggested sites for new stations — greedy maximum coverage over candidate sites (the centres of
the resolution-9 hexagons, ~0.1 km², that hold uncovered demand): each step takes the candidate that would cover
the most still-uncovered demand, with lazy re-evaluation (a candidate's gain only falls as others are taken).
Greedy is within 1 − 1/e of the best possible choice of the same number of sites, and in practice close to it.

All distances are on a flat projection around the region's centre (geo.FlatProjection), searched with k-d trees
(scipy), so 100,000 points against 10,000 stations take well under a second.
"""

import heapq
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

import h3
import numpy as np

from gonghui.common.actor import Actor
from gonghui.common.errors import NotFound, ValidationFailed
from gonghui.common.geo import FlatProjection, region_bounds
from gonghui.common.roles import Perm
from gonghui.orgs.models import Organisation
from gonghui.orgs.selectors import employers_located_in
from gonghui.stations.models import DemandPoint, Station, StationStatus
from gonghui.stations.places import places_for
from gonghui.stations.travel import CIRCLE_MINUTES, MODES

SOURCES = {"points": "导入的需求点", "employers": "企业（按职工人数）", "grid": "六边形网格（按面积）"}
GRID_RESOLUTION = 8
CANDIDATE_RESOLUTION = 9
LAYER_RESOLUTION = 8
MAX_SUGGESTIONS = 50
UNCOVERED_SHOWN = 100
LAYER_CELLS = 3000


@dataclass(frozen=True)
class Demand:
    names: list[str]
    lat: np.ndarray
    lng: np.ndarray
    weight: np.ndarray


@dataclass(frozen=True)
class UncoveredPoint:
    name: str
    lat: float
    lng: float
    workers: int
    nearest_m: float | None  # the nearest open station, straight line (None: there is none)


@dataclass(frozen=True)
class Suggestion:
    lat: float
    lng: float
    adds: int  # demand this site would add to the covered
    adds_points: int
    share_after: Decimal | None  # the covered share with this and the sites before it
    place: str = ""  # 区县 and 街道/镇 (places.py), never bare coordinates
    place_basis: str = ""  # what the place name rests on


@dataclass(frozen=True)
class LayerCell:
    cell: str
    demand: int
    covered: int
    boundary: list[tuple[float, float]]


@dataclass
class Coverage:
    org: Organisation
    source: str
    mode: str
    minutes: int
    reach_m: float
    stations: int
    points: int
    points_covered: int
    demand: int
    demand_covered: int
    uncovered: list[UncoveredPoint] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    layer: list[LayerCell] = field(default_factory=list)

    @property
    def share(self) -> Decimal | None:
        return _share(self.demand_covered, self.demand)


def _share(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- demand


def _demand_points(org: Organisation) -> Demand:
    rows = list(
        DemandPoint.objects.filter(org__path__startswith=org.path)
        .order_by("id")
        .values_list("name", "lat", "lng", "workers")
    )
    return _demand_of(rows)


def _demand_employers(org: Organisation) -> Demand:
    rows = list(
        employers_located_in(org)
        .filter(lat__isnull=False, lng__isnull=False)
        .order_by("name", "id")
        .values_list("name", "lat", "lng", "employee_count")
    )
    return _demand_of(rows)


def _demand_grid(org: Organisation) -> Demand:
    """One unit per resolution-8 hexagon over the box of the subtree's stations, employers and demand points."""
    boxes = [
        Station.objects.filter(org__path__startswith=org.path).exclude(status=StationStatus.CLOSED),
        employers_located_in(org).filter(lat__isnull=False),
        DemandPoint.objects.filter(org__path__startswith=org.path),
    ]
    lats, lngs = [], []
    for queryset in boxes:
        for lat, lng in queryset.values_list("lat", "lng"):
            lats.append(lat)
            lngs.append(lng)
    if not lats:
        return _demand_of([])
    south, north, west, east = min(lats), max(lats), min(lngs), max(lngs)
    margin = 0.005  # ~500 m, so a lone station still has cells around it
    shape = h3.LatLngPoly(
        [
            (south - margin, west - margin),
            (south - margin, east + margin),
            (north + margin, east + margin),
            (north + margin, west - margin),
        ]
    )
    cells = sorted(h3.h3shape_to_cells(shape, GRID_RESOLUTION))
    rows = []
    for cell in cells:
        lat, lng = h3.cell_to_latlng(cell)
        rows.append((cell, lat, lng, 1))
    return _demand_of(rows)


def _demand_of(rows: list[tuple]) -> Demand:
    return Demand(
        names=[r[0] for r in rows],
        lat=np.array([r[1] for r in rows], dtype=float),
        lng=np.array([r[2] for r in rows], dtype=float),
        weight=np.array([r[3] for r in rows], dtype=np.int64),
    )


DEMAND_LOADERS = {"points": _demand_points, "employers": _demand_employers, "grid": _demand_grid}


# ---------------------------------------------------------------- the analysis


def coverage_analyse(
    *, actor: Actor, org: Organisation, source: str = "points", mode: str = "walk", suggestions: int = 10
) -> Coverage:
    """The 15-minute circle of `org`'s subtree for one demand source and travel mode, with up to `suggestions`
    suggested sites."""
    actor.require(Perm.STATIONS_VIEW)
    if not actor.covers_path(org.path):
        raise NotFound()
    if source not in SOURCES:
        raise ValidationFailed({"source": "需求来源只能是导入的需求点、企业或网格"})
    if mode not in MODES:
        raise ValidationFailed({"mode": "出行方式只能是步行或骑行"})
    if not 0 <= suggestions <= MAX_SUGGESTIONS:
        raise ValidationFailed({"suggestions": f"建议选址最多 {MAX_SUGGESTIONS} 个"})
    travel = MODES[mode]
    reach = travel.reach_m(CIRCLE_MINUTES)
    demand = DEMAND_LOADERS[source](org)
    station_rows = np.array(
        list(Station.objects.filter(status=StationStatus.OPEN).values_list("lat", "lng")), dtype=float
    ).reshape(-1, 2)
    flat = FlatProjection(region_bounds().centre[0])
    demand_xy = np.column_stack(flat.xy(demand.lat, demand.lng)) if len(demand.names) else np.empty((0, 2))
    if len(station_rows) and len(demand.names):
        stations_xy = np.column_stack(flat.xy(station_rows[:, 0], station_rows[:, 1]))
        from scipy.spatial import cKDTree  # imported when used: scipy takes a noticeable time to load

        nearest, _ = cKDTree(stations_xy).query(demand_xy, k=1)
    else:
        nearest = np.full(len(demand.names), np.inf)
    covered = nearest <= reach
    result = Coverage(
        org=org,
        source=source,
        mode=mode,
        minutes=CIRCLE_MINUTES,
        reach_m=reach,
        stations=len(station_rows),
        points=len(demand.names),
        points_covered=int(covered.sum()),
        demand=int(demand.weight.sum()),
        demand_covered=int(demand.weight[covered].sum()),
    )
    result.uncovered = _uncovered(demand, covered, nearest)
    result.suggestions = _named(_suggest(demand, demand_xy, covered, flat, reach, suggestions, result), org)
    result.layer = _layer(demand, covered)
    return result


def _uncovered(demand: Demand, covered: np.ndarray, nearest: np.ndarray) -> list[UncoveredPoint]:
    order = sorted(np.flatnonzero(~covered), key=lambda i: (-int(demand.weight[i]), demand.names[i]))
    return [
        UncoveredPoint(
            name=demand.names[i],
            lat=float(demand.lat[i]),
            lng=float(demand.lng[i]),
            workers=int(demand.weight[i]),
            nearest_m=float(nearest[i]) if np.isfinite(nearest[i]) else None,
        )
        for i in order[:UNCOVERED_SHOWN]
    ]


def _suggest(demand, demand_xy, covered, flat, reach, wanted, result) -> list[Suggestion]:
    """Greedy maximum coverage (lazy): candidate sites are the centres of the resolution-9 hexagons holding
    uncovered demand; ties go to the candidate first in cell order."""
    open_points = np.flatnonzero(~covered)
    if not wanted or not len(open_points):
        return []
    cells = sorted(
        {h3.latlng_to_cell(float(demand.lat[i]), float(demand.lng[i]), CANDIDATE_RESOLUTION) for i in open_points}
    )
    centres = np.array([h3.cell_to_latlng(cell) for cell in cells], dtype=float)
    candidate_xy = np.column_stack(flat.xy(centres[:, 0], centres[:, 1]))
    from scipy.spatial import cKDTree

    reached = cKDTree(demand_xy[open_points]).query_ball_point(candidate_xy, r=reach)
    weights = demand.weight[open_points]
    taken = np.zeros(len(open_points), dtype=bool)
    heap = [(-int(weights[members].sum()), index) for index, members in enumerate(reached)]
    heapq.heapify(heap)
    covered_now = result.demand_covered
    suggestions: list[Suggestion] = []
    while heap and len(suggestions) < wanted:
        stale_gain, index = heapq.heappop(heap)
        members = np.array(reached[index], dtype=np.int64)
        fresh = members[~taken[members]] if len(members) else members
        gain = int(weights[fresh].sum())
        if gain <= 0:
            continue
        if gain < -stale_gain:
            heapq.heappush(heap, (-gain, index))
            continue
        taken[fresh] = True
        covered_now += gain
        suggestions.append(
            Suggestion(
                lat=round(float(centres[index][0]), 6),
                lng=round(float(centres[index][1]), 6),
                adds=gain,
                adds_points=len(fresh),
                share_after=_share(covered_now, result.demand),
            )
        )
    return suggestions


def _named(suggestions: list[Suggestion], org: Organisation) -> list[Suggestion]:
    places = places_for([(s.lat, s.lng) for s in suggestions], org=org)
    return [replace(s, place=p.name, place_basis=p.basis) for s, p in zip(suggestions, places, strict=True)]


def _layer(demand: Demand, covered: np.ndarray) -> list[LayerCell]:
    """Resolution-8 hexagons with their demand and its covered part: the uncovered-heaviest first, at most
    LAYER_CELLS of them."""
    totals: dict[str, list[int]] = {}
    for i in range(len(demand.names)):
        cell = h3.latlng_to_cell(float(demand.lat[i]), float(demand.lng[i]), LAYER_RESOLUTION)
        entry = totals.setdefault(cell, [0, 0])
        entry[0] += int(demand.weight[i])
        if covered[i]:
            entry[1] += int(demand.weight[i])
    ranked = sorted(totals.items(), key=lambda item: (-(item[1][0] - item[1][1]), item[0]))[:LAYER_CELLS]
    return [
        LayerCell(
            cell=cell, demand=d, covered=c, boundary=[(round(a, 6), round(b, 6)) for a, b in h3.cell_to_boundary(cell)]
        )
        for cell, (d, c) in ranked
    ]
