"""The service centre (职工服务) in a real browser, end to end: a member applies for hardship aid (困难帮扶) on a phone,
the grassroots cadre handles it to 办结 in the back office on a desktop, and the member rates it.

On the phone (360x740, touch, zh-CN) the member signs in by SMS code, taps the 困难帮扶 tile, fills the form and first
sends it without the consents: the Chinese consent error is shown in place and nothing is created. With both consents
ticked the case page follows: 已提交 with the handling union, 受理 due by its working-day deadline; a small PNG goes up
as evidence. The cadre accepts it with the workbench's one-click 受理 (我的待办), opens it, starts it and closes it with
aid granted (相对困难, 资金 2000 元); the evidence downloads byte for byte. Back on the phone the member sees the result
and 发放 2000.00 元, gives 5 星 with a comment, and the database holds the closed case, the new 困难职工档案 with its
aid, and the case's audit trail in order.

Uploaded files go to a temporary MEDIA_ROOT. Screenshots: var/test-output/e2e/portal-service-*.png.
"""

import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Page, expect

from gonghui.audit.models import AuditEvent
from gonghui.casework.models import (
    AidForm,
    CaseAttachment,
    CaseStatus,
    HardshipAid,
    HardshipApproval,
    HardshipFile,
    HardshipFileStatus,
    HardshipTier,
    ServiceCase,
)
from gonghui.casework.services import Consent
from gonghui.common.workdays import add_working_days
from tests.e2e.test_backoffice_browser import sign_in
from tests.e2e.test_portal_browser import (  # noqa: F401 - e2e_accounts and office_page are fixtures, used by name
    HERE,
    MEMBER_ID,
    PHONE,
    SCREENSHOTS,
    assert_fits_phone,
    e2e_accounts,
    member_sign_in_and_bind,
    office_page,
    shot,
    step,
)
from tests.members.factories import enrol

pytestmark = pytest.mark.browser

FINANCIAL_CONSENT = "我同意工会为办理本项服务核实和使用我的家庭经济信息"
HEALTH_CONSENT = "我同意工会为办理本项服务使用我的健康信息"
FINANCIAL_CONSENT_ERROR = "办理此项服务需要核实家庭经济状况，请阅读并同意家庭经济信息使用说明"
SUMMARY = "爱人去年查出尿毒症，每周透析三次，医药费自付部分较多，孩子还在上学，家庭生活困难。"
RESULT = "经入户核实，家庭因病致困属实，已建立困难职工档案并发放帮扶金。"
AID_DESCRIPTION = "2026年困难职工帮扶金"
COMMENT = "工会上门核实，很快就办好了，谢谢！"
EVIDENCE_NAME = "诊断证明.png"


