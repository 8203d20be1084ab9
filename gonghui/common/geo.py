"""Coordinates: checking them at the edge, converting GCJ-02 input, distances, and a flat projection for the
coverage analysis. Stored coordinates are WGS84 degrees (CGCS2000 agrees with WGS84 to well within a metre, far less
than a station's size, so the two are treated as one).

GCJ-02 is the offset system Chinese web maps (高德, 腾讯) show and export. A point copied from such a map is off by
a few hundred metres; `gcj02_to_wgs84` takes it back (iteratively inverting the published forward formula, to
within a centimetre). 百度 BD-09 is not accepted: convert it to GCJ-02 first.
"""

import math
from dataclasses import dataclass

from django.conf import settings

from gonghui.common.errors import ValidationFailed
from gonghui.common.validators import to_half_width

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180


@dataclass(frozen=True)
class Bounds:
    """The region's bounding area: a coordinate outside it is refused."""

    south: float
    west: float
    north: float
    east: float

    def contains(self, lat: float, lng: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lng <= self.east

    @property
    def centre(self) -> tuple[float, float]:
        return (self.south + self.north) / 2, (self.west + self.east) / 2

    def describe(self) -> str:
        return f"北纬 {self.south:g}°–{self.north:g}°、东经 {self.west:g}°–{self.east:g}°"


def region_bounds() -> Bounds:
    return Bounds(*settings.STATIONS_REGION_BOUNDS)


# ---------------------------------------------------------------- checking input


def _number(raw, label: str) -> float:
    if isinstance(raw, int | float):
        value = float(raw)
    else:
        text = to_half_width(str(raw or "")).strip().replace("°", "")
        if not text:
            raise ValidationFailed({label: f"请填写{label}"})
        try:
            value = float(text)
        except ValueError:
            raise ValidationFailed({label: f"{label}“{text}”不是数字，请填写十进制度数，如 31.2990"}) from None
    if not math.isfinite(value):
        raise ValidationFailed({label: f"{label}不是有效的数字"})
    return value


def clean_coordinates(lat_raw, lng_raw, *, system: str = "wgs84", bounds: Bounds | None = None) -> tuple[float, float]:
    """(lat, lng) in WGS84, rounded to 7 places (~1 cm), or ValidationFailed with one plain reason: missing or not a
    number, 0,0 (never located), out of range, latitude and longitude swapped, or outside the region."""
    if system not in ("wgs84", "gcj02"):
        raise ValidationFailed({"坐标系": "坐标系只能是 WGS84 或 GCJ-02"})
    lat, lng = _number(lat_raw, "纬度"), _number(lng_raw, "经度")
    bounds = bounds or region_bounds()
    if lat == 0 and lng == 0:
        raise ValidationFailed({"坐标": "坐标是 0,0（没有定位），请填写站点的实际经纬度"})
    if bounds.contains(lng, lat):
        raise ValidationFailed({"坐标": f"经纬度填反了：{lat:g} 像是经度、{lng:g} 像是纬度，请交换后重新填写"})
    if not -90 <= lat <= 90:
        raise ValidationFailed({"纬度": f"纬度 {lat:g} 超出 -90 到 90 的范围"})
    if not -180 <= lng <= 180:
        raise ValidationFailed({"经度": f"经度 {lng:g} 超出 -180 到 180 的范围"})
    if system == "gcj02":
        lat, lng = gcj02_to_wgs84(lat, lng)
    if not bounds.contains(lat, lng):
        raise ValidationFailed(
            {"坐标": f"坐标（纬度 {lat:.4f}，经度 {lng:.4f}）不在本地区范围内（{bounds.describe()}），请核对"}
        )
    return round(lat, 7), round(lng, 7)


# ---------------------------------------------------------------- GCJ-02


_A = 6378245.0  # the Krasovsky 1940 ellipsoid the published GCJ-02 formula uses
_EE = 0.00669342162296594323


def _transform_lat(x: float, y: float) -> float:
    result = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    result += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    result += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    result += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return result


def _transform_lng(x: float, y: float) -> float:
    result = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    result += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    result += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    result += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return result


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """The published forward formula (applies inside China; the region check comes before any use here)."""
    d_lat = _transform_lat(lng - 105.0, lat - 35.0)
    d_lng = _transform_lng(lng - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lng = (d_lng * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return lat + d_lat, lng + d_lng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """The WGS84 point whose GCJ-02 image is (lat, lng): fixed-point iteration, converging to < 1e-9° in a few
    steps (the offset changes slowly with position)."""
    guess_lat, guess_lng = lat, lng
    for _ in range(30):
        shifted_lat, shifted_lng = wgs84_to_gcj02(guess_lat, guess_lng)
        error_lat, error_lng = shifted_lat - lat, shifted_lng - lng
        guess_lat, guess_lng = guess_lat - error_lat, guess_lng - error_lng
        if abs(error_lat) < 1e-10 and abs(error_lng) < 1e-10:
            break
    return guess_lat, guess_lng


# ---------------------------------------------------------------- distance


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine on the mean sphere; within 0.5% of the ellipsoid)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    d_lat, d_lng = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(d_lat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(d_lng / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def box_around(lat: float, lng: float, radius_m: float) -> tuple[float, float, float, float]:
    """(south, west, north, east) of a box that holds every point within `radius_m` of (lat, lng)."""
    d_lat = radius_m / METRES_PER_DEGREE
    widest = min(89.0, abs(lat) + d_lat)  # the box is widest in longitude at its edge nearer the pole
    d_lng = min(180.0, radius_m / (METRES_PER_DEGREE * math.cos(math.radians(widest))))
    return lat - d_lat, lng - d_lng, lat + d_lat, lng + d_lng


class FlatProjection:
    """Equirectangular metres around a reference latitude (the region's centre). East-west distances are off by
    about tan(latitude) × the latitude difference from the reference: under 1% within ±0.8° of it at 31°N (30 m on
    a 3 km radius), small beside the travel model's own detour factor. North-south distances are exact."""

    def __init__(self, reference_lat: float):
        self.x_scale = METRES_PER_DEGREE * math.cos(math.radians(reference_lat))
        self.y_scale = METRES_PER_DEGREE

    def xy(self, lat, lng):
        """Works on floats and on numpy arrays alike."""
        return lng * self.x_scale, lat * self.y_scale

    def latlng(self, x, y):
        return y / self.y_scale, x / self.x_scale
