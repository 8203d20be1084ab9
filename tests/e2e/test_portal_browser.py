"""The member portal (H5) in a real browser on a phone (360x740, touch, zh-CN): a worker opens a union's join link,
signs in with the SMS code, fills the join form (a wrong ID number is caught as the field is left, before anything
is sent), and follows the application until a cadre approves it in the back office; the e-member card then shows
the card number, the member's own full name and a QR code whose token, read back from the screen, the card API accepts.
A member binds their record and moves to a union in another district (search by name over htmx, both cadres act in
the back office) and ends with the new card. The card's QR code refreshes, and 我的资料 reveals the own number in
place. Going back through union searches restores the whole page, even when htmx has to fetch it again. Every
portal page must fit the phone's width (no sideways scrolling).

The cadres work in a second, desktop-sized context of the same browser. Screenshots: var/test-output/e2e/portal-*.png.
"""

import json
import re
import time
import urllib.request
from datetime import date
from pathlib import Path

import pytest
import zxingcpp
from django.conf import settings as django_settings
from django.urls import reverse
from PIL import Image
from playwright.sync_api import Page, expect

from gonghui.accounts.actors import actor_for_user
from gonghui.accounts.services import api_token_create
from gonghui.casework.services import Consent, case_accept, case_close, case_start, member_case_apply
from gonghui.common.sms import MemorySmsSender
from gonghui.members.models import (
    ApplicationStatus,
    JoinApplication,
    MemberAccount,
    Membership,
    TransferRequest,
    TransferStatus,
)
from scripts.browser import VIEWPORT
from tests.e2e.conftest import LOCALE
from tests.e2e.test_backoffice_browser import sign_in
from tests.members.factories import enrol, resident_id

pytestmark = pytest.mark.browser

HERE = "SZ-GS-T01-12"  # 十二号公司工会委员会, the grassroots cadre's union
THERE = "SZ-WZ-T01-E1"  # 木渎光电有限公司工会委员会, in 吴中区 (other_district_cadre)
THERE_NAME = "木渎光电有限公司工会委员会"
PHONE = "13912345678"
NEW_WORKER_ID = resident_id(date(1995, 3, 8), 21)
MEMBER_ID = resident_id(date(1990, 5, 17), 7)  # what enrol(..., seq=7) registers
WRONG_CHECK_DIGIT_MESSAGE = "居民身份证号码校验位不正确，请核对是否有输错的数字"
SCREENSHOTS = Path(django_settings.BASE_DIR) / "var" / "test-output" / "e2e"


@pytest.fixture
def e2e_accounts(transactional_db, live_server, tree, accounts):
    """The shared fixtures, created in a transactional database the live server's thread can see."""
    return tree, accounts


@pytest.fixture
def office_page(phone_page: Page):
    """A cadre's desktop page (1280x900) in its own context of the phone's browser: separate cookies."""
    context = phone_page.context.browser.new_context(viewport=VIEWPORT, locale=LOCALE)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


# ---------------------------------------------------------------- helpers


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"portal-{name}.png"), full_page=True)


def assert_fits_phone(page: Page) -> None:
    """Nothing wider than the screen: the page never scrolls sideways."""
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), page.url


def last_code(phone: str) -> str:
    sent = [text for to, text in MemorySmsSender.outbox if to == phone]
    assert sent, f"no code was sent to {phone}"
    return re.search(r"\d{6}", sent[-1]).group(0)


def request_code(page: Page, phone: str) -> None:
    """On the login page: type the phone and ask for the code; the page then offers the code field."""
    expect(page.locator("h1")).to_have_text("手机号登录")
    page.get_by_label("手机号码").fill(phone)
    page.get_by_role("button", name="获取验证码", exact=True).tap()
    expect(page.get_by_role("status")).to_have_text(f"验证码已发送至 {phone[:3]}****{phone[-4:]}，5分钟内有效。")
    expect(page.get_by_label("短信验证码")).to_be_visible()


def enter_code(page: Page, code: str) -> None:
    page.get_by_label("短信验证码").fill(code)
    page.get_by_role("button", name="登录", exact=True).tap()


