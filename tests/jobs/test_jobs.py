"""Background jobs: the organisation roster export, from the detail action to the downloaded workbook."""

import io
import re
import zipfile
from xml.etree import ElementTree

import pytest

from gonghui.audit.models import AuditEvent
from gonghui.jobs.models import JobRun, JobStatus
from gonghui.orgs.services import org_update
from gonghui.orgs.tasks import org_roster_export_request

NS = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
T01_SUBTREE = ["SZ-GS-T01", "SZ-GS-T01-C1", "SZ-GS-T01-12", "SZ-GS-T01-123"]


def read_xlsx(content: bytes) -> dict[int, dict[str, str]]:
    """The first sheet of an .xlsx as {row number: {column letter: text}} (no spreadsheet library needed)."""
    book = zipfile.ZipFile(io.BytesIO(content))
    shared = []
    if "xl/sharedStrings.xml" in book.namelist():
        strings = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))  # noqa: S314 (our own export)
        for item in strings.findall("x:si", NS):
            shared.append("".join(t.text or "" for t in item.iter(f"{{{NS['x']}}}t")))
    sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))  # noqa: S314 (our own export)
    rows: dict[int, dict[str, str]] = {}
    for row in sheet.iter(f"{{{NS['x']}}}row"):
        cells = {}
        for cell in row.findall("x:c", NS):
            column = re.match(r"[A-Z]+", cell.get("r")).group()
            value = cell.find("x:v", NS)
            if value is None:
                continue
            cells[column] = shared[int(value.text)] if cell.get("t") == "s" else value.text
        rows[int(row.get("r"))] = cells
    return rows


def export_url(org) -> str:
    return f"/admin/orgs/organisation/{org.id}/export/"


@pytest.fixture
def exported(tree, system, login, django_capture_on_commit_callbacks):
    """The town cadre exports its street's roster through the back office; returns (client, job, response)."""
    org_update(actor=system, org=tree["SZ-GS-T01-12"], contact_phone="13812345678", contact_person="王红")
    client = login("town_cadre")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(export_url(tree["SZ-GS-T01"]))
    assert len(callbacks) == 1  # the job is queued once the request's transaction commits
    return client, JobRun.objects.get(), response


def test_export_runs_and_succeeds(exported, accounts, tree):
    client, job, response = exported

    assert response.status_code == 302
    assert response["Location"] == f"/admin/jobs/{job.id}/status/"
    assert job.kind == "org_roster_export"
    assert job.title == "导出组织名册：双塔街道总工会"
    assert job.status == JobStatus.SUCCEEDED
    assert job.total == 4
    assert job.done == 4
    assert job.result == {"rows": 4}
    assert job.phase == "已完成"
    assert job.error == ""
    assert job.requested_by_id == accounts["town_cadre"].id
    assert job.requested_by_label == "town_cadre"
    assert job.params == {"org_id": str(tree["SZ-GS-T01"].id)}
    assert re.fullmatch(r"组织名册_SZ-GS-T01_\d{12}\.xlsx", job.result_name)
    assert job.started_at is not None and job.finished_at is not None
    export = AuditEvent.objects.get(action="org.export")
    assert (export.actor_label, export.actor_org_path) == ("town_cadre", tree["SZ-GS-T01"].path)
    assert export.object_id == str(tree["SZ-GS-T01"].id)
    assert export.object_org_path == tree["SZ-GS-T01"].path
    assert export.details == {"rows": 4, "job": str(job.id)}


def test_exported_workbook_holds_exactly_the_subtree(exported, tree):
    _client, job, _response = exported
    with job.result_file.open("rb") as handle:
        rows = read_xlsx(handle.read())

    assert rows[1]["A"] == "双塔街道总工会组织名册"
    assert rows[2]["A"] == "填报单位：双塔街道总工会"
    assert rows[2]["H"].endswith("导出人：town_cadre")
    assert rows[3]["B"] == "组织名称" and rows[3]["C"] == "组织代码" and rows[3]["O"] == "联系电话"
    assert rows[3]["F"] == "上级组织" and rows[3]["G"] == "上级组织代码"
    data = [rows[n] for n in range(4, 4 + job.total)]
    assert [r["C"] for r in data] == T01_SUBTREE
    assert [r["A"] for r in data] == ["1", "2", "3", "4"]
    assert [r["B"] for r in data] == [tree[code].name for code in T01_SUBTREE]
    # The parent column names parents inside the exported subtree; the top row's parent lies outside it.
    assert [r.get("F") for r in data] == [None, "双塔街道总工会", "双塔街道总工会", "双塔街道总工会"]
    assert [r.get("G") for r in data] == [None, "SZ-GS-T01", "SZ-GS-T01", "SZ-GS-T01"]
    union = data[2]
    assert union["N"] == "王红"
    assert union["O"] == "138****5678"
    assert [r.get("O") for r in (data[0], data[1], data[3])] == [None, None, None]
    assert rows[4 + job.total + 1]["A"] == "合计：4 个组织"
    assert set(rows) == {1, 2, 3, 4, 5, 6, 7, 9}
    with job.result_file.open("rb") as handle:
        book = zipfile.ZipFile(io.BytesIO(handle.read()))
    assert not any(b"13812345678" in book.read(name) for name in book.namelist())


