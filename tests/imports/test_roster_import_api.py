"""The roster import API: who may upload, into which union, and who may read a job's outcome."""

import pytest
from django.test import Client
from django.utils import timezone

from gonghui.accounts.services import api_token_create
from gonghui.demo.people import WorkerFactory
from gonghui.demo.rosters import roster_csv, roster_row
from gonghui.jobs.models import JobRun
from gonghui.members.models import Membership, Person


def _token_client(system, org, *, allow: bool) -> Client:
    _token, raw = api_token_create(actor=system, org=org, name=f"人事系统{org.code}", allow_roster_import=allow)
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _roster(count: int = 3) -> bytes:
    factory = WorkerFactory(11, timezone.localdate())
    return roster_csv([roster_row(i + 1, factory.worker("测试公司")) for i in range(count)])


def _upload(client: Client, org_code: str, content: bytes, mode: str = "add"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        "/api/v1/members/imports",
        {"file": SimpleUploadedFile("名册.csv", content, content_type="text/csv"), "org_code": org_code, "mode": mode},
    )


@pytest.mark.django_db
def test_a_token_allowed_to_import_adds_members_and_reads_its_job(tree, system, django_capture_on_commit_callbacks):
    client = _token_client(system, tree["SZ-GS-T01"], allow=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, "SZ-GS-T01-12", _roster(3))

    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    body = client.get(f"/api/v1/members/imports/{response.json()['id']}").json()
    assert body["status"] == "succeeded"
    assert body["summary"] == {
        "rows": 3, "added": 3, "updated": 0, "unchanged": 0, "conflict": 0, "duplicate": 0, "error": 0
    }  # fmt: skip
    assert body["rows"] == []
    assert Membership.objects.filter(org=tree["SZ-GS-T01-12"]).count() == 3


@pytest.mark.django_db
def test_a_read_only_token_is_refused_and_nothing_is_written(tree, system):
    client = _token_client(system, tree["SZ-GS-T01"], allow=False)

    response = _upload(client, "SZ-GS-T01-12", _roster(3))

    assert response.status_code == 403
    assert JobRun.objects.count() == 0
    assert Person.objects.count() == 0


@pytest.mark.django_db
def test_a_union_outside_the_token_scope_looks_missing(tree, system):
    client = _token_client(system, tree["SZ-GS-T01"], allow=True)

    response = _upload(client, "SZ-WZ-T01-E1", _roster(3))

    assert response.status_code == 404
    assert JobRun.objects.count() == 0
    assert Person.objects.count() == 0


@pytest.mark.django_db
def test_another_callers_job_looks_missing(tree, system):
    first = _token_client(system, tree["SZ-GS-T01"], allow=True)
    second = _token_client(system, tree["SZ-GS-T01"], allow=True)
    job_id = _upload(first, "SZ-GS-T01-12", _roster(2)).json()["id"]

    assert second.get(f"/api/v1/members/imports/{job_id}").status_code == 404
    assert first.get(f"/api/v1/members/imports/{job_id}").status_code == 200


@pytest.mark.django_db
def test_an_unreadable_file_is_a_422_with_the_reason(tree, system):
    client = _token_client(system, tree["SZ-GS-T01"], allow=True)

    response = _upload(client, "SZ-GS-T01-12", "甲,乙\n1,2\n".encode())

    assert response.status_code == 422
    assert "没有找到表头" in response.json()["message"]
    assert JobRun.objects.count() == 0


@pytest.mark.django_db
def test_dry_run_through_the_api_writes_nothing(tree, system, django_capture_on_commit_callbacks):
    client = _token_client(system, tree["SZ-GS-T01"], allow=True)

    with django_capture_on_commit_callbacks(execute=True):
        job_id = _upload(client, "SZ-GS-T01-12", _roster(4), mode="dry-run").json()["id"]
    body = client.get(f"/api/v1/members/imports/{job_id}").json()

    assert body["summary"]["added"] == 4
    assert Person.objects.count() == 0
    assert Membership.objects.count() == 0


@pytest.mark.django_db
def test_an_unmasked_csv_export_reads_back_unchanged(tree, system, accounts, django_capture_on_commit_callbacks):
    """Round trip: the standard roster layout with full numbers imports into the same union as all unchanged."""
    from gonghui.accounts.actors import actor_for_user
    from gonghui.audit.models import AuditEvent
    from gonghui.imports.roster import roster_import_request, roster_import_run
    from gonghui.members.tasks import member_roster_export_request

    union = tree["SZ-GS-T01-12"]
    with django_capture_on_commit_callbacks(execute=True):
        first = roster_import_request(
            actor=system, org=union, filename="名册.csv", content=_roster(5), mode="add", enqueue=lambda _id: None
        )
    roster_import_run(str(first.id))
    cadre = actor_for_user(accounts["town_cadre"])
    with django_capture_on_commit_callbacks(execute=True):
        export = member_roster_export_request(actor=cadre, org=union, fmt="csv", unmask_reason="核对名册")
    export.refresh_from_db()
    content = export.result_file.open("rb").read()
    assert export.result_name.endswith(".csv")
    event = AuditEvent.objects.get(action="member.export")
    assert event.details["masked"] is False and event.details["reason"] == "核对名册"

    again = roster_import_request(
        actor=system, org=union, filename="导出.csv", content=content, mode="upsert", enqueue=lambda _id: None
    )
    roster_import_run(str(again.id))
    again.refresh_from_db()
    assert again.result["summary"] == {
        "rows": 5, "added": 0, "updated": 0, "unchanged": 5, "conflict": 0, "duplicate": 0, "error": 0
    }  # fmt: skip
    assert again.result["unknown_columns"] == []


