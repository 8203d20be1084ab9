"""Lists in a real browser: a cadre filters the member list, exports it through 导出 Excel (the file holds the filtered
rows, masked), approves join applications in a batch from the list, and prints a registration form that fits on
one A4 page without the page's buttons."""

import io
import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect
from python_calamine import CalamineWorkbook

from gonghui.audit.models import AuditEvent
from gonghui.members.models import JoinApplication
from gonghui.members.services import join_application_submit
from tests.e2e.test_backoffice_browser import sign_in
from tests.members.factories import COMPLETE_PROFILE, enrol, resident_id

pytestmark = pytest.mark.browser


@pytest.fixture
def e2e_lists(transactional_db, live_server, tree, accounts, actors):
    town = actors["town_cadre"]
    members = [
        enrol(town, tree["SZ-GS-T01-12"], name="王小明", seq=11, phone="13800001234"),
        enrol(town, tree["SZ-GS-T01-12"], name="李华", seq=12, employment_form="courier"),
    ]
    applications = [
        join_application_submit(
            actor=town,
            org=tree["SZ-GS-T01-12"],
            doc_type="resident_id",
            doc_number=resident_id(date(1994, 1, 2), seq),
            name=name,
            **COMPLETE_PROFILE,
        )
        for seq, name in ((61, "申一"), (63, "申二"))
    ]
    return members, applications


def test_filtered_member_list_exports_what_it_shows(browser_page: Page, live_server, e2e_lists):
    page, base = browser_page, live_server.url
    sign_in(page, base, "town_cadre")
    page.wait_for_url(f"{base}/admin/")
    page.goto(f"{base}/admin/members/membership/?person__employment_form__exact=courier")
    page.get_by_role("link", name="导出 Excel").click()
    expect(page.locator("[data-field=conditions]")).to_have_text("就业形态：快递员")
    expect(page.locator("[data-field=rows]")).to_have_text("1 条")
    with page.expect_download() as download:
        page.get_by_role("button", name="确认导出").click()
    content = open(download.value.path(), "rb").read()  # noqa: SIM115 (a temporary file of the browser)
    rows = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()
    data = [row for row in rows[3:] if row and isinstance(row[0], float)]
    assert [row[1] for row in data] == ["李华"]
    assert "*" in data[0][5]
    assert AuditEvent.objects.filter(action="list.export").count() == 1


def test_batch_approval_from_the_list(browser_page: Page, live_server, e2e_lists):
    _members, applications = e2e_lists
    page, base = browser_page, live_server.url
    sign_in(page, base, "town_cadre")
    page.wait_for_url(f"{base}/admin/")
    page.goto(f"{base}/admin/members/joinapplication/")
    for checkbox in page.locator("input[name=_selected_action]").all():
        checkbox.check()
    page.locator("select[name=action]").select_option("approve_selected")
    page.locator("button[name=index]").click()
    expect(page.locator(".gh-card").first).to_contain_text("共选择 2 件，其中待审核 2 件")
    page.get_by_role("button", name="确认通过").click()
    expect(page.locator("[data-part=approved]")).to_contain_text("已通过 2 件")
    assert set(JoinApplication.objects.values_list("status", flat=True)) == {"approved"}


def test_registration_form_prints_on_one_a4_page_without_its_buttons(browser_page: Page, live_server, e2e_lists):
    members, _applications = e2e_lists
    page, base = browser_page, live_server.url
    sign_in(page, base, "town_cadre")
    page.wait_for_url(f"{base}/admin/")
    page.goto(f"{base}/admin/registry/members/{members[0].id}/")
    page.get_by_role("link", name="打印入会登记表").click()
    expect(page.get_by_role("button", name="打印")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="打印")).to_be_hidden()
    expect(page.get_by_test_id("registration-form")).to_contain_text("王小明")
    pdf = page.pdf(prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1  # one A4 sheet