def test_status_page_and_download(exported):
    client, job, _response = exported
    events_before = AuditEvent.objects.filter(action="job.download").count()

    status = client.get(f"/admin/jobs/{job.id}/status/")
    assert status.status_code == 200
    page = status.content.decode()
    assert '<p><span class="gh-badge">已完成</span></p>' in page  # the phase says the same: shown once
    assert page.count("已完成") == 1
    assert "已处理 4 / 4（100%）" in page
    assert f"/admin/jobs/{job.id}/download/" in page

    download = client.get(f"/admin/jobs/{job.id}/download/")
    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    assert read_xlsx(body)[4]["C"] == "SZ-GS-T01"
    assert "attachment" in download["Content-Disposition"]
    assert events_before == 0
    event = AuditEvent.objects.get(action="job.download")
    assert (event.actor_label, event.object_type, event.object_id) == ("town_cadre", "job", str(job.id))
    assert event.object_label == "导出组织名册：双塔街道总工会"
    assert event.details == {"file": job.result_name}


@pytest.mark.parametrize("other", ["district_cadre", "city_cadre", "sysadmin", "grassroots_cadre"])
def test_other_accounts_cannot_see_or_download_the_job(exported, login, other):
    _client, job, _response = exported
    client = login(other)
    events_before = AuditEvent.objects.count()

    assert client.get(f"/admin/jobs/{job.id}/status/").status_code == 404
    assert client.get(f"/admin/jobs/{job.id}/download/").status_code == 404
    assert AuditEvent.objects.count() == events_before


def test_job_ids_that_are_not_ids_are_404(exported):
    client, _job, _response = exported
    assert client.get("/admin/jobs/not-a-uuid/status/").status_code == 404
    assert client.get("/admin/jobs/00000000-0000-0000-0000-000000000000/download/").status_code == 404


def test_export_outside_scope_is_404_and_queues_nothing(tree, login, django_capture_on_commit_callbacks):
    client = login("town_cadre")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(export_url(tree["SZ-GS-T02"]))

    assert response.status_code == 404
    assert JobRun.objects.count() == 0


def test_export_needs_the_export_permission(tree, login, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = login("sysadmin").post(export_url(tree["SZ-GS-T01"]))

    assert response.status_code == 403
    assert JobRun.objects.count() == 0


def test_grassroots_cadre_exports_its_own_union(tree, login, django_capture_on_commit_callbacks):
    client = login("grassroots_cadre")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(export_url(tree["SZ-GS-T01-12"]))

    job = JobRun.objects.get()
    assert (job.status, job.total) == (JobStatus.SUCCEEDED, 1)
    with job.result_file.open("rb") as handle:
        rows = read_xlsx(handle.read())
    assert rows[4]["C"] == "SZ-GS-T01-12"
    assert "C" not in rows.get(5, {})


def test_rerunning_a_succeeded_job_changes_nothing(exported):
    from gonghui.orgs.tasks import org_roster_export

    _client, job, _response = exported
    events = AuditEvent.objects.count()
    before = JobRun.objects.filter(id=job.id).values().get()

    org_roster_export.call(str(job.id))

    assert JobRun.objects.filter(id=job.id).values().get() == before
    assert AuditEvent.objects.count() == events


def test_the_job_acts_with_the_requesters_current_scope(actors, tree, django_capture_on_commit_callbacks, system):
    """The org the requester belongs to moved away: the job uses the fresh path, not a stale one."""
    from gonghui.orgs.services import org_move

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = org_roster_export_request(actor=actors["town_cadre"], org=tree["SZ-GS-T01"])
    org_move(actor=system, org=tree["SZ-GS-T01"], new_parent=tree["SZ-WZ"])
    for callback in callbacks:
        callback()

    job.refresh_from_db()
    assert (job.status, job.total) == (JobStatus.SUCCEEDED, 4)
