import io
from datetime import UTC, date, datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from gonghui.members import services as members
from gonghui.members.figures import failing_refresh
from gonghui.orgs.services import employer_create
from tests.conftest import valid_uscc
from tests.members_factories import enrol, resident_id

NOW = datetime(2026, 5, 20, 4, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)


@pytest.fixture
def data(tree, system):
    def person(org, name, birth, seq, joined, form="standard", hukou="non_agricultural", phone=None):
        return enrol(system, tree[org], name=name, number=resident_id(birth, seq), joined_on=joined,
                     employment_form=form, hukou_type=hukou, phone=phone)
    m = {}
    m["A"] = person("SZ-GS-T01-12", "周雪梅", date(1995, 3, 8), 2, date(2025, 3, 10), hukou="agricultural")
    m["B"] = person("SZ-GS-T01-12", "吴建国", date(2000, 7, 1), 1, date(2026, 2, 15), form="courier")
    m["C"] = person("SZ-GS-T01-12", "郑丽华", date(1988, 10, 10), 4, date(2026, 4, 2), form="food_delivery", hukou="agricultural")
    m["D"] = person("SZ-GS-T01-12", "王志强", date(1975, 1, 20), 3, date(2024, 6, 1))
    m["E"] = person("SZ-GS-T01-123", "冯海涛", date(1985, 6, 6), 5, date(2025, 11, 20))
    m["F"] = person("SZ-GS-T01-123", "陈静怡", date(1992, 2, 2), 6, date(2026, 1, 10))
    m["G"] = person("SZ-GS-T02-E1", "褚明辉", date(1998, 9, 9), 7, date(2026, 5, 6), form="ride_hailing", phone="13912345678")
    m["H"] = person("SZ-GS-T02-E1", "卫秀英", date(1965, 4, 4), 8, date(2025, 5, 1))
    m["K"] = person("SZ-GS-T02-E1", "蒋国庆", date(1970, 10, 1), 9, date(2023, 3, 1))
    m["I"] = person("SZ-WZ-T01-E1", "沈小龙", date(1990, 5, 17), 11, date(2026, 3, 1), phone="13912345678")
    m["J"] = person("SZ-WZ-T01-E1", "韩美玲", date(1980, 12, 12), 12, date(2025, 2, 1))
    members.membership_leave(actor=system, membership=m["F"], reason="离职", on=date(2026, 3, 5))
    members.membership_cancel(actor=system, membership=m["K"], reason="录入错误", on=date(2025, 8, 1))
    members.membership_reserve(actor=system, membership=m["E"], reason="长期病假")
    t = members.transfer_request(actor=system, membership=m["D"], to_org=tree["SZ-GS-T01-123"], reason="调动")
    members.transfer_release(actor=system, transfer=t)
    members.transfer_accept(actor=system, transfer=t)
    members.declared_total_record(actor=system, org=tree["SZ-GS-T01-12"], total=5)
    members.declared_total_record(actor=system, org=tree["SZ-GS-T01-123"], total=4)
    members.declared_total_record(actor=system, org=tree["SZ-GS-T02-E1"], total=2)
    emp = [
        ("SZ-GS-T01", 80, "SZ-GS-T01-12"), ("SZ-GS-T01", 150, None), ("SZ-GS-T01", 120, "SZ-GS-T01-123"),
        ("SZ-GS-T01", 10, None), ("SZ-GS-T02", 30, "SZ-GS-T02-E1"), ("SZ-GS-T02", 40, None),
        ("SZ-WZ-T01", 300, "SZ-WZ-T01-E1"),
    ]
    for i, (town, staff, union) in enumerate(emp, 1):
        employer_create(actor=system, name=f"单位{'一二三四五六七'[i-1]}有限公司", uscc=valid_uscc(f"91320508MA1W00{i:02d}A"),
                        employee_count=staff, industry="C", town_org=tree[town],
                        covering_union=tree[union] if union else None)
    failing_refresh()
    return m


def test_dump(data, login, tree):
    for who, q in [("district_cadre", {}), ("district_cadre", {"sort": "coverage"}), ("city_cadre", {"period": "quarter", "quarter": "1", "year": "2026"})]:
        r = login(who).get(reverse("admin:stats_dashboard"), q)
        print(r.status_code)
        print(r.content.decode())
    c = login("district_cadre")
    r = c.get(reverse("admin:stats_report", args=["members"]))
    print(r["Content-Disposition"])
    print(CalamineWorkbook.from_filelike(io.BytesIO(r.content)).get_sheet_by_index(0).to_python())
    r = c.get(reverse("admin:stats_report", args=["founding"]))
    print(CalamineWorkbook.from_filelike(io.BytesIO(r.content)).get_sheet_by_index(0).to_python())
    r = c.get(reverse("admin:stats_report", args=["annual_xlsx"]))
    for row in CalamineWorkbook.from_filelike(io.BytesIO(r.content)).get_sheet_by_index(0).to_python():
        print(row)
    r = c.get(f"/api/v1/stats/orgs/{tree['SZ-GS'].id}/dashboard?sort=coverage")
    print(r.json())
    r = c.get(f"/api/v1/stats/orgs/{tree['SZ-GS'].id}/annual")
    print(r.json())
    assert 0
