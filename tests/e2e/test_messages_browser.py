"""消息 in a real browser on a phone: a member's union asks for their transfer and the member's old union lets them go;
the member sees both messages newest first with the unread count, opens one (it is then read) and follows it to the
transfer's progress, then marks the rest read. Both SMS went out after their commits, with no name and no number.
Screenshots: var/test-output/e2e/messages-*.png."""

import re
from datetime import date

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from gonghui.accounts.actors import actor_for_user
from gonghui.common.sms import MemorySmsSender
from gonghui.members.models import Notice
from gonghui.members.services import transfer_release, transfer_request
from tests.e2e.test_portal_browser import (
    HERE,
    PHONE,
    SCREENSHOTS,
    assert_fits_phone,
    e2e_accounts,  # noqa: F401 - the fixture, used by name
    member_sign_in_and_bind,
)
from tests.members.factories import enrol, resident_id

pytestmark = pytest.mark.browser

OTHER = "SZ-GS-T01-123"  # 一二三公司工会委员会, beside HERE under the same town
MEMBER_ID = resident_id(date(1990, 5, 17), 7)


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"messages-{name}.png"), full_page=True)


def test_member_reads_the_messages_of_a_transfer(phone_page: Page, live_server, e2e_accounts, system):  # noqa: F811
    tree, accounts = e2e_accounts
    page = phone_page
    base = live_server.url
    membership = enrol(system, tree[HERE], name="王会员", seq=7, phone=PHONE)
    member_sign_in_and_bind(page, base, name="王会员", number=MEMBER_ID)

    page.goto(f"{base}{reverse('portal:messages')}")
    expect(page.locator("h1")).to_have_text("消息")
    expect(page.get_by_test_id("unread-count")).to_have_text("没有未读消息")
    expect(page.locator(".empty")).to_contain_text("暂无消息")

    # The union asks for the transfer and releases it (each its own committed transaction, as in the back office).
    MemorySmsSender.outbox.clear()
    cadre = actor_for_user(accounts["grassroots_cadre"], ip="127.0.0.1")
    transfer = transfer_request(actor=cadre, membership=membership, to_org=tree[OTHER], reason="调往一二三公司")
    transfer_release(actor=cadre, transfer=transfer)
    assert MemorySmsSender.outbox == [
        (PHONE, "您有一条新的工会消息：工会为您发起了会员接转。详情请登录数字工会平台查看。"),
        (PHONE, "您有一条新的工会消息：原工会已同意转出。详情请登录数字工会平台查看。"),
    ]

    page.reload()
    expect(page.get_by_test_id("unread-count")).to_have_text("2 条未读")
    items = page.get_by_test_id("notices").locator("li")
    expect(items).to_have_count(2)
    expect(items.nth(0).locator("strong")).to_have_text("原工会已同意转出")
    expect(items.nth(1).locator("strong")).to_have_text("工会为您发起了会员接转")
    expect(items.locator(".badge")).to_have_count(2)
    assert_fits_phone(page)
    shot(page, "list")

    items.nth(0).get_by_role("link").tap()
    notice = Notice.objects.get(kind="transfer_released")
    page.wait_for_url(f"{base}{reverse('portal:message', args=[notice.id])}")
    expect(page.locator("h1")).to_have_text("原工会已同意转出")
    expect(page.get_by_test_id("notice-body")).to_contain_text(
        f"“{tree[HERE].name}”已同意您转出，等待“{tree[OTHER].name}”接收"
    )
    assert_fits_phone(page)
    shot(page, "message")
    page.get_by_role("link", name="查看接转进度").tap()
    page.wait_for_url(f"{base}{reverse('portal:transfer_detail', args=[transfer.id])}")
    expect(page.locator("h1")).to_have_text("接转进度")

    page.goto(f"{base}{reverse('portal:messages')}")
    expect(page.get_by_test_id("unread-count")).to_have_text("1 条未读")
    expect(items.nth(0).locator(".badge")).to_have_count(0)
    expect(items.nth(1).locator(".badge")).to_have_text("未读")
    page.get_by_role("button", name="全部标为已读").tap()
    page.wait_for_url(re.compile(re.escape(f"{base}{reverse('portal:messages')}") + "$"))
    expect(page.get_by_test_id("unread-count")).to_have_text("没有未读消息")
    expect(page.locator(".badge")).to_have_count(0)
    assert Notice.objects.filter(read_at__isnull=True).count() == 0
    assert_fits_phone(page)
