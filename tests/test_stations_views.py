import io
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from gonghui.stations.services import station_create, station_status_set

NOW = datetime(2026, 5, 20, 4, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def test_dump(tree, actors, login):
    town = actors["town_cadre"]
    s1 = station_create(actor=town, org=tree["SZ-GS-T01"], kind="outdoor", name="双塔驿站", address="苏州市姑苏区双塔街道1号", lat="31.3027", lng="120.6", always_open=True, facilities=["water", "charging"])
    s3 = station_create(actor=actors["other_district_cadre"], org=tree["SZ-WZ-T01"], kind="outdoor", name="木渎驿站", address="木渎", lat="31.25", lng="120.6", hours={str(d): "18:00-22:00" for d in range(1, 8)}, holiday_rule="special", holiday_hours="10:00-16:00")
    c = login("district_cadre")
    for url in ["/admin/stations/station/", f"/admin/stations/station/{s3.id}/change/", "/admin/stations/station/00000000-0000-0000-0000-000000000000/change/", "/admin/stations/station/add/"]:
        r = c.get(url)
        open(f"/tmp/explore/{url.replace('/', '_')}.html", "wb").write(r.content)
        print(url, r.status_code)
    for u in ["sysadmin", "secadmin", "auditor"]:
        cl = login(u)
        for url in ["/admin/stations/station/", f"/admin/stations/station/{s1.id}/change/", "/admin/stations/station/add/", reverse("admin:station_import"), reverse("admin:demand_import"), reverse("admin:station_coverage")]:
            r = cl.get(url)
            print(u, url, r.status_code, r.content[:0])
        open(f"/tmp/explore/{u}.html", "wb").write(r.content)
        r = cl.get("/admin/")
        open(f"/tmp/explore/{u}_index.html", "wb").write(r.content)
