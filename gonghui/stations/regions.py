"""The region's county-level districts (区县): their outlines for the maps and the district a point lies in.

The outlines are shipped with the site's static files (`stations/districts.geojson`, WGS84, ~1 m rounding, 3 m
simplification); docs/stations.md says where they come from and how `manage.py stations_outlines` rebuilds them.
The maps load the same file from the site itself; nothing is fetched from outside.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings

OUTLINES_STATIC = "stations/districts.geojson"
OUTLINES_FILE = Path(__file__).resolve().parent / "static" / OUTLINES_STATIC


@dataclass(frozen=True)
class District:
    code: str  # GB/T 2260
    name: str
    polygons: tuple  # of polygons; each a tuple of rings; each ring a tuple of (lng, lat)
    box: tuple[float, float, float, float]  # south, west, north, east

    def contains(self, lat: float, lng: float) -> bool:
        south, west, north, east = self.box
        if not (south <= lat <= north and west <= lng <= east):
            return False
        return any(_in_polygon(polygon, lat, lng) for polygon in self.polygons)


def _in_ring(ring, lat: float, lng: float) -> bool:
    """Even-odd ray casting (a point on an edge may fall either way: outlines are a few metres accurate anyway)."""
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > lat) != (yj > lat) and lng < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def _in_polygon(polygon, lat: float, lng: float) -> bool:
    outer, *holes = polygon
    return _in_ring(outer, lat, lng) and not any(_in_ring(hole, lat, lng) for hole in holes)


def outlines_path() -> Path:
    """The shipped file, which the maps load too; STATIONS_DISTRICT_OUTLINES moves the server's copy (tests)."""
    return Path(getattr(settings, "STATIONS_DISTRICT_OUTLINES", OUTLINES_FILE))


@cache
def _load(path: Path) -> tuple[District, ...]:
    if not path.exists():
        return ()
    data = json.loads(path.read_text(encoding="utf-8"))
    districts = []
    for feature in data.get("features", []):
        polygons = tuple(
            tuple(tuple((float(x), float(y)) for x, y in ring) for ring in polygon)
            for polygon in feature["geometry"]["coordinates"]
        )
        lats = [y for polygon in polygons for x, y in polygon[0]]
        lngs = [x for polygon in polygons for x, y in polygon[0]]
        districts.append(
            District(
                code=str(feature["properties"]["code"]),
                name=feature["properties"]["name"],
                polygons=polygons,
                box=(min(lats), min(lngs), max(lats), max(lngs)),
            )
        )
    return tuple(districts)


def districts() -> tuple[District, ...]:
    return _load(outlines_path())


def district_at(lat: float, lng: float) -> District | None:
    """The district whose outline holds the point, or None (outside the region, or no outlines shipped)."""
    for district in districts():
        if district.contains(lat, lng):
            return district
    return None