@pytest.mark.django_db
def test_a_masked_export_stays_masked_and_unmasking_needs_the_permission(
    tree, system, accounts, django_capture_on_commit_callbacks
):
    from gonghui.accounts.actors import actor_for_user
    from gonghui.audit.models import AuditEvent
    from gonghui.common.errors import PermissionDenied
    from gonghui.imports.roster import roster_import_request, roster_import_run
    from gonghui.members.tasks import member_roster_export_request

    union = tree["SZ-GS-T01-12"]
    job = roster_import_request(
        actor=system, org=union, filename="名册.csv", content=_roster(3), mode="add", enqueue=lambda _id: None
    )
    roster_import_run(str(job.id))
    with pytest.raises(PermissionDenied):
        member_roster_export_request(
            actor=actor_for_user(accounts["sysadmin"]), org=tree["SZ"], fmt="csv", unmask_reason="看看"
        )
    assert JobRun.objects.filter(kind="member_roster_export").count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        export = member_roster_export_request(actor=actor_for_user(accounts["grassroots_cadre"]), org=union, fmt="csv")
    export.refresh_from_db()
    lines = export.result_file.open("rb").read().decode("utf-8-sig").splitlines()
    assert len(lines) == 4
    assert all("**********" in line for line in lines[1:])
    assert AuditEvent.objects.get(action="member.export").details["masked"] is True


# ---------------------------------------------------------------- back-office pages


@pytest.mark.django_db
def test_the_back_office_upload_runs_the_import_and_shows_the_outcome(
    tree, accounts, login, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    cadre = login("grassroots_cadre")
    content = _roster(3) + "4,,男,居民身份证,3.20506E+17\r\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = cadre.post(
            reverse("admin:roster_import"),
            {"org_code": "SZ-GS-T01-12", "mode": "add", "file": SimpleUploadedFile("名册.csv", content)},
        )
    job = JobRun.objects.get(kind="roster_import")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:roster_import_detail", args=[job.id])

    page = cadre.get(response["Location"])
    text = page.content.decode()
    assert page.status_code == 200
    assert "共4行：新增3行" in text
    assert "姓名不能为空" in text
    assert Membership.objects.filter(org=tree["SZ-GS-T01-12"]).count() == 3
    report = cadre.get(reverse("admin:job_download", args=[job.id]))
    assert report.status_code == 200

    outsider = login("other_district_cadre")
    assert outsider.get(reverse("admin:roster_import_detail", args=[job.id])).status_code == 404
    assert outsider.post(reverse("admin:roster_import_cancel", args=[job.id])).status_code == 404


@pytest.mark.django_db
def test_the_back_office_refuses_a_union_outside_the_scope_and_writes_nothing(tree, login):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    response = login("grassroots_cadre").post(
        reverse("admin:roster_import"),
        {"org_code": "SZ-WZ-T01-E1", "mode": "add", "file": SimpleUploadedFile("名册.csv", _roster(2))},
    )

    assert response.status_code == 200
    assert "没有找到工会代码为“SZ-WZ-T01-E1”的组织" in response.content.decode()
    assert JobRun.objects.count() == 0
    assert Person.objects.count() == 0


@pytest.mark.django_db
def test_the_template_downloads_and_reads_back_as_an_empty_roster(tree, login):
    from django.urls import reverse

    from gonghui.common.sheets import read_table
    from gonghui.imports.roster.validate import ROSTER_COLUMNS

    response = login("grassroots_cadre").get(reverse("admin:roster_import_template"))
    table = read_table(response.content, "模板.xlsx", ROSTER_COLUMNS)

    assert response.status_code == 200
    assert table.rows == 0
    assert table.unknown == []
    assert set(table.mapped) == set(ROSTER_COLUMNS.synonyms)
    assert login("auditor").get(reverse("admin:roster_import_template")).status_code == 403


@pytest.mark.django_db
def test_one_click_transfers_for_members_of_other_unions(tree, system, accounts, login):
    from django.urls import reverse

    from gonghui.imports.roster import roster_import_request, roster_import_run
    from gonghui.members.models import TransferRequest

    content = _roster(2)
    elsewhere = roster_import_request(
        actor=system, org=tree["SZ-WZ-T01-E1"], filename="a.csv", content=content, mode="add", enqueue=lambda _i: None
    )
    roster_import_run(str(elsewhere.id))
    from gonghui.accounts.actors import actor_for_user

    cadre_actor = actor_for_user(accounts["grassroots_cadre"])
    here = roster_import_request(
        actor=cadre_actor, org=tree["SZ-GS-T01-12"], filename="b.csv", content=content, mode="add",
        enqueue=lambda _i: None,
    )  # fmt: skip
    roster_import_run(str(here.id))
    here.refresh_from_db()
    assert here.result["summary"]["conflict"] == 2

    response = login("grassroots_cadre").post(reverse("admin:roster_import_transfers", args=[here.id]))

    assert response.status_code == 302
    transfers = TransferRequest.objects.filter(to_org=tree["SZ-GS-T01-12"], from_org=tree["SZ-WZ-T01-E1"])
    assert transfers.count() == 2
    login("grassroots_cadre").post(reverse("admin:roster_import_transfers", args=[here.id]))
    assert transfers.count() == 2  # a second click opens nothing new
