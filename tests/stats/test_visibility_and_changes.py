"""Who may see the figures, and single changes (a transfer, an import into a declared union, a move)."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from gonghui.common.errors import NotFound, PermissionDenied, ValidationFailed
from gonghui.demo.rosters import HEADINGS
from gonghui.imports.roster import roster_import_request, roster_import_run
from gonghui.jobs.models import JobStatus
from gonghui.members import services as members
from gonghui.members.figures import failing_refresh
from gonghui.orgs.services import (
    org_move,
)
from gonghui.stats import selectors
from gonghui.stats.periods import Period, period_from
from gonghui.stats.selectors import (
    current_figures,
    dashboard,
    founding_table,
    headlines,
    member_table,
    rates_of,
)
from gonghui.stats.summary import annual_summary
from tests.members.factories import enrol, resident_id
from tests.stats.naive import TODAY

# ---------------------------------------------------------------- who may see the figures

pytestmark = pytest.mark.django_db


def _period() -> Period:
    return period_from({}, today=TODAY)


ACTOR_SELECTORS = {
    "dashboard": lambda actor, org: dashboard(actor=actor, org=org, period=_period(), today=TODAY),
    "member_table": lambda actor, org: member_table(actor=actor, org=org, period=_period(), today=TODAY),
    "founding_table": lambda actor, org: founding_table(actor=actor, org=org),
    "annual_summary": lambda actor, org: annual_summary(actor=actor, org=org, year=2025, today=TODAY),
    "service_figures": lambda actor, org: selectors.service_figures(
        actor=actor, org=org, start=date(2026, 1, 1), end=date(2026, 5, 31)
    ),
}


@pytest.mark.parametrize("name", ACTOR_SELECTORS)
def test_an_organisation_outside_the_subtree_is_not_found(tree, actors, name):
    read = ACTOR_SELECTORS[name]
    cadre = actors["other_district_cadre"]  # 吴中区
    for code in ("SZ-GS", "SZ-GS-T01-12", "SZ"):
        with pytest.raises(NotFound):
            read(cadre, tree[code])
    assert read(cadre, tree["SZ-WZ"]) is not None
    assert read(cadre, tree["SZ-WZ-T01-E1"]) is not None


@pytest.mark.parametrize("name", ACTOR_SELECTORS)
@pytest.mark.parametrize("username", ["auditor", "district_auditor", "sysadmin", "secadmin"])
def test_the_administrators_get_no_statistics(tree, actors, name, username):
    actor = actors[username]
    for code in ("SZ", "SZ-GS", "SZ-GS-T01-12"):
        with pytest.raises(PermissionDenied):
            ACTOR_SELECTORS[name](actor, tree[code])


@pytest.mark.parametrize("name", ACTOR_SELECTORS)
def test_a_grassroots_cadre_reads_their_own_union_and_nothing_else(tree, actors, name):
    read = ACTOR_SELECTORS[name]
    cadre = actors["grassroots_cadre"]  # union "12"
    assert read(cadre, tree["SZ-GS-T01-12"]) is not None
    for code in ("SZ-GS-T01-123", "SZ-GS-T01", "SZ-GS-T01-C1", "SZ"):  # "123" only shares a prefix of its code
        with pytest.raises(NotFound):
            read(cadre, tree[code])


# ---------------------------------------------------------------- single changes


def _roster(lines: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADINGS)
    writer.writerows(lines)
    return buffer.getvalue().encode("utf-8-sig")


def test_a_membership_that_came_by_transfer_does_not_end_before_it_came(tree, system, clock):
    today = date(2026, 3, 10)
    clock.set(today)
    union_12, union_e1 = tree["SZ-GS-T01-12"], tree["SZ-GS-T02-E1"]
    membership = enrol(
        system, union_12, name="李四", number=resident_id(date(1990, 5, 17), 13), joined_on=date(2025, 1, 6)
    )
    transfer = members.transfer_request(actor=system, membership=membership, to_org=union_e1, reason="工作调动")
    members.transfer_release(actor=system, transfer=transfer)
    arrived = members.transfer_accept(actor=system, transfer=transfer)
    with pytest.raises(ValidationFailed):
        members.membership_leave(actor=system, membership=arrived, reason="离职", on=date(2026, 2, 2))
    february = period_from({"period": "month", "year": "2026", "month": "2"}, today=today)
    figures = headlines([union_12.id, union_e1.id], february, today)
    assert (figures[union_12.id].members, figures[union_e1.id].members) == (1, 0)
    march = period_from({"period": "month", "year": "2026", "month": "3"}, today=today)
    figures = headlines([union_12.id, union_e1.id], march, today)
    assert (figures[union_12.id].transferred_out, figures[union_e1.id].transferred_in) == (1, 1)
    assert (figures[union_12.id].members, figures[union_e1.id].members) == (0, 1)


def test_members_imported_into_a_union_that_declared_count_for_coverage(tree, system, clock):
    clock.set(date(2026, 5, 20))
    union = tree["SZ-GS-T01-12"]
    enrol(system, union, name="张三", number=resident_id(date(1990, 5, 17), 11), joined_on=date(2025, 1, 6))
    members.declared_total_record(actor=system, org=union, total=10)
    lines = []
    for line, (name, seq) in enumerate((("王芳", 22), ("陈强", 33), ("刘洋", 45)), start=2):
        lines.append(
            [
                str(line),
                name,
                "男" if seq % 2 else "女",
                "居民身份证",
                resident_id(date(1992, 3, 8), seq),
                f"1390000{seq:04d}",
                "汉族",
                "大学本科",
                "群众",
                "非农业户口",
                "标准劳动关系",
                "十二号有限公司",
                "职员",
                "",
                "否",
                "2026-01-05",
            ]
        )
    job = roster_import_request(
        actor=system, org=union, filename="名册.csv", content=_roster(lines), mode="add", enqueue=lambda job_id: None
    )
    roster_import_run(str(job.id))
    job.refresh_from_db()
    assert (job.status, job.result["summary"]["added"]) == (JobStatus.SUCCEEDED, 3)
    rates = rates_of(current_figures([union.id])[union.id])
    assert (rates.registered_in_declared, rates.declared_total) == (4, 10)  # four members held, all in the registry
    assert rates.coverage == Decimal("40.0")


def test_accuracy_follows_a_union_that_moves(tree, system, clock):
    clock.set(date(2026, 5, 20))
    moving, staying, elsewhere = tree["SZ-GS-T01-12"], tree["SZ-GS-T01-123"], tree["SZ-GS-T02-E1"]
    for seq, name in ((11, "赵伟"), (13, "钱磊"), (15, "孙杰")):  # no mobile: each fails a check
        enrol(system, moving, name=name, number=resident_id(date(1988, 7, 1), seq), joined_on=date(2025, 3, 3))
    enrol(
        system,
        staying,
        name="李娜",
        number=resident_id(date(1991, 2, 2), 22),
        phone="13900001111",
        joined_on=date(2025, 3, 3),
    )
    enrol(
        system,
        elsewhere,
        name="周敏",
        number=resident_id(date(1993, 4, 4), 24),
        phone="13900002222",
        joined_on=date(2025, 3, 3),
    )
    failing_refresh()
    town_1, town_2 = tree["SZ-GS-T01"], tree["SZ-GS-T02"]
    before = current_figures([town_1.id, town_2.id])
    assert (rates_of(before[town_1.id]).accuracy, rates_of(before[town_2.id]).accuracy) == (
        Decimal("25.0"),
        Decimal("100.0"),
    )
    org_move(actor=system, org=moving, new_parent=town_2)
    after = current_figures([town_1.id, town_2.id])
    # Town 1 keeps only the one passing record; town 2 now holds one passing and three failing ones.
    assert (rates_of(after[town_1.id]).accuracy, rates_of(after[town_2.id]).accuracy) == (
        Decimal("100.0"),
        Decimal("25.0"),
    )
