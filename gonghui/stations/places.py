"""Names for places on the map that have no address of their own: a suggested site for a new station is named by
its district and 街道/镇, never shown as bare coordinates.

* The district (区县) comes from the shipped district outlines (regions.py): the one whose outline holds the point.
* The 街道/镇 comes from the nearest known place within NEAR_M that belongs to a town-level union of that district:
  an open station (its managing union, or the union above it at town level) or an employer of the analysed subtree
  located at a town union. The name is that union's, less the city's and district's names and 总工会. No street
  boundaries are shipped (none were found in a package the platform can install), so the name says what it rests
  on: 依据 the station or employer and its distance. When nothing known is near, only the district is named.
  A development park's union (开发区/园区, town level) names the park alone: 苏州工业园区, not 吴中区苏州工业园区.
"""

import re
from dataclasses import dataclass

import numpy as np

from gonghui.common.geo import FlatProjection, region_bounds
from gonghui.orgs.models import Organisation, OrgLevel, OrgType
from gonghui.orgs.selectors import employers_located_in, org_and_ancestors
from gonghui.stations.models import Station, StationStatus
from gonghui.stations.regions import district_at
from gonghui.stations.travel import distance_text

NEAR_M = 2000.0  # a 街道 is typically a few km across: farther than this, the nearest place says little
CANDIDATES = 12
UNION_SUFFIX = re.compile(r"(总工会|工会联合会|工会委员会|工会)$")


@dataclass(frozen=True)
class Place:
    name: str  # 姑苏区金枫街道, 姑苏区, or 本地区范围外
    basis: str  # what the name rests on, in one sentence


def _core(name: str) -> str:
    return UNION_SUFFIX.sub("", name)


class _Known:
    """Located places (stations, employers) with the town-level union each belongs to."""

    def __init__(self, org: Organisation):
        rows: list[tuple[float, float, str, str, object]] = []  # lat, lng, kind, name, org id
        for lat, lng, name, org_id in Station.objects.filter(status=StationStatus.OPEN).values_list(
            "lat", "lng", "name", "org_id"
        ):
            rows.append((lat, lng, "站点", name, org_id))
        for e_lat, e_lng, name, org_id in (
            employers_located_in(org)
            .filter(lat__isnull=False, lng__isnull=False)
            .values_list("lat", "lng", "name", "town_org_id")
        ):
            if e_lat is not None and e_lng is not None:  # filtered in the query; narrows the type
                rows.append((e_lat, e_lng, "企业", name, org_id))
        self.rows = rows
        self.flat = FlatProjection(region_bounds().centre[0])
        if rows:
            lats = np.array([r[0] for r in rows], dtype=float)
            lngs = np.array([r[1] for r in rows], dtype=float)
            from scipy.spatial import cKDTree  # imported when used: scipy takes a noticeable time to load

            self.tree = cKDTree(np.column_stack(self.flat.xy(lats, lngs)))
        self._towns: dict[object, tuple[str, str, bool] | None] = {}

    def near(self, lat: float, lng: float):
        """(distance, row) of the known places within NEAR_M, nearest first."""
        if not self.rows:
            return []
        x, y = self.flat.xy(lat, lng)
        k = min(CANDIDATES, len(self.rows))
        distances, indexes = self.tree.query([x, y], k=k, distance_upper_bound=NEAR_M)
        pairs = zip(np.atleast_1d(distances), np.atleast_1d(indexes), strict=True)
        return [(float(d), self.rows[int(i)]) for d, i in pairs if np.isfinite(d)]

    def town_of(self, org_id) -> tuple[str, str, bool] | None:
        """(street name, district region code, is a park) of the town-level union at or above `org_id`, or None."""
        if org_id not in self._towns:
            self._towns[org_id] = self._find_town(org_id)
        return self._towns[org_id]

    def _find_town(self, org_id) -> tuple[str, str, bool] | None:
        found = org_and_ancestors(org_id, fields=("path", "name", "level", "org_type", "region_code"))
        if found is None:
            return None
        line = {o.path: o for o in found}
        ordered = [line[p] for p in sorted(line, key=len)]
        town = next((o for o in ordered if o.level == OrgLevel.TOWN), None)
        if town is None:
            return None
        street = _core(town.name)
        for upper in ordered:  # the city's and the district's own names lead a town union's name
            if len(upper.path) < len(town.path):
                street = street.removeprefix(_core(upper.name))
        park = town.org_type == OrgType.PARK
        if not park and not re.search(r"(街道|镇|乡)$", street):
            return None
        return street, town.region_code, park


def places_for(points: list[tuple[float, float]], *, org: Organisation) -> list[Place]:
    """A Place for each (lat, lng): district from the outlines, 街道/镇 from the nearest known place of it."""
    if not points:
        return []
    known = _Known(org)
    places = []
    for lat, lng in points:
        district = district_at(lat, lng)
        if district is None:
            places.append(Place("本地区范围外", "不在任何区县轮廓内"))
            continue
        chosen = None
        for distance, (_, _, kind, name, org_id) in known.near(lat, lng):
            town = known.town_of(org_id)
            if town is not None and (town[1] == district.code or town[1].endswith("00")):
                chosen = (town[0] if town[2] else f"{district.name}{town[0]}", kind, name, distance)
                break
        if chosen is None:
            places.append(
                Place(district.name, f"{NEAR_M / 1000:g} 公里内没有已登记所属街道（镇）的站点或企业，仅能确定区县")
            )
            continue
        place, kind, name, distance = chosen
        places.append(Place(place, f"依据：最近的{kind}“{name}”（相距 {distance_text(distance)}）"))
    return places
