"""Fixtures of the stations tests."""

from datetime import date

import pytest
from django.utils import timezone

from gonghui.stations.models import Station
from gonghui.stations.services import demand_points_replace, station_create, station_status_set
from tests.members.factories import enrol, resident_id
from tests.stations.page_factories import C1, E12, E123, NOW, T01, WZT01, Layout, Worker


@pytest.fixture
def media(settings, tmp_path):
    """Photos go to a directory of this test's own, so the stored files can be compared before and after."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def clock(monkeypatch):
    """Every timezone.now() / localtime() of the code under test reads the fixed time."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)


@pytest.fixture
def layout(tree, actors) -> Layout:
    town, wz = actors["town_cadre"], actors["other_district_cadre"]
    shuangta = station_create(
        actor=town,
        org=tree[T01],
        kind="outdoor",
        name="双塔驿站",
        address="苏州市姑苏区双塔街道1号",
        lat="31.3027",
        lng="120.6",
        always_open=True,
        facilities=["water", "charging"],
        phone="0512-65001234",
        description="夏季供应绿豆汤",
    )
    zhuhui = station_create(
        actor=town,
        org=tree[C1],
        kind="mothers",
        name="竹辉妈妈驿站",
        address="竹辉路8号",
        lat="31.309",
        lng="120.6",
        hours={**{str(d): "08:00-20:00" for d in range(1, 6)}, "6": "09:00-17:00", "7": ""},
        holiday_rule="closed",
        facilities=["nursing", "water", "toilet"],
    )
    mudu = station_create(
        actor=wz,
        org=tree[WZT01],
        kind="outdoor",
        name="木渎驿站",
        address="木渎镇中山路",
        lat="31.25",
        lng="120.6",
        hours={str(d): "18:00-22:00" for d in range(1, 8)},
        holiday_rule="special",
        holiday_hours="10:00-16:00",
        facilities=["water", "meals"],
    )
    paused, closed = (
        station_create(
            actor=town,
            org=tree[code],
            kind="outdoor",
            name=name,
            address=address,
            lat=lat,
            lng="120.6",
            always_open=True,
        )
        for code, name, address, lat in (
            (E12, "十二号驿站", "人民路12号", "31.3005"),
            (E123, "一二三驿站", "人民路123号", "31.3001"),
        )
    )
    paused = station_status_set(actor=town, station=paused, status="paused", reason="装修")
    closed = station_status_set(actor=town, station=closed, status="closed", reason="场地收回")
    return Layout(
        shuangta=Station.objects.get(id=shuangta.id),
        zhuhui=Station.objects.get(id=zhuhui.id),
        mudu=Station.objects.get(id=mudu.id),
        paused=Station.objects.get(id=paused.id),
        closed=Station.objects.get(id=closed.id),
    )


@pytest.fixture
def demand(layout, tree, actors):
    """The demand points of the table above, through the service the demand import uses."""
    town, wz = actors["town_cadre"], actors["other_district_cadre"]
    demand_points_replace(
        actor=town,
        org=tree[T01],
        rows=[
            {"name": "双塔配送站", "lat": 31.3, "lng": 120.6, "workers": 40},
            {"name": "环卫所", "lat": 31.32, "lng": 120.6, "workers": 25},
            {"name": "工地", "lat": 31.321, "lng": 120.601, "workers": 15},
            {"name": "快递点", "lat": 31.35, "lng": 120.65, "workers": 10},
        ],
        filename="双塔.csv",
    )
    demand_points_replace(
        actor=town, org=tree[C1], rows=[{"name": "社区菜场", "lat": 31.31, "lng": 120.6, "workers": 20}], filename="c1"
    )
    demand_points_replace(
        actor=wz, org=tree[WZT01], rows=[{"name": "木渎工地", "lat": 31.26, "lng": 120.6, "workers": 99}], filename="wz"
    )
    return layout


@pytest.fixture
def member(tree, system) -> Worker:
    number = resident_id(date(1990, 5, 17), 101)
    membership = enrol(system, tree[E12], name="张三", number=number, phone="13812341234")
    return Worker(name="张三", number=number, phone="13812341234", membership=membership)
