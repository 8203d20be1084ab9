"""The member registry in a real browser: a grassroots cadre enrols a worker through the form (a bad number is
refused with its Chinese reason and nothing is saved), sees only masked numbers, reveals the mobile with a stated
reason, opens the e-member card with its QR code, then a join application is approved and a transfer crosses
to another district where that district's cadre accepts it."""

import pytest
from playwright.sync_api import Page, expect
from stdnum.cn import ric

from gonghui.audit.models import AuditEvent
from gonghui.members.models import Membership, Person, TransferRequest
from gonghui.members.services import join_application_submit
from tests.e2e.test_backoffice_browser import sign_in

pytestmark = pytest.mark.browser


def resident_id(seq: str, birth: str = "19910520") -> str:
    body = "320506" + birth + seq
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture
def e2e_accounts(transactional_db, live_server, tree, accounts):
    return tree, accounts


def test_cadre_enrols_reveals_and_opens_the_card(browser_page: Page, live_server, e2e_accounts):
    page = browser_page
    base = live_server.url
    number = resident_id("235")
    sign_in(page, base, "grassroots_cadre")
    page.wait_for_url(f"{base}/admin/")

    page.goto(f"{base}/admin/registry/enrol/")
    page.get_by_label("基层工会代码").fill("SZ-GS-T01-12")
    page.get_by_label("证件号码").fill("3.20506E+17")
    page.get_by_label("姓名").fill("吴晓燕")
    page.get_by_label("手机号码").fill("13912345678")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".gh-error")).to_contain_text("身份证号被 Excel 转成了科学计数法")
    assert Person.objects.count() == 0

    page.get_by_label("证件号码").fill(number.lower().replace("0", "０", 1))  # full-width digit, lowercase x
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".messagelist, .gh-stack").first).to_contain_text("吴晓燕")
    membership = Membership.objects.get()
    assert page.url == f"{base}/admin/registry/members/{membership.id}/"
    body = page.content()
    assert number not in body and "13912345678" not in body
    expect(page.locator("[data-field=doc_number]")).to_have_text(number[:4] + "*" * 10 + number[-4:])
    expect(page.locator("[data-field=phone]")).to_have_text("139****5678")

    page.get_by_text("查看完整号码").click()
    page.get_by_label("号码").select_option("phone")
    page.get_by_label("查看原因（必填，记入审计日志）").fill("核对联系方式")
    page.get_by_role("button", name="查看", exact=True).click()
    expect(page.locator("[data-field=phone]")).to_have_text("13912345678")
    reveal = AuditEvent.objects.get(action="person.reveal")
    assert reveal.details == {"field": "phone", "reason": "核对联系方式"}

    page.get_by_role("link", name="电子会员卡").click()
    expect(page.locator(".gh-member-card")).to_contain_text(membership.card_number)
    expect(page.locator(".gh-qr svg")).to_be_visible()
    assert number not in page.content()


def test_application_approved_and_transfer_accepted_across_districts(
    browser_page: Page, live_server, e2e_accounts, actors
):
    tree, _ = e2e_accounts
    page = browser_page
    base = live_server.url
    application = join_application_submit(
        actor=actors["grassroots_cadre"],
        org=tree["SZ-GS-T01-12"],
        doc_type="resident_id",
        doc_number=resident_id("311"),
        name="郑海",
        phone="13800001111",
    )

    sign_in(page, base, "grassroots_cadre")
    page.wait_for_url(f"{base}/admin/")
    page.goto(f"{base}/admin/registry/applications/{application.id}/")
    page.get_by_role("button", name="通过").click()
    expect(page.locator("body")).to_contain_text("已通过，会员卡号")
    membership = Membership.objects.get(person__name="郑海")

    page.goto(f"{base}/admin/registry/members/{membership.id}/")
    page.get_by_text("发起会员接转").click()
    page.get_by_label("查找转入工会（全市范围）").fill("木渎光电")
    page.get_by_label("木渎光电有限公司工会委员会").check()
    page.get_by_label("接转原因").fill("工作调动")
    page.get_by_role("button", name="发起接转").click()
    expect(page.locator("body")).to_contain_text("已发起接转")
    transfer = TransferRequest.objects.get()
    page.goto(f"{base}/admin/registry/transfers/{transfer.id}/")
    page.get_by_role("button", name="同意转出").click()
    expect(page.locator(".gh-badge")).to_have_text("待接收")

    page.context.clear_cookies()
    sign_in(page, base, "other_district_cadre")
    page.wait_for_url(f"{base}/admin/")
    expect(page.locator(".gh-stat").filter(has_text="待办会员接转").locator(".gh-stat-value")).to_have_text("1")
    page.goto(f"{base}/admin/registry/transfers/{transfer.id}/")
    page.get_by_role("button", name="接收入会").click()
    expect(page.locator(".gh-badge")).to_have_text("已完成")
    transfer.refresh_from_db()
    assert transfer.status == "completed"
    assert transfer.new_membership.org.code == "SZ-WZ-T01-E1"
    assert transfer.new_membership.joined_on == membership.joined_on
