"""Every list in the back office exports what it shows: each registered admin list carries the shared list export
(the audit trail has an export of its own, for the audit administrator, with its own filters and cap)."""

from io import BytesIO

import pytest
from django.urls import get_resolver
from python_calamine import CalamineWorkbook

from gonghui.audit.models import AuditEvent
from gonghui.backoffice.exports import ListExportMixin
from gonghui.backoffice.site import backoffice_site

OWN_EXPORT = {AuditEvent: "审计日志：导出当前筛选结果（gonghui.audit.services.audit_trail_export）"}


def test_every_admin_list_has_the_list_export():
    assert get_resolver().url_patterns  # loads every admin module
    missing = sorted(
        model._meta.label
        for model, model_admin in backoffice_site._registry.items()
        if not isinstance(model_admin, ListExportMixin) and model not in OWN_EXPORT
    )
    assert missing == []


@pytest.mark.django_db
def test_the_job_list_exports_without_its_link_column(tree, actors, login):
    from gonghui.jobs.services import job_create

    job_create(
        actor=actors["town_cadre"], kind="members.export", title="导出会员名册", params={}, enqueue=lambda _id: None
    )
    client = login("town_cadre")
    assert client.get("/admin/jobs/jobrun/export/").status_code == 200
    response = client.post("/admin/jobs/jobrun/export/")
    assert response.status_code == 200
    rows = CalamineWorkbook.from_filelike(BytesIO(response.content)).get_sheet_by_index(0).to_python()
    assert rows[2] == ["序号", "任务", "状态", "进度", "创建时间", "结束时间"]
    assert rows[3][1:4] == ["导出会员名册", "排队中", "0/0（0%）"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/admin/casework/hardshipfile/export/",
        "/admin/casework/insuranceplan/export/",
        "/admin/casework/insuranceenrolment/export/",
        "/admin/casework/carecampaign/export/",
        "/admin/casework/studentgrant/export/",
    ],
)
def test_the_service_centre_lists_export(url, tree, login):
    client = login("district_cadre")
    assert client.get(url).status_code == 200
    response = client.post(url)
    assert response.status_code == 200
    rows = CalamineWorkbook.from_filelike(BytesIO(response.content)).get_sheet_by_index(0).to_python()
    assert rows[2][0] == "序号"
    # An empty subtree exports the headings and the count alone.
    assert [[cell for cell in row if cell != ""] for row in rows[3:]] == [[], ["合计：0 条"]]


@pytest.mark.django_db
def test_a_jobs_change_address_opens_its_own_page(tree, actors, login):
    from gonghui.jobs.services import job_create

    job = job_create(
        actor=actors["town_cadre"], kind="members.export", title="导出会员名册", params={}, enqueue=lambda _id: None
    )
    response = login("town_cadre").get(f"/admin/jobs/jobrun/{job.id}/change/")
    assert (response.status_code, response["Location"]) == (302, f"/admin/jobs/{job.id}/status/")
    assert login("other_district_cadre").get(response["Location"]).status_code == 404


@pytest.mark.django_db
def test_the_declared_totals_list_links_to_no_page_it_would_refuse(tree, actors, login):
    from gonghui.members.services import declared_total_record

    declared = declared_total_record(actor=actors["town_cadre"], org=tree["SZ-GS-T01-12"], total=61)
    page = login("town_cadre").get("/admin/members/declaredtotal/").content.decode()
    assert "十二号公司工会委员会" in page
    assert f"/admin/members/declaredtotal/{declared.pk}/change/" not in page
