"""Walking directions to a station in the map a worker already has: the web route pages of 高德, 腾讯 and 百度.

A `geo:` link is ignored by iPhones and inside WeChat, where most workers open the portal; these are plain web
links (<a href>, never loaded by our page), and each provider's page offers its own app when it is installed. The
parameters are the ones each provider documents for its web URI API:

* 高德 https://uri.amap.com/navigation — to=lon,lat,name; mode=walk; coordinate=gaode (GCJ-02); callnative=1 (open
  the app when installed); src (the caller); from=lon,lat,name optional (left out, the phone's position is used).
* 腾讯 https://apis.map.qq.com/uri/v1/routeplan — type=walk; to (name) and tocoord=lat,lng in 腾讯's own coordinates
  (GCJ-02, coord_type's default); fromcoord optional on a phone (left out, its position is used); referer required.
* 百度 https://api.map.baidu.com/direction — destination=latlng:lat,lng|name:…; mode=walking; coord_type=gcj02;
  output=html (required for the web page); src; origin in the same form (the documented web form asks for one:
  given when the asking point is known, otherwise 百度 starts from the phone's position).

Stored points are WGS84; all three get GCJ-02 (`common.geo.wgs84_to_gcj02`, 6 decimals ≈ 0.1 m), so the route
ends at the station and not a few hundred metres off. Names are URL-encoded; the separators of these formats
(, | : ;) inside a name are replaced by their full-width forms so that a name cannot break the format.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings

from gonghui.common.geo import wgs84_to_gcj02

SEPARATORS = str.maketrans({",": "，", "|": "｜", ":": "：", ";": "；"})


@dataclass(frozen=True)
class NavLink:
    provider: str  # 高德地图, 腾讯地图, 百度地图
    href: str


def _source() -> str:
    return getattr(settings, "STATIONS_NAV_SOURCE", "gonghui")


def _gcj(lat: float, lng: float) -> tuple[str, str]:
    g_lat, g_lng = wgs84_to_gcj02(lat, lng)
    return f"{g_lat:.6f}", f"{g_lng:.6f}"


def _url(base: str, params: list[tuple[str, str]]) -> str:
    return f"{base}?{urlencode(params, safe=',:|')}"


def walking_links(*, name: str, lat: float, lng: float, origin: tuple[float, float] | None = None) -> list[NavLink]:
    """Links to walking directions to (lat, lng) (WGS84) named `name`, from `origin` (WGS84) when it is known."""
    label = name.translate(SEPARATORS)
    to_lat, to_lng = _gcj(lat, lng)
    source = _source()

    amap = [("to", f"{to_lng},{to_lat},{label}"), ("mode", "walk"), ("coordinate", "gaode")]
    qq = [("type", "walk"), ("to", label), ("tocoord", f"{to_lat},{to_lng}")]
    baidu = [("destination", f"latlng:{to_lat},{to_lng}|name:{label}"), ("mode", "walking")]
    if origin is not None:
        from_lat, from_lng = _gcj(*origin)
        amap.insert(0, ("from", f"{from_lng},{from_lat},出发点"))
        qq[1:1] = [("from", "出发点"), ("fromcoord", f"{from_lat},{from_lng}")]
        baidu.insert(0, ("origin", f"latlng:{from_lat},{from_lng}|name:出发点"))
    amap += [("callnative", "1"), ("src", source)]
    qq += [("referer", source)]
    baidu += [("coord_type", "gcj02"), ("output", "html"), ("src", f"webapp.{source}.stations")]
    return [
        NavLink("高德地图", _url("https://uri.amap.com/navigation", amap)),
        NavLink("腾讯地图", _url("https://apis.map.qq.com/uri/v1/routeplan", qq)),
        NavLink("百度地图", _url("https://api.map.baidu.com/direction", baidu)),
    ]