def evidence_png() -> bytes:
    """A small real PNG (a scanned certificate stands in): the upload is checked by its first bytes."""
    buffer = io.BytesIO()
    Image.new("RGB", (40, 24), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def flash(page: Page, text: str):
    """The back office's one-line message after an action (a list item holding exactly that text)."""
    return page.locator("li").filter(has_text=re.compile(rf"^\s*{re.escape(text)}\s*$"))


def test_member_applies_for_hardship_aid_cadre_closes_it_member_rates_it(
    phone_page: Page,
    office_page: Page,  # noqa: F811 - the fixture imported above
    live_server,
    e2e_accounts,  # noqa: F811 - the fixture imported above
    system,
    settings,
    tmp_path,
):
    tree, _ = e2e_accounts
    settings.MEDIA_ROOT = str(tmp_path / "media")
    page = phone_page
    base = live_server.url
    union = tree[HERE]
    enrol(system, union, name="王会员", seq=7, phone=PHONE)
    member_sign_in_and_bind(page, base, name="王会员", number=MEMBER_ID)

    # The home page's 困难帮扶 tile opens the application form.
    page.get_by_role("link", name="困难帮扶").tap()
    apply_url = f"{base}{reverse('portal:service_apply', args=['hardship'])}"
    page.wait_for_url(apply_url)
    expect(page.locator("h1")).to_have_text("申请困难帮扶")
    expect(page.locator("main")).to_contain_text("工会将在 5 个工作日内受理")
    assert_fits_phone(page)
    page.get_by_label("因病", exact=True).check()
    page.get_by_label("家庭人口").fill("3")
    page.get_by_label("家庭年收入（元）").fill("36000")
    page.get_by_label("申请事由").fill(SUMMARY)

    # Without the consents: the form comes back with the Chinese message, the answers kept, nothing created.
    page.get_by_role("button", name="提交申请").tap()
    page.wait_for_url(apply_url)
    consents = page.locator("fieldset").filter(has=page.locator("legend", has_text="信息使用同意"))
    expect(consents.locator(".err").first).to_have_text(FINANCIAL_CONSENT_ERROR)
    expect(consents.locator(".err").first).to_be_visible()
    expect(page.locator(".err:not(fieldset .err)")).to_have_count(0)  # the answers themselves were accepted
    expect(page.get_by_label("因病", exact=True)).to_be_checked()
    expect(page.get_by_label("家庭人口")).to_have_value("3")
    expect(page.get_by_label("家庭年收入（元）")).to_have_value("36000")
    expect(page.get_by_label("申请事由")).to_have_value(SUMMARY)
    assert_fits_phone(page)
    shot(page, "service-consent-error")
    assert ServiceCase.objects.count() == 0
    assert not AuditEvent.objects.filter(action="case.submit").exists()

    page.get_by_label(FINANCIAL_CONSENT).check()
    page.get_by_label(HEALTH_CONSENT).check()
    page.get_by_role("button", name="提交申请").tap()

    # The case page: submitted to the member's own union, 受理 due within 5 working days.
    page.wait_for_url(re.compile(re.escape(f"{base}/services/cases/") + r"[0-9a-f-]{36}/$"))
    case = ServiceCase.objects.get()
    assert page.url == f"{base}{reverse('portal:service_case', args=[case.id])}"
    assert (case.kind, case.status, case.org_id, case.home_org_id) == ("hardship", "submitted", union.id, union.id)
    assert case.consent_financial_at is not None and case.consent_health_at is not None
    assert case.due_on == add_working_days(timezone.localdate(), 5)
    expect(page.locator("h1")).to_have_text("困难帮扶")
    expect(page.locator("main p.muted").first).to_have_text(f"受理编号 {case.number} · 待受理")
    expect(step(page, "已提交")).to_have_class("step step-done")
    expect(step(page, "已提交").locator("p")).to_have_text(f"承办工会：{union.name}")
    expect(step(page, "受理")).to_have_class("step step-current")
    expect(step(page, "受理").locator("p")).to_have_text(f"工会将在 {case.due_on:%Y-%m-%d} 前受理")
    expect(step(page, "办理")).to_have_class("step step-todo")
    expect(step(page, "办结")).to_have_class("step step-todo")
    assert_fits_phone(page)

    # Evidence: a photo of the diagnosis.
    png = evidence_png()
    page.get_by_label("上传照片或扫描件").set_input_files(
        {"name": EVIDENCE_NAME, "mimeType": "image/png", "buffer": png}
    )
    page.get_by_role("button", name="上传", exact=True).tap()
    evidence = page.locator(".panel").filter(has=page.locator("h2", has_text="证明材料")).locator(".list li")
    expect(evidence).to_have_count(1)
    expect(evidence.locator("strong")).to_have_text(EVIDENCE_NAME)
    assert_fits_phone(page)
    shot(page, "service-submitted")
    attachment = CaseAttachment.objects.get(case=case)
    assert (attachment.name, attachment.content_type, attachment.size) == (EVIDENCE_NAME, "image/png", len(png))
    assert attachment.file.path.startswith(str(tmp_path))
    own_copy = page.request.get(base + evidence.locator("a").get_attribute("href"))  # with the member's cookie
    assert own_copy.status == 200 and own_copy.body() == png

    # The cadre, on a desktop: 我的待办 lists the case; one click accepts it without leaving the workbench.
    office = office_page
    sign_in(office, base, "grassroots_cadre")
    office.wait_for_url(f"{base}/admin/")
    queue = office.locator(".gh-card").filter(has=office.locator("h3", has_text=re.compile("^我的待办$")))
    row = queue.locator("tbody tr").filter(has_text=case.number)
    expect(row).to_have_count(1)
    expect(row.locator("td")).to_have_text(
        [case.number, "困难帮扶", "王会员", union.name, "待受理", f"{case.due_on:%Y-%m-%d}", "受理"]
    )
    row.get_by_role("button", name="受理", exact=True).click()
    office.wait_for_url(f"{base}/admin/")
    expect(flash(office, "已受理")).to_be_visible()
    expect(row.locator("td").nth(4)).to_have_text("已受理")
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED

    # Open it, start, and close it with aid granted.
    row.get_by_role("link", name=case.number).click()
    office.wait_for_url(f"{base}{reverse('admin:case_detail', args=[case.id])}")
    heading = office.locator("h2.gh-h2")
    expect(heading).to_contain_text(f"困难帮扶 · {case.number}")
    expect(heading.locator(".gh-badge")).to_have_text("已受理")
    office.get_by_role("button", name="开始办理", exact=True).click()
    expect(heading.locator(".gh-badge")).to_have_text("办理中")
    expect(flash(office, "已开始办理")).to_be_visible()

    close = office.locator(".gh-card").filter(has=office.locator("h3", has_text=re.compile("^办结$")))
    close.get_by_label("给予帮扶").check()
    close.get_by_label("困难类别").select_option(label="相对困难")
    close.get_by_label("帮扶形式").select_option(label="资金")
    close.get_by_label("金额/物资折价（元）").fill("2000")
    close.get_by_label("帮扶内容").fill(AID_DESCRIPTION)
    close.get_by_label("办理结果").fill(RESULT)
    close.get_by_role("button", name="办结", exact=True).click()
    expect(heading.locator(".gh-badge")).to_have_text("已办结")
    expect(flash(office, "已办结，申请人可以评价")).to_be_visible()
    details = office.locator("dl.gh-dl")
    expect(details).to_contain_text(f"{RESULT}（发放 2000.00 元）")
    expect(details).to_contain_text(f"资金 2000.00 元 · {AID_DESCRIPTION}")

    # The member's evidence, downloaded in the back office, is the very file that was sent.
    with office.expect_download() as download:
        office.get_by_role("link", name=EVIDENCE_NAME).click()
    assert download.value.suggested_filename == EVIDENCE_NAME
    with open(download.value.path(), "rb") as downloaded:
        assert downloaded.read() == png

    # Back on the phone: 已办结 with the result and the money, then the rating.
    page.reload()
    expect(page.locator("main p.muted").first).to_have_text(f"受理编号 {case.number} · 已办结")
    expect(step(page, "已受理")).to_have_class("step step-done")
    expect(step(page, "办理中")).to_have_class("step step-done")
    expect(step(page, "已办结")).to_have_class("step step-done")
    # The result's closing 。 gives way to the amount: "…帮扶金，发放 2000.00 元", never "…帮扶金。，发放".
    expect(step(page, "已办结").locator("p")).to_have_text(f"{RESULT.removesuffix('。')}，发放 2000.00 元")
    expect(step(page, "评价")).to_have_class("step step-current")
    expect(page.get_by_role("button", name="上传", exact=True)).to_have_count(0)  # evidence closes with the case
    assert_fits_phone(page)
    shot(page, "service-closed")
    page.get_by_role("radio", name="5星", exact=True).check()
    page.get_by_label("评价意见（选填）").fill(COMMENT)
    page.get_by_role("button", name="提交评价").tap()
    page.wait_for_url(f"{base}{reverse('portal:service_case', args=[case.id])}")
    expect(step(page, "已评价")).to_have_class("step step-done")
    expect(step(page, "已评价").locator("p")).to_have_text(f"5 星：{COMMENT}")
    expect(page.get_by_role("button", name="提交评价")).to_have_count(0)
    assert_fits_phone(page)
    shot(page, "service-rated")

    # What the database holds.
    case.refresh_from_db()
    assert (case.status, case.rating, case.rating_comment) == (CaseStatus.CLOSED, 5, COMMENT)
    assert case.amount_granted == Decimal("2000.00")
    assert case.result == RESULT
    hardship_file = HardshipFile.objects.get()
    assert (hardship_file.person_id, hardship_file.org_id) == (case.person_id, union.id)
    assert (hardship_file.tier, hardship_file.status) == (HardshipTier.RELATIVE, HardshipFileStatus.ACTIVE)
    assert hardship_file.causes == ["illness"] and hardship_file.household_size == 3
    assert hardship_file.household_income == Decimal("36000.00")
    aid = HardshipAid.objects.get()
    assert (aid.file_id, aid.case_id, aid.form, aid.amount) == (
        hardship_file.id,
        case.id,
        AidForm.MONEY,
        Decimal("2000.00"),
    )
    assert aid.description == AID_DESCRIPTION
    trail = list(
        AuditEvent.objects.filter(object_type="service_case", object_id=str(case.id))
        .order_by("at")
        .values_list("action", flat=True)
    )
    steps = [
        action for action in trail if action in {"case.submit", "case.accept", "case.start", "case.close", "case.rate"}
    ]
    assert steps == ["case.submit", "case.accept", "case.start", "case.close", "case.rate"], trail
    assert {"case.attach", "case.attachment_view"} <= set(trail)


def test_grassroots_grant_above_the_standard_waits_for_the_town_then_is_paid_and_printed(
    office_page: Page,  # noqa: F811 - the fixture imported above
    live_server,
    e2e_accounts,  # noqa: F811 - the fixture imported above
    actors,
    system,
):
    """The grassroots cadre closes a hardship case with 3000 元 for a 相对困难 household: above the city's 2000 元
    standard, the case waits in 待上级审批 at 双塔街道. The town cadre (another browser) finds it under 上级审批 and
    approves it; the case closes with the grant. Back at the grassroots union, the cadre records the 发放签收 on the
    file's page (a wrong amount is refused first) and opens the printable 困难职工档案卡."""
    from gonghui.casework.services import case_accept, case_enter, case_start

    tree, _ = e2e_accounts
    base = live_server.url
    union = tree[HERE]
    membership = enrol(system, union, name="赵困难", seq=21)
    grassroots = actors["grassroots_cadre"]
    case = case_enter(
        actor=grassroots,
        membership=membership,
        kind="hardship",
        data={"summary": SUMMARY, "causes": ["illness"], "household_size": "3", "household_income": "36000"},
        consent=Consent(health=True, financial=True),
    )
    case_start(actor=grassroots, case=case_accept(actor=grassroots, case=case))

    # The grassroots cadre proposes 3000 元: the case waits for the town.
    office = office_page
    sign_in(office, base, "grassroots_cadre")
    office.wait_for_url(f"{base}/admin/")
    office.goto(f"{base}{reverse('admin:case_detail', args=[case.id])}")
    heading = office.locator("h2.gh-h2")
    close = office.locator(".gh-card").filter(has=office.locator("h3", has_text=re.compile("^办结$")))
    close.get_by_label("给予帮扶").check()
    close.get_by_label("困难类别").select_option(label="相对困难")
    close.get_by_label("帮扶形式").select_option(label="资金")
    close.get_by_label("金额/物资折价（元）").fill("3000")
    close.get_by_label("帮扶内容").fill(AID_DESCRIPTION)
    close.get_by_label("办理结果").fill(RESULT)
    close.get_by_role("button", name="办结", exact=True).click()
    expect(heading.locator(".gh-badge")).to_have_text("待上级审批")
    waiting = office.get_by_test_id("pending-approval")
    expect(waiting).to_contain_text("单笔帮扶 3000.00 元，超过相对困难审批限额 2000.00 元")
    expect(waiting).to_contain_text("已报双塔街道总工会")
    approval = HardshipApproval.objects.get(case=case)
    assert not HardshipAid.objects.exists()

    # The town cadre, in a browser of their own, approves it from 上级审批.
    town_context = office.context.browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    town_context.set_default_timeout(10_000)
    town = town_context.new_page()
    try:
        sign_in(town, base, "town_cadre")
        town.wait_for_url(f"{base}/admin/")
        town.goto(f"{base}{reverse('admin:hardship_approvals')}")
        row = town.get_by_test_id("approvals-to-decide").locator("tbody tr")
        expect(row).to_have_count(1)
        expect(row.locator("td").nth(1)).to_have_text("赵困难")
        expect(row.locator("td").nth(4)).to_have_text("3000.00")
        row.get_by_role("link", name="困难帮扶申请办结").click()
        town.wait_for_url(f"{base}{reverse('admin:hardship_approval_detail', args=[approval.id])}")
        town.get_by_label("审批意见（可不填）").fill("同意，按时足额发放")
        town.get_by_role("button", name="批准", exact=True).click()
        expect(flash(town, "已批准")).to_be_visible()
        expect(town.locator("h2.gh-h2 .gh-badge").first).to_have_text("已批准")
    finally:
        town_context.close()
    case.refresh_from_db()
    assert (case.status, case.amount_granted) == (CaseStatus.CLOSED, Decimal("3000.00"))
    aid = HardshipAid.objects.get(case=case)
    assert (aid.approval, aid.amount, aid.paid_on) == ("approved", Decimal("3000.00"), None)

    # 发放签收 on the file's page: the amount must be the one approved.
    office.reload()
    expect(heading.locator(".gh-badge")).to_have_text("已办结")
    office.get_by_role("link", name="困难职工档案", exact=True).click()
    office.wait_for_url(f"{base}{reverse('admin:hardship_file_detail', args=[aid.file_id])}")
    history = office.get_by_test_id("aid-history").locator("tbody tr")
    expect(history.locator("td").nth(5)).to_have_text("上级已批准")
    history.get_by_role("link", name="发放签收").click()
    office.wait_for_url(f"{base}{reverse('admin:hardship_aid_pay', args=[aid.id])}")
    office.get_by_label("发放方式").select_option(label="银行转账")
    office.get_by_label("实发金额（元）").fill("2000")
    office.get_by_label("收据编号").fill("KNBF-2026-0001")
    office.get_by_role("button", name="登记签收").click()
    expect(office.locator(".gh-error[role=alert]").first).to_have_text("实发金额应与核定的帮扶金额 3000.00 元一致")
    assert HardshipAid.objects.get(pk=aid.pk).paid_on is None
    office.get_by_label("实发金额（元）").fill("3000")
    office.get_by_role("button", name="登记签收").click()
    office.wait_for_url(f"{base}{reverse('admin:hardship_file_detail', args=[aid.file_id])}")
    expect(flash(office, "发放签收已登记")).to_be_visible()
    today = timezone.localdate()
    expect(history.locator("td").nth(6)).to_have_text(
        f"{today:%Y-%m-%d} 银行转账 · 签收人 赵困难 · 收据 KNBF-2026-0001"
    )
    aid.refresh_from_db()
    assert (aid.paid_amount, aid.paid_method, aid.receiver, aid.signer) == (
        Decimal("3000.00"),
        "bank",
        "赵困难",
        "赵困难",
    )

    # The printable file card: A4 sheet, masked number, the grant and its receipt, the town's approval.
    office.get_by_role("link", name="打印档案卡").click()
    office.wait_for_url(f"{base}{reverse('admin:hardship_file_card', args=[aid.file_id])}")
    card = office.get_by_test_id("hardship-file-card")
    expect(card.locator("h1")).to_have_text("困难职工档案卡")
    expect(card.locator("[data-field=doc_number]")).to_have_text(membership.person.doc_masked)
    expect(card.locator("[data-field=aid_total]")).to_have_text("3000.00")
    expect(card.get_by_test_id("card-aid")).to_contain_text("收据 KNBF-2026-0001")
    expect(card.locator("[data-field=approvals]")).to_contain_text("双塔街道总工会已批准（town_cadre")
    expect(office.get_by_role("button", name="打印")).to_be_visible()
    office.emulate_media(media="print")
    expect(office.get_by_role("button", name="打印")).to_be_hidden()
    office.emulate_media(media="screen")
    office.screenshot(path=str(SCREENSHOTS / "backoffice-hardship-file-card.png"), full_page=True)

    trail = AuditEvent.objects.filter(object_type="hardship_approval", object_id=str(approval.id)).order_by("at")
    assert list(trail.values_list("action", "actor_label")) == [
        ("hardship.approval_request", "grassroots_cadre"),
        ("hardship.approval_approve", "town_cadre"),
    ]
    assert AuditEvent.objects.filter(action="hardship.pay", object_id=str(aid.file_id)).count() == 1
    assert AuditEvent.objects.filter(action="hardship.print", object_id=str(aid.file_id)).count() == 1
