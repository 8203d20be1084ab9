"""Service stations: the 15-minute circle, coverage of the demand points and suggested sites."""

from decimal import ROUND_HALF_UP, Decimal

import h3
import pytest

from gonghui.audit.models import AuditEvent
from gonghui.common.errors import NotFound, PermissionDenied, ValidationFailed
from gonghui.common.geo import METRES_PER_DEGREE, distance_m
from gonghui.orgs.models import Employer
from gonghui.orgs.services import employer_create
from gonghui.stations.coverage import coverage_analyse
from gonghui.stations.models import Station, StationStatus
from tests.conftest import valid_uscc
from tests.stations.factories import (
    C1,
    E12,
    E123,
    HERE,
    NOT_FOUND,
    RIDE_REACH,
    T01,
    T02,
    T02E1,
    WALK_REACH,
    WZ,
    WZT1,
    demand,
    errors_of,
    make_station,
    north,
    set_status,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


NO_PERMISSION = "当前角色无权执行此操作"


# ---------------------------------------------------------------------------------------------------------------
# The 15-minute circle


@pytest.fixture
def circle(tree, system):
    """A hand-built case. The stations and points stand on one meridian, so every distance is a plain difference of
    latitudes (exact on the flat projection).

    S1 双塔驿站 (T01, open) at 31.30 N; S2 木渎驿站 (another district, open) at 31.20 N;
    a paused station 1,500 m north of S1 and a withdrawn one on Y, neither of which covers anything.
    Demand in T01's subtree: A 500 m north of S1 (100), B 1,500 m north of S1 (50), D 300 m south of S2 (40),
    X1 ~11 km north of S1 at the centre of a resolution-9 hexagon (300) and X2 10 m north of it (200),
    Y 5,000 m south of S2 (80). Demand of other subtrees (T02, WZ) is left out."""
    cell = h3.latlng_to_cell(31.40, 120.60, 9)
    x1 = tuple(round(v, 7) for v in h3.cell_to_latlng(cell))
    s1, s2 = (31.30, x1[1]), (31.20, x1[1])
    y = north(s2, -5000)
    make_station(system, tree[T01], "双塔驿站", s1)
    make_station(system, tree[WZT1], "木渎驿站", s2)
    set_status(system, make_station(system, tree[T01], "暂停驿站", north(s1, 1500)), StationStatus.PAUSED)
    set_status(system, make_station(system, tree[E12], "撤销驿站", y), StationStatus.CLOSED)
    points = {
        "A": demand(tree[C1], "竹辉环卫所", north(s1, 500), 100),
        "B": demand(tree[T01], "十全街快递站", north(s1, 1500), 50),
        "D": demand(tree[T01], "木渎边工地", north(s2, -300), 40),
        "X1": demand(tree[E12], "城北分拨中心", x1, 300),
        "X2": demand(tree[T01], "城北分拨中心北门", north(x1, 10), 200),
        "Y": demand(tree[E123], "南郊物流园", y, 80),
    }
    demand(tree[T02], "沧浪外卖站", north(s1, 20000), 999)  # a sibling subtree
    demand(tree[WZ], "吴中工业园", north(s2, 100), 777)  # another district
    return {"cell": cell, "x1": x1, "s1": s1, "s2": s2, "y": y, "b": north(s1, 1500), "points": points}


def centre_of_cell_holding(point: tuple[float, float]) -> tuple[float, float]:
    lat, lng = h3.cell_to_latlng(h3.latlng_to_cell(point[0], point[1], 9))
    return round(lat, 6), round(lng, 6)


def uncovered(result) -> list[tuple[str, int, float | None]]:
    return [(u.name, u.workers, u.nearest_m) for u in result.uncovered]


def suggestions(result) -> list[tuple[tuple[float, float], int, int, Decimal]]:
    return [((s.lat, s.lng), s.adds, s.adds_points, s.share_after) for s in result.suggestions]


def test_walking_coverage_of_imported_points_is_exact(tree, actors, circle):
    x_distance = (circle["x1"][0] - 31.30) * METRES_PER_DEGREE  # S1 is the nearest station to X1
    audit_before = AuditEvent.objects.count()

    result = coverage_analyse(actor=actors["district_cadre"], org=tree[T01], source="points", mode="walk")

    assert (result.source, result.mode, result.minutes) == ("points", "walk", 15)
    assert result.reach_m == pytest.approx(WALK_REACH)
    assert result.stations == 2  # the two open ones, the other district's included
    # Covered: A (by S1) and D (by S2, which another district manages: supply is region-wide).
    assert (result.points, result.points_covered) == (6, 2)
    assert (result.demand, result.demand_covered) == (770, 140)
    assert result.share == Decimal("18.2")
    assert isinstance(result.share, Decimal)
    assert uncovered(result) == [
        ("城北分拨中心", 300, pytest.approx(x_distance, abs=1e-3)),
        ("城北分拨中心北门", 200, pytest.approx(x_distance + 10, abs=1e-3)),
        ("南郊物流园", 80, pytest.approx(5000, abs=1e-3)),  # the withdrawn station standing on it does not count
        ("十全街快递站", 50, pytest.approx(1500, abs=1e-3)),  # the paused station standing on it does not count
    ]
    # Greedy: the X cluster first (its hexagon's centre reaches both points), then Y, then B.
    x_centre = tuple(round(v, 6) for v in h3.cell_to_latlng(circle["cell"]))
    assert suggestions(result) == [
        (x_centre, 500, 2, Decimal("83.1")),
        (centre_of_cell_holding(circle["y"]), 80, 1, Decimal("93.5")),
        (centre_of_cell_holding(circle["b"]), 50, 1, Decimal("100.0")),
    ]
    assert distance_m(*x_centre, *circle["x1"]) < WALK_REACH
    # The map layer: the X hexagon (res 8) is the heaviest uncovered one; all demand is accounted for.
    assert (result.layer[0].demand, result.layer[0].covered) == (500, 0)
    assert result.layer[0].cell == h3.latlng_to_cell(*circle["x1"], 8)
    assert sum(c.demand for c in result.layer) == 770
    assert sum(c.covered for c in result.layer) == 140
    assert AuditEvent.objects.count() == audit_before


def test_riding_coverage_of_imported_points_is_exact(tree, actors, circle):
    x_distance = (circle["x1"][0] - 31.30) * METRES_PER_DEGREE

    result = coverage_analyse(actor=actors["town_cadre"], org=tree[T01], source="points", mode="ride", suggestions=5)

    assert result.reach_m == pytest.approx(RIDE_REACH)
    assert (result.points, result.points_covered, result.demand, result.demand_covered) == (6, 3, 770, 190)
    assert result.share == Decimal("24.7")
    assert uncovered(result) == [
        ("城北分拨中心", 300, pytest.approx(x_distance, abs=1e-3)),
        ("城北分拨中心北门", 200, pytest.approx(x_distance + 10, abs=1e-3)),
        ("南郊物流园", 80, pytest.approx(5000, abs=1e-3)),
    ]
    x_centre = tuple(round(v, 6) for v in h3.cell_to_latlng(circle["cell"]))
    assert suggestions(result) == [
        (x_centre, 500, 2, Decimal("89.6")),
        (centre_of_cell_holding(circle["y"]), 80, 1, Decimal("100.0")),
    ]


def test_the_number_of_suggestions_is_the_one_asked_for(tree, actors, circle):
    one = coverage_analyse(actor=actors["district_cadre"], org=tree[T01], suggestions=1)
    none = coverage_analyse(actor=actors["district_cadre"], org=tree[T01], suggestions=0)

    assert [(s.adds, s.share_after) for s in one.suggestions] == [(500, Decimal("83.1"))]
    assert none.suggestions == []
    assert none.share == Decimal("18.2")


def test_a_smaller_subtree_counts_only_its_own_points(tree, actors, circle):
    # E12 holds only X1; the grassroots cadre of E12 may analyse it, and the town's stations still serve it.
    result = coverage_analyse(actor=actors["grassroots_cadre"], org=tree[E12], mode="walk")

    assert (result.points, result.demand, result.demand_covered, result.share) == (1, 300, 0, Decimal("0.0"))
    assert [u.name for u in result.uncovered] == ["城北分拨中心"]


def test_a_paused_station_reopened_covers_again(tree, actors, system, circle):
    paused = Station.objects.get(name="暂停驿站")
    set_status(system, paused, StationStatus.OPEN)

    result = coverage_analyse(actor=actors["district_cadre"], org=tree[T01], mode="walk")

    assert (result.stations, result.points_covered, result.demand_covered) == (3, 3, 190)
    assert result.share == Decimal("24.7")
    assert [u.name for u in result.uncovered] == ["城北分拨中心", "城北分拨中心北门", "南郊物流园"]


def test_the_covered_share_is_rounded_half_up_to_one_place(tree, actors, system):
    make_station(system, tree[T01], "驿站", HERE)
    demand(tree[T01], "门口", north(HERE, 100), 1)
    demand(tree[T01], "远处", north(HERE, 5000), 399)  # 1 of 400 covered: 0.25 % (half-even would give 0.2)

    result = coverage_analyse(actor=actors["town_cadre"], org=tree[T01], mode="walk")

    assert result.share == Decimal("0.3")
    assert [(s.adds, s.share_after) for s in result.suggestions] == [(399, Decimal("100.0"))]


def test_with_no_demand_the_share_is_unknown_and_nothing_is_suggested(tree, actors, system):
    make_station(system, tree[T01], "驿站", HERE)

    result = coverage_analyse(actor=actors["town_cadre"], org=tree[T01])

    assert (result.points, result.demand, result.share, result.uncovered, result.suggestions, result.layer) == (
        0,
        0,
        None,
        [],
        [],
        [],
    )


def test_without_any_open_station_every_point_is_uncovered_with_no_nearest(tree, actors, system):
    set_status(system, make_station(system, tree[T01], "暂停驿站", HERE), StationStatus.PAUSED)
    demand(tree[T01], "甲", north(HERE, 100), 30)
    demand(tree[T01], "乙", north(HERE, 200), 30)

    result = coverage_analyse(actor=actors["town_cadre"], org=tree[T01])

    assert (result.stations, result.points_covered, result.share) == (0, 0, Decimal("0.0"))
    assert uncovered(result) == [("乙", 30, None), ("甲", 30, None)]  # equal demand: by name
    assert [(s.adds, s.adds_points, s.share_after) for s in result.suggestions] == [(60, 2, Decimal("100.0"))]


def test_employers_with_coordinates_are_the_demand_weighted_by_staff(tree, actors, system, employer_set):
    make_station(system, tree[T01], "双塔驿站", HERE)
    Employer.objects.filter(id=employer_set["covered"].id).update(lat=north(HERE, 500)[0], lng=HERE[1])
    Employer.objects.filter(id=employer_set["wuzhong"].id).update(lat=31.25, lng=120.50)  # another district
    site = employer_create(
        actor=system,
        name="双塔建筑工地",
        uscc=valid_uscc("91320508MA1W0004D"),
        employee_count=60,
        industry="E",
        town_org=tree[T01],
        lat=north(HERE, 2000)[0],
        lng=HERE[1],
    )
    assert (site.lat, site.lng) == (round(north(HERE, 2000)[0], 7), HERE[1])
    # 双塔物流有限公司 (150 staff) has no coordinates and is left out.

    walk = coverage_analyse(actor=actors["town_cadre"], org=tree[T01], source="employers", mode="walk")
    ride = coverage_analyse(actor=actors["town_cadre"], org=tree[T01], source="employers", mode="ride")

    assert (walk.points, walk.points_covered, walk.demand, walk.demand_covered) == (2, 1, 140, 80)
    assert walk.share == Decimal("57.1")
    assert uncovered(walk) == [("双塔建筑工地", 60, pytest.approx(2000, abs=0.01))]
    assert [(s.adds, s.share_after) for s in walk.suggestions] == [(60, Decimal("100.0"))]
    assert (ride.points, ride.points_covered, ride.demand, ride.demand_covered) == (2, 2, 140, 140)
    assert ride.share == Decimal("100.0")
    assert ride.uncovered == [] and ride.suggestions == []


def test_the_grid_source_counts_hexagons_over_the_subtree_and_covers_those_near_an_open_station(tree, actors, system):
    # T02's subtree: an open and a paused station, an employer and a demand point; its withdrawn station far away
    # does not stretch the box. A station of another district inside the box serves it too.
    g1 = make_station(system, tree[T02E1], "沧浪驿站", (31.251, 120.551))
    set_status(system, make_station(system, tree[T02], "沧浪暂停站", (31.23, 120.56)), StationStatus.PAUSED)
    set_status(system, make_station(system, tree[T02], "沧浪撤销站", (31.35, 120.70)), StationStatus.CLOSED)
    wz = make_station(system, tree[WZT1], "木渎驿站", (31.265, 120.575))
    employer_create(
        actor=system,
        name="沧浪纺织有限公司",
        uscc=valid_uscc("91320508MA1W0005E"),
        employee_count=40,
        industry="C",
        town_org=tree[T02],
        lat=31.24,
        lng=120.57,
    )
    demand(tree[T02], "沧浪快递站", (31.27, 120.58), 25)
    south, west, north_edge, east = 31.23 - 0.005, 120.551 - 0.005, 31.27 + 0.005, 120.58 + 0.005
    cells = sorted(
        h3.h3shape_to_cells(h3.LatLngPoly([(south, west), (south, east), (north_edge, east), (north_edge, west)]), 8)
    )
    open_points = [(g1.lat, g1.lng), (wz.lat, wz.lng)]

    def nearest(cell):
        return min(distance_m(*h3.cell_to_latlng(cell), *p) for p in open_points)

    for cell in cells:  # nothing sits on the edge of the circle, so the flat projection's 1 % cannot matter
        assert abs(nearest(cell) - WALK_REACH) > 0.02 * WALK_REACH
    expected_uncovered = sorted(c for c in cells if nearest(c) > WALK_REACH)

    result = coverage_analyse(actor=actors["district_cadre"], org=tree[T02], source="grid", mode="walk")

    assert len(cells) > 15
    assert (result.points, result.demand) == (len(cells), len(cells))
    assert result.points_covered == result.demand_covered == len(cells) - len(expected_uncovered)
    assert 0 < result.points_covered < len(cells)
    assert [u.name for u in result.uncovered] == expected_uncovered  # equal weights: by cell id
    assert all(u.workers == 1 for u in result.uncovered)
    for u in result.uncovered:
        assert u.nearest_m == pytest.approx(nearest(u.name), rel=0.01)
    assert h3.latlng_to_cell(31.251, 120.551, 8) not in expected_uncovered  # the hexagon holding 沧浪驿站
    assert h3.latlng_to_cell(31.23, 120.56, 8) in expected_uncovered  # the paused station's hexagon
    covered_cells = set(cells) - set(expected_uncovered)
    # Some hexagons are covered only by the other district's station.
    assert any(distance_m(*h3.cell_to_latlng(c), g1.lat, g1.lng) > WALK_REACH for c in covered_cells)
    share = (Decimal(result.demand_covered * 100) / len(cells)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    assert result.share == share
    # A lone station: the box is the station ± 0.005° (about 500 m), the hexagons whose centres fall inside it.
    lone = coverage_analyse(actor=actors["other_district_cadre"], org=tree[WZ], source="grid", mode="walk")
    lone_box = h3.LatLngPoly([(31.26, 120.57), (31.26, 120.58), (31.27, 120.58), (31.27, 120.57)])
    assert lone.points == len(h3.h3shape_to_cells(lone_box, 8)) >= 1
    assert lone.points_covered == lone.points  # every centre in that box is within 962 m of the station


def test_coverage_is_for_an_organisation_in_scope_and_a_role_that_may_view_stations(tree, actors, circle):
    for username in ("other_district_cadre", "grassroots_cadre"):
        with pytest.raises(NotFound) as exc:
            coverage_analyse(actor=actors[username], org=tree[T01])
        assert exc.value.message == NOT_FOUND
    for username in ("secadmin", "auditor", "sysadmin"):
        with pytest.raises(PermissionDenied) as exc:
            coverage_analyse(actor=actors[username], org=tree[T01])
        assert exc.value.message == NO_PERMISSION


@pytest.mark.parametrize(
    ("arguments", "errors"),
    [
        ({"source": "members"}, {"source": "需求来源只能是导入的需求点、企业或网格"}),
        ({"mode": "drive"}, {"mode": "出行方式只能是步行或骑行"}),
        ({"suggestions": 51}, {"suggestions": "建议选址最多 50 个"}),
        ({"suggestions": -1}, {"suggestions": "建议选址最多 50 个"}),
    ],
)
def test_a_bad_coverage_request_is_refused(tree, actors, arguments, errors):
    with pytest.raises(ValidationFailed) as exc:
        coverage_analyse(actor=actors["district_cadre"], org=tree[T01], **arguments)
    assert errors_of(exc) == errors
