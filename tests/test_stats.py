from datetime import date
import pytest
from gonghui.members import services as members
from gonghui.members.figures import rebuild_counts
from gonghui.orgs.models import OrgFigures, OrgMonthFigures
from gonghui.demo.people import WorkerFactory
from gonghui.demo.rosters import roster_csv, roster_row
from tests.members_factories import enrol, resident_id
from tests.test_roster_import import run_import
from tests.test_figures import figures_snapshot

pytestmark = pytest.mark.django_db

def test_import_declared(tree, system):
    org = tree["SZ-GS-T01-12"]
    enrol(system, org, name="张三", seq=11, joined_on=date(2025, 1, 1))
    members.declared_total_record(actor=system, org=org, total=10)
    f = WorkerFactory(3, date(2026, 11, 21))
    rows = [roster_row(i + 1, f.worker("十二号有限公司")) for i in range(3)]
    run_import(system, org, "a.csv", roster_csv(rows), "add")
    row = OrgFigures.objects.get(org=org)
    print("members", row.members, "registered", row.registered_in_declared)
    kept = figures_snapshot()
    rebuild_counts()
    print(OrgFigures.objects.get(org=org).registered_in_declared)
    assert figures_snapshot() == kept

def test_leave_before_transfer(tree, system):
    a, b = tree["SZ-GS-T01-12"], tree["SZ-GS-T02-E1"]
    m = enrol(system, a, name="李四", seq=13, joined_on=date(2025, 1, 1))
    t = members.transfer_request(actor=system, membership=m, to_org=b, reason="调动")
    members.transfer_release(actor=system, transfer=t)
    new = members.transfer_accept(actor=system, transfer=t)
    members.membership_leave(actor=system, membership=new, reason="离职", on=date(2026, 3, 1))
    for r in OrgMonthFigures.objects.filter(org=b).values("month", "net_members"):
        print(r)