def member_sign_in_and_bind(page: Page, base: str, *, name: str, number: str) -> None:
    """A registered member's first visit: code sign-in, then 核验身份, landing on the portal's home page."""
    page.goto(f"{base}{reverse('portal:login')}")
    request_code(page, PHONE)
    enter_code(page, last_code(PHONE))
    page.wait_for_url(re.compile(re.escape(f"{base}{reverse('portal:bind')}")))
    expect(page.locator("h1")).to_have_text("核验身份")
    assert_fits_phone(page)
    page.get_by_label("姓名").fill(name)
    page.get_by_label("证件号码").fill(number)
    page.get_by_role("button", name="核验并绑定").tap()
    page.wait_for_url(f"{base}/")
    expect(page.locator(".welcome h1")).to_have_text(f"{name[0]}{'*' * (len(name) - 1)}，您好")
    assert_fits_phone(page)


def step(page: Page, label: str):
    """One step of a progress timeline, by its label."""
    return page.locator(".timeline .step").filter(has=page.locator("strong", has_text=re.compile(f"^{label}$")))


def qr_token(page: Page, name: str) -> str:
    """Screenshot the card's QR code and read it back as a scanner would."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"portal-{name}.png"
    page.get_by_test_id("card-qr").locator("svg").screenshot(path=str(path))
    with Image.open(path) as image:
        found = zxingcpp.read_barcodes(image)
    assert len(found) == 1, f"{len(found)} codes read from {path}"
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    return found[0].text


def qr_svg(html: str) -> str:
    """The QR code's SVG as the server wrote it, from the card page or the refresh fragment."""
    found = re.findall(r'<div class="qr" data-testid="card-qr">(<svg.*?</svg>)</div>', html, re.S)
    assert len(found) == 1
    return found[0]


