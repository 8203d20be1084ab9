"""Demo stations: service stations of every type around the district centres of the demo city, their hours
(24-hour, day-time, across midnight, closed on holidays), facilities and a few ratings; worker locations for
姑苏区 as demand points, and locations for that district's employers (`employer_location`, used when the demo
creates them), so the 15-minute circle has data."""

import random

from gonghui.common.actor import Actor
from gonghui.demo.federation import DISTRICTS
from gonghui.orgs.models import Organisation, OrgType
from gonghui.stations.models import Facility, StationKind
from gonghui.stations.services import StationFields, demand_points_replace, station_create

# Approximate centres of the demo city's districts (WGS84).
CENTRES = {
    "GS": (31.3050, 120.6190),
    "WZ": (31.2620, 120.6320),
    "XC": (31.3690, 120.6420),
    "WJ": (31.1390, 120.6450),
    "HQ": (31.2980, 120.5660),
    "KS": (31.3850, 120.9810),
    "TC": (31.4570, 121.1300),
    "CS": (31.6540, 120.7520),
    "ZJG": (31.8750, 120.5560),
}
DISTRICT_NAMES = {short: name for name, short, _, _ in DISTRICTS}
STATION_WORDS = {
    StationKind.OUTDOOR: "户外劳动者服务站",
    StationKind.WOMEN: "女职工康乃馨服务站",
    StationKind.MOTHERS: "妈妈驿站",
    StationKind.HOME: "职工之家",
    StationKind.BOOKS: "职工书屋",
    StationKind.DRIVERS: "司机之家",
    StationKind.COUNSELLING: "职工心理服务室",
}
OUTDOOR_FACILITIES = [Facility.WATER, Facility.MEALS, Facility.CHARGING, Facility.TOILET, Facility.REST]
WEEKDAY_DAYTIME = {str(d): "08:30-17:30" for d in range(1, 6)}
EVERY_DAY = {str(d): "07:00-21:00" for d in range(1, 8)}
NIGHT_SHIFT = {str(d): "18:00-08:00" for d in range(1, 8)}


def _spread(rng: random.Random, centre: tuple[float, float], km: float) -> tuple[float, float]:
    lat, lng = centre
    return round(lat + rng.uniform(-km, km) / 111.2, 6), round(lng + rng.uniform(-km, km) / 95.0, 6)


def seed_stations(*, actor: Actor, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    created = 0
    for short, centre in CENTRES.items():
        towns = list(
            Organisation.objects.filter(code__startswith=f"SZ-{short}-T", org_type=OrgType.TOWN).order_by("code")
        )
        if not towns:
            continue
        for index, kind in enumerate([StationKind.OUTDOOR] * 5 + list(STATION_WORDS)):
            town = towns[index % len(towns)]
            lat, lng = _spread(rng, centre, 6 if short in ("GS", "HQ") else 9)
            place = town.name.removeprefix(DISTRICT_NAMES[short]).removesuffix("总工会")
            fields: StationFields = {
                "kind": kind,
                "name": f"{place}{STATION_WORDS[kind]}{'' if kind != StationKind.OUTDOOR else index + 1}",
                "address": f"{town.name.removesuffix('总工会')}第{rng.randint(1, 300)}号",
                "lat": lat,
                "lng": lng,
                "phone": f"0512-6{rng.randint(1000000, 9999999)}",
                "description": "为快递员、外卖配送员、环卫工人等户外劳动者提供歇脚、饮水、热饭、充电服务。"
                if kind == StationKind.OUTDOOR
                else "",
            }
            if kind == StationKind.OUTDOOR and index % 2 == 0:
                fields.update(StationFields(always_open=True, facilities=OUTDOOR_FACILITIES))
            elif kind == StationKind.DRIVERS:
                fields.update(
                    StationFields(
                        hours=NIGHT_SHIFT,
                        holiday_rule="regular",
                        facilities=[Facility.WATER, Facility.REST, Facility.TOILET],
                    )
                )
            elif kind == StationKind.OUTDOOR:
                fields.update(
                    StationFields(
                        hours=EVERY_DAY,
                        holiday_rule="special",
                        holiday_hours="09:00-17:00",
                        facilities=OUTDOOR_FACILITIES[:3],
                    )
                )
            elif kind == StationKind.MOTHERS:
                fields.update(
                    StationFields(
                        hours=WEEKDAY_DAYTIME, holiday_rule="closed", facilities=[Facility.NURSING, Facility.REST]
                    )
                )
            else:
                fields.update(
                    StationFields(
                        hours=WEEKDAY_DAYTIME, holiday_rule="closed", facilities=[Facility.BOOKS, Facility.CLIMATE]
                    )
                )
            station_create(actor=actor, org=town, **fields)
            created += 1
    return {"stations": created, "demand_points": _demand_points(actor, rng)}


def _demand_points(actor: Actor, rng: random.Random) -> int:
    district = Organisation.objects.filter(code="SZ-GS").first()
    if district is None:
        return 0
    words = ("快递网点", "外卖站点", "环卫所", "建筑工地", "网约车停靠点", "物流园")
    rows = []
    for n in range(1, 201):
        lat, lng = _spread(rng, CENTRES["GS"], 8)
        rows.append({"name": f"{rng.choice(words)}{n:03d}", "lat": lat, "lng": lng, "workers": rng.randint(5, 120)})
    return demand_points_replace(actor=actor, org=district, rows=rows, filename="演示数据")


def employer_location(town_code: str, rng: random.Random) -> tuple[float | None, float | None]:
    """Demo employers of 姑苏区 get a location near the district centre (the others have none recorded)."""
    if not town_code.startswith("SZ-GS-"):
        return None, None
    return _spread(rng, CENTRES["GS"], 7)
