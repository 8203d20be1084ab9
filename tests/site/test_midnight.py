"""The product's day is Asia/Shanghai's, whatever the machine's clock says.

The machine's clock runs in UTC; Shanghai's midnight is 16:00 UTC. Each date-sensitive check is run with the clock
frozen one second before and one second after that midnight, with the process's own time zone set to UTC (as on a
server where nothing sets TZ), so any code that takes "today" from the process instead of from the product's time
zone gives yesterday's date and fails here. A scan of the sources keeps `date.today()` and naive `datetime.now()` out.
"""

import ast
import io
import os
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from gonghui.common.errors import ValidationFailed
from gonghui.common.workdays import add_working_days
from gonghui.members import services as members
from gonghui.orgs.models import Organisation
from gonghui.orgs.selectors import org_subtree_summary
from gonghui.orgs.services import org_create, org_update
from gonghui.stats.periods import month_end
from tests.members.factories import enrol, resident_id

ROOT = Path(__file__).resolve().parents[2]

# 2026-12-31 23:59:59 and 2027-01-01 00:00:01 in Asia/Shanghai: the last second of a year and the first of the next.
BEFORE = datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC)
AFTER = datetime(2026, 12, 31, 16, 0, 1, tzinfo=UTC)
SHANGHAI_DAY = {BEFORE: date(2026, 12, 31), AFTER: date(2027, 1, 1)}
INSTANTS = pytest.mark.parametrize("instant", [BEFORE, AFTER], ids=["23:59:59", "00:00:01"])


@pytest.fixture
def utc_process():
    """The process's local time zone is UTC for the test, as on a machine where nothing sets TZ."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()


@pytest.fixture
def frozen(utc_process):
    """Freeze the clock at an instant for the body of a test (`with frozen(instant):`)."""

    def freeze(instant: datetime):
        return time_machine.travel(instant, tick=False)

    return freeze


def town_fields(**overrides):
    fields = {"name": "午夜街道总工会", "code": "SZ-GS-T09", "org_type": "town", "region_code": "320508"}
    fields.update(overrides)
    return fields


@INSTANTS
def test_the_product_day_is_shanghai_s(frozen, instant):
    with frozen(instant):
        assert timezone.localdate() == SHANGHAI_DAY[instant]
        assert date.fromtimestamp(time.time()) == date(2026, 12, 31)  # the process's own (UTC) day, for contrast


@INSTANTS
def test_founded_today_is_accepted_and_tomorrow_refused(tree, actors, frozen, instant):
    today = SHANGHAI_DAY[instant]
    with frozen(instant):
        with pytest.raises(ValidationFailed) as exc:
            org_create(
                actor=actors["district_cadre"],
                parent=tree["SZ-GS"],
                **town_fields(founded_on=today + timedelta(days=1)),
            )
        assert exc.value.errors == {"founded_on": "成立日期不能晚于今天"}
        assert not Organisation.objects.filter(code="SZ-GS-T09").exists()
        org = org_create(actor=actors["district_cadre"], parent=tree["SZ-GS"], **town_fields(founded_on=today))
    assert org.founded_on == today


@INSTANTS
def test_a_term_ending_on_new_year_s_eve_is_overdue_only_after_midnight(tree, actors, frozen, instant):
    org_update(actor=actors["city_cadre"], org=tree["SZ-GS-T01"], term_ends_on=date(2026, 12, 31))
    with frozen(instant):
        summary = org_subtree_summary(actor=actors["district_cadre"], org=tree["SZ-GS"])
    if instant is BEFORE:
        assert (summary.term_due_within_90_days, summary.term_overdue) == (1, 0)
    else:
        assert (summary.term_due_within_90_days, summary.term_overdue) == (0, 1)


@INSTANTS
def test_an_enrolment_joins_on_the_shanghai_day(tree, system, frozen, instant):
    with frozen(instant):
        membership = enrol(system, tree["SZ-GS-T01-12"], name="午夜某")
    assert membership.joined_on == SHANGHAI_DAY[instant]
    assert membership.card_number[6:10] == str(SHANGHAI_DAY[instant].year)  # region code, then the year of issue


@INSTANTS
def test_a_transfer_is_due_in_working_days_from_the_shanghai_day(tree, system, frozen, instant):
    membership = enrol(system, tree["SZ-GS-T01-12"], name="接转某", number=resident_id(date(1991, 3, 3), 11))
    with frozen(instant):
        transfer = members.transfer_request(
            actor=system, membership=membership, to_org=tree["SZ-WZ-T01-E1"], reason="调动"
        )
    assert transfer.due_on == add_working_days(SHANGHAI_DAY[instant], members.TRANSFER_STEP_WORKING_DAYS)


@INSTANTS
def test_the_dashboard_s_default_period_is_the_shanghai_year(tree, frozen, instant):
    out = io.StringIO()
    call_command("create_api_token", "--name", "大屏", "--org", "SZ", stdout=out, stderr=io.StringIO())
    client = Client(headers={"Authorization": f"Bearer {out.getvalue().strip()}"})
    with frozen(instant):
        response = client.get(f"/api/v1/stats/orgs/{tree['SZ'].id}/dashboard")
    assert response.status_code == 200, response.content
    year = SHANGHAI_DAY[instant].year
    period = response.json()["period"]
    assert (period["kind"], period["start"], period["end"]) == ("year", f"{year}-01-01", f"{year}-12-31")
    assert period["reached"] == month_end(SHANGHAI_DAY[instant]).isoformat()  # figures are kept by month


# ---------------------------------------------------------------- no process-local "today" anywhere

FORBIDDEN = {
    ("date", "today"): "date.today() reads the process's time zone: use timezone.localdate()",
    ("datetime", "today"): "datetime.today() is naive: use timezone.now()",
    ("datetime", "utcnow"): "datetime.utcnow() is naive: use timezone.now()",
}


def _clock_calls(path: Path, root: Path = ROOT) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
        key = (name, node.func.attr)
        if key in FORBIDDEN:
            found.append(f"{path.relative_to(root)}:{node.lineno}: {FORBIDDEN[key]}")
        elif key == ("datetime", "now") and not node.args and not node.keywords:
            found.append(f"{path.relative_to(root)}:{node.lineno}: datetime.now() without tz is naive")
    return found


def test_no_process_local_today_in_the_sources():
    files = [p for folder in ("gonghui", "tests", "bench", "scripts") for p in (ROOT / folder).rglob("*.py")]
    assert len(files) > 100
    assert [line for path in sorted(files) for line in _clock_calls(path)] == []


def test_the_scan_finds_what_it_forbids(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import datetime as dt\nfrom datetime import date, datetime\n"
        "a = date.today()\nb = datetime.now()\nc = dt.datetime.utcnow()\nd = datetime.now(UTC)\n",
        encoding="utf-8",
    )
    assert [line.split(": ", 1)[0] for line in _clock_calls(sample, tmp_path)] == [
        "sample.py:3",
        "sample.py:4",
        "sample.py:5",
    ]
