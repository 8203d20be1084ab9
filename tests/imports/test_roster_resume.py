"""Roster import: a worker killed mid-import and resumed leaves no gaps and no duplicates."""

import os
import signal
import subprocess
import sys
import time
from datetime import date
from urllib.parse import quote

import polars as pl
import pytest
from django.conf import settings
from django.db import connection

from gonghui.common.sheets import read_table
from gonghui.demo.people import WorkerFactory
from gonghui.demo.rosters import HEADINGS, roster_csv, roster_row
from gonghui.imports import roster as imports
from gonghui.imports.roster import prepare_rows
from gonghui.imports.roster.validate import ROSTER_COLUMNS
from gonghui.jobs.models import JobRun, JobStatus
from gonghui.members.models import Membership, Person, RosterImportRow
from tests.conftest import is_postgres
from tests.imports.roster_factories import (
    ELSEWHERE,
    HERE,
    NOT_ADDED,
    UNIT,
    assert_no_person_twice,
    command_json,
    registry_counts,
    wrong_check,
)
from tests.members.factories import enrol

# ---------------------------------------------------------------------------------------------------------------
# 5. Killed and resumed


KILL_ROWS = 2 * imports.CHUNK_ROWS + 10_000  # three chunks: no setting or variable lowers CHUNK_ROWS in a subprocess


def _big_roster(today: date, system, elsewhere) -> bytes:
    """KILL_ROWS data rows (header on line 1): mostly valid, with errors, duplicates across chunks, a member of
    another union and a blank line."""
    factory = WorkerFactory(51, today)
    people = [factory.worker(UNIT) for _ in range(KILL_ROWS - 30)]
    rows = [roster_row(i + 1, p) for i, p in enumerate(people)]
    for index in range(500, len(rows), 9_973):  # errors in every chunk
        rows[index][HEADINGS.index("证件号码")] = wrong_check(rows[index][HEADINGS.index("证件号码")])
    extra = [list(rows[i]) for i in (10, 20, 60_000, 99_999)]  # duplicates of rows in earlier chunks
    rows[60_001:60_001] = extra[:2]
    rows[104_000:104_000] = extra[2:]
    rows.insert(75_000, [])  # a blank line
    enrol(system, elsewhere, name=people[70_000].name, number=people[70_000].doc_number)
    return roster_csv(rows)


def _test_database_url() -> str:
    s = connection.settings_dict
    credentials = quote(s["USER"] or "") + (":" + quote(s["PASSWORD"]) if s["PASSWORD"] else "")
    host = s["HOST"] or "127.0.0.1"
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{s['NAME']}"


def _outcome_statuses(payload: dict) -> dict[int, str]:
    return {row["row"]: row["status"] for row in payload["rows"]}


@pytest.mark.skipif(
    not is_postgres(),
    reason="the killed worker is a separate process; SQLite's test database is in memory and cannot be shared",
)
@pytest.mark.long
@pytest.mark.django_db(transaction=True)
def test_killed_import_resumes_without_gaps_or_duplicates(tree, system, today, tmp_path):
    content = _big_roster(today, system, tree[ELSEWHERE])
    path = tmp_path / "big.csv"
    path.write_bytes(content)
    table = read_table(content, path.name, ROSTER_COLUMNS)
    prepared = prepare_rows(table, today=today)
    assert prepared.height > 2 * imports.CHUNK_ROWS

    # A clean run of the same file into a fresh union, for comparison; then the registry is emptied again.
    clean_org = tree["SZ-GS-T01-123"]
    clean = command_json(str(path), "--org", clean_org.code)
    clean_members = Membership.objects.filter(org=clean_org).count()
    assert clean_members == clean["summary"]["added"] > 2 * imports.CHUNK_ROWS - 100
    assert list(_outcome_statuses(clean).values()).count("conflict") == 1
    Membership.objects.filter(org=clean_org).delete()
    Person.objects.filter(memberships__isnull=True).delete()
    assert registry_counts() == (1, 1)  # the member of the other union

    # The same file into 十二号工会 by `manage.py import_roster` in another process, killed mid-way.
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "MEDIA_ROOT": str(settings.MEDIA_ROOT)}
    child = subprocess.Popen(
        [sys.executable, "manage.py", "import_roster", str(path), "--org", HERE, "--json"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 600
    job = None
    try:
        while time.monotonic() < deadline:
            job = JobRun.objects.filter(kind="roster_import").exclude(id=clean["job"]).first()
            if job is not None and 0 < job.done < job.total:
                break
            if child.poll() is not None:
                out, err = child.communicate()
                pytest.fail(f"the import finished before it could be killed: {out[-500:]!r} {err[-2000:]!r}")
            time.sleep(0.02)
        else:
            pytest.fail("no checkpoint within 10 minutes")
        child.send_signal(signal.SIGKILL)
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()
    assert child.returncode == -signal.SIGKILL

    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and 0 < job.done < job.total
    assert job.done % imports.CHUNK_ROWS == 0  # the checkpoint is at a chunk boundary
    # What was committed is exactly what the checkpoint says.
    assert Membership.objects.filter(org=tree[HERE]).count() == job.result["summary"]["added"]
    assert RosterImportRow.objects.filter(job=job).count() == sum(job.result["summary"][k] for k in NOT_ADDED)

    resumed = command_json("--resume", str(job.id))
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED

    assert resumed["summary"] == clean["summary"]
    assert _outcome_statuses(resumed) == _outcome_statuses(clean)
    memberships = Membership.objects.filter(org=tree[HERE])
    assert memberships.count() == clean_members
    assert memberships.values("person_id").distinct().count() == clean_members  # no duplicates
    assert Person.objects.count() == clean_members + 1
    problem_lines = set(_outcome_statuses(resumed))
    added_rows = prepared.filter(~pl.col("_line").is_in(list(problem_lines)))
    assert added_rows.height == clean_members
    assert set(added_rows.get_column("doc_index").to_list()) == set(
        memberships.values_list("person__doc_index", flat=True)
    )  # no gaps: every valid row's person holds a membership here

    # And a re-import changes nothing.
    counts = registry_counts()
    again = command_json(str(path), "--org", HERE)
    assert again["summary"]["added"] == 0 and again["summary"]["updated"] == 0
    assert registry_counts() == counts
    assert_no_person_twice()