def verify_card(base: str, api_token: str, token: str) -> dict:
    """POST /api/v1/cards/verify over HTTP, as a service station's scanner does."""
    request = urllib.request.Request(  # noqa: S310 - the live server's own URL
        f"{base}/api/v1/cards/verify",
        data=json.dumps({"token": token}).encode("utf-8"),
        headers={"Authorization": f"Bearer {api_token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200
        return json.load(response)


# ---------------------------------------------------------------- 1. joining by the union's link


def test_join_by_link_then_approval_then_card_with_a_verifiable_qr(
    phone_page: Page, office_page: Page, live_server, e2e_accounts, system
):
    tree, _ = e2e_accounts
    page = phone_page
    base = live_server.url
    union = tree[HERE]
    join_url = f"{base}{reverse('portal:join_union', args=[union.id])}"

    page.goto(f"{base}/")
    expect(page.locator(".hero h1")).to_have_text("职工之家，掌上可及")
    assert_fits_phone(page)
    shot(page, "landing")

    # The union's poster QR code opens its join page.
    page.goto(join_url)
    expect(page.locator("h1")).to_have_text(union.name)
    assert_fits_phone(page)
    shot(page, "join-landing")
    page.get_by_role("link", name="登录后申请入会").tap()
    page.wait_for_url(re.compile(re.escape(f"{base}{reverse('portal:login')}?next=")))
    assert_fits_phone(page)
    request_code(page, PHONE)
    assert_fits_phone(page)
    shot(page, "login-code")
    enter_code(page, last_code(PHONE))

    # Back on the join form, the union preset.
    page.wait_for_url(join_url)
    expect(page.locator("h1")).to_have_text(union.name)
    expect(page.locator("main p.muted").first).to_have_text("入会申请")
    assert_fits_phone(page)
    page.get_by_label("姓名").fill("李新工")
    expect(page.get_by_label("证件类型")).to_have_value("resident_id")

    # A wrong check digit is named as soon as the field is left; nothing is submitted.
    page.evaluate("window.__samePage = true")
    wrong = NEW_WORKER_ID[:-1] + ("0" if NEW_WORKER_ID[-1] != "0" else "1")
    page.get_by_label("证件号码").fill(wrong)
    page.get_by_label("证件号码").press("Tab")
    expect(page.locator("#err-doc_number")).to_have_text(WRONG_CHECK_DIGIT_MESSAGE)
    expect(page.locator("#err-doc_number")).to_be_visible()
    assert page.url == join_url and page.evaluate("window.__samePage") is True
    shot(page, "join-form-live-check")
    page.get_by_label("证件号码").fill(NEW_WORKER_ID)
    page.get_by_label("证件号码").press("Tab")
    expect(page.locator("#err-doc_number")).to_have_text("")
    expect(page.locator("#err-doc_number")).to_be_hidden()
    assert JoinApplication.objects.count() == 0

    page.get_by_label("民族").select_option("汉族")
    page.get_by_label("学历").select_option(label="大学本科")
    page.get_by_label("就业形态").select_option(label="标准劳动关系")
    page.get_by_label("工作单位").fill("十二号有限公司")
    page.get_by_label("岗位/职务").fill("装配工")
    page.get_by_label("我已阅读并同意《个人信息保护说明》").check()
    expect(page.locator(".err:visible")).to_have_count(0)
    assert_fits_phone(page)
    shot(page, "join-form")
    page.get_by_role("button", name="提交入会申请").tap()

    # The progress timeline: submitted, now under review.
    page.wait_for_url(re.compile(re.escape(f"{base}/applications/") + r"[0-9a-f-]{36}/$"))
    expect(page.locator("h1")).to_have_text("入会申请进度")
    expect(step(page, "已提交").locator("p")).to_have_text(f"申请加入{union.name}")
    expect(step(page, "审核中")).to_have_class("step step-current")
    expect(step(page, "审核中").locator("p")).to_have_text(re.compile(r"^工会将在 \d{4}-\d{2}-\d{2} 前审核$"))
    expect(step(page, "审核结果")).to_have_class("step step-todo")
    assert_fits_phone(page)
    shot(page, "application-progress")
    application = JoinApplication.objects.get()
    assert (application.org_id, application.status, application.source) == (union.id, "pending", "online")
    assert page.url == f"{base}{reverse('portal:application', args=[application.id])}"

    # The union's cadre approves it in the back office, on a desktop.
    office = office_page
    sign_in(office, base, "grassroots_cadre")
    office.wait_for_url(f"{base}/admin/")
    office.goto(f"{base}/admin/registry/applications/{application.id}/")
    expect(office.locator(".gh-badge")).to_have_text("待审核")
    office.get_by_role("button", name="通过").click()
    expect(office.locator("body")).to_contain_text("已通过，会员卡号")
    membership = Membership.objects.get(person__name="李新工")
    assert JoinApplication.objects.get().status == ApplicationStatus.APPROVED

    # Back on the phone: 我的申请 says approved, the card is there.
    page.goto(f"{base}/")
    expect(page.locator(".welcome h1")).to_have_text("李**，您好")
    expect(page.locator(".welcome p")).to_have_text(f"{union.name} · 正式会员")
    page.get_by_role("link", name="我的申请").tap()
    page.wait_for_url(f"{base}{reverse('portal:applications')}")
    item = page.locator(".list li").filter(has_text=union.name)
    expect(item.locator(".badge")).to_have_text("已通过")
    assert_fits_phone(page)
    item.get_by_role("link").tap()
    page.wait_for_url(f"{base}{reverse('portal:application', args=[application.id])}")
    expect(step(page, "已通过")).to_have_class("step step-done")
    expect(step(page, "已通过").locator("p")).to_have_text(f"欢迎入会！会员卡号 {membership.card_number}")
    assert_fits_phone(page)
    page.get_by_role("link", name="查看电子会员卡").tap()

    page.wait_for_url(f"{base}{reverse('portal:card')}")
    expect(page.get_by_test_id("card-number")).to_have_text(membership.card_number)
    expect(page.get_by_test_id("card-name")).to_have_text("李新工")  # her own card: her full name
    expect(page.locator(".ecard")).to_contain_text(union.name)
    expect(page.get_by_test_id("card-qr").locator("svg")).to_be_visible()
    content = page.content()
    assert NEW_WORKER_ID not in content and PHONE not in content
    assert_fits_phone(page)
    shot(page, "card")

    # What a station's scanner reads off the screen, the card API accepts.
    token = qr_token(page, "card-qr")
    _, raw = api_token_create(actor=system, org=tree["SZ"], name="服务站扫码核验")
    check = verify_card(base, raw, token)
    assert check == {
        "valid": True,
        "reason": "",
        "name_masked": "李**",
        "union_name": union.name,
        "card_number": membership.card_number,
        "status_label": "正式会员",
    }


# ---------------------------------------------------------------- 2. transfer to another district


def test_member_transfers_to_a_union_in_another_district(
    phone_page: Page, office_page: Page, live_server, e2e_accounts, system, settings
):
    tree, _ = e2e_accounts
    page = phone_page
    base = live_server.url
    old = enrol(system, tree[HERE], name="王会员", seq=7, phone=PHONE)

    # The demo shows the code on the login page itself.
    settings.DEMO_MODE = True
    page.goto(f"{base}{reverse('portal:login')}")
    request_code(page, PHONE)
    demo = page.get_by_test_id("demo-code")
    expect(demo).to_contain_text("演示环境：验证码为")
    code = demo.locator("strong").inner_text()
    assert re.fullmatch(r"\d{6}", code) and code == last_code(PHONE)
    assert_fits_phone(page)
    shot(page, "login-demo-code")
    enter_code(page, code)

    # First visit: 核验身份 binds the phone to the registered member.
    page.wait_for_url(re.compile(re.escape(f"{base}{reverse('portal:bind')}")))
    expect(page.locator("h1")).to_have_text("核验身份")
    assert_fits_phone(page)
    page.get_by_label("姓名").fill("王会员")
    page.get_by_label("证件号码").fill(MEMBER_ID)
    page.get_by_role("button", name="核验并绑定").tap()
    page.wait_for_url(f"{base}/")
    expect(page.locator(".welcome h1")).to_have_text("王**，您好")
    assert_fits_phone(page)
    shot(page, "home")

    page.get_by_role("link", name="会员接转").tap()
    page.wait_for_url(f"{base}{reverse('portal:transfer')}")
    expect(page.locator("main")).to_contain_text(f"当前所在工会：{tree[HERE].name}")
    assert_fits_phone(page)

    # Searching fills the results in place (htmx): the page is not reloaded.
    page.evaluate("window.__samePage = true")
    page.get_by_label("关键词").fill("木渎光电")
    result = page.locator("#union-results li").filter(has_text=THERE_NAME)
    expect(result).to_have_count(1)
    expect(result).to_contain_text(THERE)
    assert page.evaluate("window.__samePage") is True
    assert_fits_phone(page)
    shot(page, "transfer-search")
    result.get_by_role("link").tap()

    page.wait_for_url(f"{base}{reverse('portal:transfer_to', args=[tree[THERE].id])}")
    expect(page.locator(".kv")).to_contain_text(f"转出工会{tree[HERE].name}")
    expect(page.locator(".kv")).to_contain_text(f"转入工会{THERE_NAME}")
    assert_fits_phone(page)
    page.get_by_label("接转原因").fill("已到新单位工作")
    page.get_by_role("button", name="提交接转申请").tap()

    page.wait_for_url(re.compile(re.escape(f"{base}/transfers/") + r"[0-9a-f-]{36}/$"))
    expect(page.locator("h1")).to_have_text("接转进度")
    expect(step(page, "已提交").locator("p")).to_have_text(f"{tree[HERE].name} → {THERE_NAME}")
    expect(step(page, "转出工会审核")).to_have_class("step step-current")
    expect(step(page, "转入工会接收")).to_have_class("step step-todo")
    assert_fits_phone(page)
    shot(page, "transfer-progress")
    transfer = TransferRequest.objects.get()
    assert (transfer.from_org_id, transfer.to_org_id, transfer.requested_by_member) == (
        tree[HERE].id,
        tree[THERE].id,
        True,
    )
    assert page.url == f"{base}{reverse('portal:transfer_detail', args=[transfer.id])}"

    # The source union releases, the target union (another district) accepts, each in the back office.
    office = office_page
    sign_in(office, base, "grassroots_cadre")
    office.wait_for_url(f"{base}/admin/")
    office.goto(f"{base}/admin/registry/transfers/{transfer.id}/")
    expect(office.locator("h2.gh-h2")).to_contain_text(f"王会员：{tree[HERE].name} → {THERE_NAME}")
    expect(office.locator(".gh-steps li").first).to_contain_text("申请：会员139****5678（会员本人）")
    expect(office.locator(".gh-steps li").first).to_contain_text("已到新单位工作")
    office.get_by_role("button", name="同意转出").click()
    expect(office.locator(".gh-badge")).to_have_text("待接收")

    page.reload()
    expect(step(page, "转出工会已同意")).to_have_class("step step-done")
    expect(step(page, "转入工会接收")).to_have_class("step step-current")

    office.context.clear_cookies()
    sign_in(office, base, "other_district_cadre")
    office.wait_for_url(f"{base}/admin/")
    office.goto(f"{base}/admin/registry/transfers/{transfer.id}/")
    office.get_by_role("button", name="接收入会").click()
    expect(office.locator(".gh-badge")).to_have_text("已完成")
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.COMPLETED
    new = transfer.new_membership
    assert new.org_id == tree[THERE].id and new.card_number != old.card_number

    # The member sees it done, and the new card.
    page.reload()
    expect(step(page, "接转完成")).to_have_class("step step-done")
    expect(step(page, "接转完成").locator("p")).to_have_text(f"新会员卡号 {new.card_number}")
    expect(page.locator(".step-current")).to_have_count(0)
    assert_fits_phone(page)
    shot(page, "transfer-done")
    page.get_by_role("link", name="查看新的电子会员卡").tap()
    page.wait_for_url(f"{base}{reverse('portal:card')}")
    expect(page.get_by_test_id("card-number")).to_have_text(new.card_number)
    expect(page.get_by_test_id("card-name")).to_have_text("王会员")
    expect(page.locator(".ecard")).to_contain_text(THERE_NAME)
    assert old.card_number not in page.content()
    assert_fits_phone(page)
    shot(page, "card-after-transfer")


# ---------------------------------------------------------------- 3. the card's QR code refreshes


def test_card_qr_code_is_refreshed_with_a_fresh_token(phone_page: Page, live_server, e2e_accounts, system):
    tree, _ = e2e_accounts
    page = phone_page
    base = live_server.url
    membership = enrol(system, tree[HERE], name="王会员", seq=7, phone=PHONE)
    member_sign_in_and_bind(page, base, name="王会员", number=MEMBER_ID)

    page.clock.install()  # the page's timers run on a clock the test moves (the server's time is real)
    card_page = page.goto(f"{base}{reverse('portal:card')}")
    expect(page.get_by_test_id("card-number")).to_have_text(membership.card_number)
    box = page.locator("#card-qr")
    expect(box).to_have_attribute("hx-get", reverse("portal:card_qr"))
    expect(box).to_have_attribute("hx-trigger", "every 60s")
    expect(box).to_have_attribute("hx-swap", "innerHTML")
    expect(box).to_contain_text("5分钟内有效，每分钟自动刷新")
    expect(page.locator("#card-offline")).to_be_hidden()
    assert_fits_phone(page)
    qr = page.get_by_test_id("card-qr")
    shown = qr.inner_html()
    first = qr_svg(card_page.text())

    time.sleep(1.1)  # the signed token carries its time of issue in whole seconds
    answer = page.request.get(f"{base}{reverse('portal:card_qr')}")  # what the poll fetches, with the member's cookie
    assert answer.status == 200
    fragment = answer.text()
    assert qr_svg(fragment) != first
    assert "王会员" not in fragment and MEMBER_ID not in fragment

    # A minute on the page's clock: htmx's poll fetches and swaps in a fresh code, which a scanner accepts.
    with page.expect_response(lambda r: r.url == f"{base}{reverse('portal:card_qr')}" and r.status == 200):
        page.clock.run_for("01:00")
    page.wait_for_function("shown => document.querySelector('[data-testid=card-qr]').innerHTML !== shown", arg=shown)
    expect(qr.locator("svg")).to_have_count(1)
    expect(page.locator("#card-offline")).to_be_hidden()
    _, raw = api_token_create(actor=system, org=tree["SZ"], name="服务站扫码核验")
    check = verify_card(base, raw, qr_token(page, "card-qr-refreshed"))
    assert (check["valid"], check["card_number"]) == (True, membership.card_number)

    # Someone who is not signed in gets no code.
    anonymous = page.context.browser.new_context()
    try:
        response = anonymous.request.get(f"{base}{reverse('portal:card_qr')}", max_redirects=0)
        assert response.status == 302
        assert response.headers["location"].startswith(reverse("portal:login"))
    finally:
        anonymous.close()


# ---------------------------------------------------------------- 4. my data


def test_my_data_masks_the_document_number_until_tapped(phone_page: Page, live_server, e2e_accounts, system):
    tree, _ = e2e_accounts
    page = phone_page
    base = live_server.url
    enrol(system, tree[HERE], name="王会员", seq=7, phone=PHONE)
    member_sign_in_and_bind(page, base, name="王会员", number=MEMBER_ID)
    # Home: the 入会申请 entry says where she belongs; the header offers 消息 beside 我的, within the width.
    expect(page.get_by_test_id("tile-join")).to_have_text(f"入已是会员{tree[HERE].name}")
    expect(page.get_by_test_id("bar-messages")).to_have_text("消息")
    assert_fits_phone(page)
    shot(page, "home-member")

    page.get_by_role("link", name="我的资料").tap()
    page.wait_for_url(f"{base}{reverse('portal:me')}")
    expect(page.locator("h1")).to_have_text("我的资料")
    number = page.locator("#own-doc_number")
    expect(number).to_have_text(MEMBER_ID[:4] + "*" * 10 + MEMBER_ID[-4:])
    expect(page.locator("#own-phone")).to_have_text("139****5678")
    assert MEMBER_ID not in page.content() and PHONE not in page.content()
    assert_fits_phone(page)
    shot(page, "me")

    page.evaluate("window.__samePage = true")
    page.locator("dd").filter(has=number).get_by_role("button", name="显示").tap()
    expect(number).to_have_text(MEMBER_ID)
    expect(page.locator("#own-phone")).to_have_text("139****5678")  # only the tapped number
    assert page.evaluate("window.__samePage") is True
    assert page.url == f"{base}{reverse('portal:me')}"
    assert_fits_phone(page)
    shot(page, "me-revealed")


# ---------------------------------------------------------------- 5. back through the union searches


def test_going_back_through_union_searches_restores_the_whole_page(phone_page: Page, live_server, e2e_accounts, system):
    """Each search pushes its URL (hx-push-url). Going back, htmx restores the page from its history cache in
    sessionStorage, and when the entry is not there (more than htmx.config.historyCacheSize = 10 searches back,
    storage full or unavailable) it asks the server with HX-Request and HX-History-Restore-Request and swaps the
    answer into <body>. That answer must be the whole page; the view sends the results fragment instead, leaving a
    bare list with no header, no search box and no way on. The cache is cleared here to make the miss certain."""
    tree, _ = e2e_accounts
    page = phone_page
    base = live_server.url
    enrol(system, tree[HERE], name="王会员", seq=7, phone=PHONE)
    member_sign_in_and_bind(page, base, name="王会员", number=MEMBER_ID)
    page.goto(f"{base}{reverse('portal:transfer')}")
    search = page.get_by_label("关键词")
    results = page.locator("#union-results li")

    search.fill("木渎光电")
    expect(results.filter(has_text=THERE_NAME)).to_have_count(1)
    page.wait_for_url(re.compile(r"[?&]q=%E6%9C%A8%E6%B8%8E%E5%85%89%E7%94%B5$"))
    search.fill("沧浪精工")
    expect(results.filter(has_text="沧浪精工有限公司工会委员会")).to_have_count(1)
    page.wait_for_url(re.compile(r"[?&]q=%E6%B2%A7%E6%B5%AA%E7%B2%BE%E5%B7%A5$"))

    page.evaluate("sessionStorage.removeItem('htmx-history-cache')")  # the entry is gone: a cache miss
    page.evaluate(
        "document.addEventListener('htmx:historyRestore', event => { window.__restored = event.detail; }, {once: true})"
    )
    page.evaluate("history.back()")
    page.wait_for_function("() => window.__restored !== undefined")  # a bare expression would be eval-ed: CSP
    assert page.evaluate("window.__restored.cacheMiss") is True  # fetched from the server, and swapped in
    page.wait_for_url(re.compile(r"[?&]q=%E6%9C%A8%E6%B8%8E%E5%85%89%E7%94%B5$"))

    expect(page.locator("header.bar .brand")).to_have_text("数字工会")
    expect(page.locator("h1")).to_have_text("会员接转")
    expect(search).to_have_value("木渎光电")
    expect(results.filter(has_text=THERE_NAME)).to_have_count(1)
    assert_fits_phone(page)


# ---------------------------------------------------------------- 6. the star rating on a 390 px phone

PHONE_390 = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": LOCALE,
}


def test_star_rating_keeps_five_stars_on_one_line_at_390_px(phone_page: Page, live_server, e2e_accounts, system):
    """The satisfaction rating of a closed case: five stars, radios labelled 1星 to 5星, on one line of a 390 px
    phone without sideways scrolling; a tap on the fourth lights four; a refused rating keeps the comment."""
    tree, accounts = e2e_accounts
    context = phone_page.context.browser.new_context(**PHONE_390)
    context.set_default_timeout(10_000)
    page = context.new_page()
    base = live_server.url
    enrol(system, tree[HERE], name="王会员", seq=7, phone=PHONE)
    member_sign_in_and_bind(page, base, name="王会员", number=MEMBER_ID)
    account = MemberAccount.objects.get(phone_masked="139****5678")
    case = member_case_apply(
        account=account,
        kind="legal",
        data={"summary": "公司拖欠三个月工资", "category": "wages", "counterparty": "某某制造有限公司"},
        consent=Consent(),
    )
    cadre = actor_for_user(accounts["district_cadre"], ip="127.0.0.1")
    case = case_accept(actor=cadre, case=case)
    case = case_start(actor=cadre, case=case, station="姑苏区职工法律援助站")
    case_close(actor=cadre, case=case, result="已调解，工资已补发", outcome={"outcome": "mediated"})

    page.goto(f"{base}{reverse('portal:service_case', args=[case.id])}")
    stars = page.get_by_test_id("rating-stars").locator("label")
    expect(stars).to_have_count(5)
    expect(stars.locator('[aria-hidden="true"]')).to_have_text(["★"] * 5)  # seen
    expect(stars.locator(".sr-only")).to_have_text([f"{n}星" for n in range(1, 6)])  # heard
    for n in range(1, 6):
        expect(page.get_by_role("radio", name=f"{n}星", exact=True)).to_have_attribute("value", str(n))
    boxes = [stars.nth(i).bounding_box() for i in range(5)]
    assert len({round(box["y"]) for box in boxes}) == 1, boxes  # one line
    assert all(box["x"] + box["width"] <= 390 for box in boxes), boxes
    assert all(box["width"] >= 44 and box["height"] >= 44 for box in boxes), boxes  # tap targets
    assert_fits_phone(page)

    grey = "rgb(197, 203, 211)"
    lit = "rgb(217, 119, 6)"

    def colours():
        return [stars.nth(i).evaluate("label => getComputedStyle(label).color") for i in range(5)]

    assert colours() == [grey] * 5  # nothing chosen yet
    page.get_by_label("评价意见（选填）").fill("调解及时")
    page.get_by_role("button", name="提交评价").tap()  # no star: refused
    expect(page.get_by_role("alert").filter(has_text="请选择 1 到 5 星的评价")).to_be_visible()
    expect(page.get_by_label("评价意见（选填）")).to_have_value("调解及时")

    # Each radio lies over its own star: a finger on the fourth star lands on the radio 4星.
    radios = [page.get_by_role("radio", name=f"{n}星", exact=True) for n in range(1, 6)]
    for radio, box in zip(radios, boxes, strict=True):
        assert radio.bounding_box() == box
    radios[3].tap()
    expect(page.get_by_role("radio", name="4星", exact=True)).to_be_checked()
    assert colours() == [lit] * 4 + [grey]
    shot(page, "rating-390")
    page.get_by_role("button", name="提交评价").tap()
    page.wait_for_url(f"{base}{reverse('portal:service_case', args=[case.id])}")
    expect(step(page, "已评价").locator("p")).to_have_text("4 星：调解及时")
    context.close()
