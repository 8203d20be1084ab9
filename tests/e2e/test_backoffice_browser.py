"""The back office in a real browser: sign-in through the login form, the workbench, the organisation tree's htmx
expansion and search, the scope boundary (404), and a failed sign-in. Visible text is asserted as the user reads it."""

import re

import pytest
from playwright.sync_api import Page, expect

from gonghui.orgs.models import OrgType
from gonghui.orgs.selectors import orgs_visible_to
from gonghui.orgs.services import org_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

LOGIN_ERROR = "用户名或密码不正确，请重新输入（注意区分大小写）。"
NOT_FOUND_TITLE = "页面不存在"
NOT_FOUND_MESSAGE = "您访问的页面不存在或您无权查看。"


@pytest.fixture
def e2e_accounts(transactional_db, live_server, tree, accounts):
    """The shared fixtures, created in a transactional database the live server's thread can see."""
    return tree, accounts


def sign_in(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/admin/login/")
    expect(page).to_have_title("登录 | 数字工会平台")
    form = page.locator("#login-form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(password)
    form.get_by_role("button", name="登录").click()


def stat_value(page: Page, label: str):
    card = page.locator(".gh-stat").filter(has=page.locator(".gh-stat-label", has_text=re.compile(f"^{label}$")))
    return card.locator(".gh-stat-value")


def test_town_cadre_workbench_tree_and_search(browser_page: Page, live_server, e2e_accounts, system, actors):
    tree, _ = e2e_accounts
    page = browser_page
    base = live_server.url

    sign_in(page, base, "town_cadre")
    page.wait_for_url(f"{base}/admin/")
    expect(page).to_have_title("工作台 | 数字工会平台")
    expect(page.locator("#content h2.gh-h2")).to_have_text("双塔街道总工会")
    expect(page.locator("#content .gh-card").first).to_contain_text(
        "镇(街道)总工会 · 组织代码 SZ-GS-T01 · 行政区划 320508"
    )
    assert orgs_visible_to(actors["town_cadre"]).count() == 4
    expect(stat_value(page, "本级及下级工会组织")).to_have_text("4")
    expect(stat_value(page, "基层工会")).to_have_text("2")

    # The fixture town's children are all leaves; give its community a member union so there is a node to expand.
    org_create(
        actor=system,
        parent=tree["SZ-GS-T01-C1"],
        name="竹辉社区联合工会委员会",
        code="SZ-GS-T01-C1-J1",
        org_type=OrgType.JOINT_GRASSROOTS,
        region_code="320508",
    )

    page.locator("#nav-sidebar").get_by_role("link", name="组织树").click()
    page.wait_for_url(f"{base}/admin/orgs/tree/")
    expect(page).to_have_title("组织树 | 数字工会平台")
    expect(page.locator("#content h2.gh-h2")).to_contain_text("双塔街道总工会")
    top_level = page.locator("#content ul.gh-tree:not(.gh-subtree) > li.gh-node > a.gh-link")
    expect(top_level).to_have_text(["竹辉社区工会", "十二号公司工会委员会", "一二三公司工会委员会"])

    # Expand the community in place: the htmx fragment brings its child, the node keeps its own details.
    community = page.locator("li.gh-node").filter(has=page.get_by_role("link", name="竹辉社区工会", exact=True))
    toggle = page.get_by_role("button", name="展开 竹辉社区工会")
    subtree = community.locator(":scope > ul.gh-subtree")
    expect(subtree.locator("li")).to_have_count(0)
    with page.expect_response(lambda r: "/admin/orgs/tree/children/" in r.url) as fragment:
        toggle.click()
    assert fragment.value.status == 200
    expect(subtree.locator("> li > a.gh-link")).to_have_text(["竹辉社区联合工会委员会"])
    expect(subtree.locator("> li > span.gh-muted")).to_have_text(["联合基层工会 · SZ-GS-T01-C1-J1"])
    expect(community.locator(":scope > span.gh-muted")).to_have_text("村(社区)工会 · SZ-GS-T01-C1 · 1 个下级")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    # And collapse it again.
    toggle.click()
    expect(subtree.locator("li")).to_have_count(0)
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(community.locator(":scope > span.gh-muted")).to_have_text("村(社区)工会 · SZ-GS-T01-C1 · 1 个下级")

    # Search within scope.
    search = page.get_by_placeholder("按名称或组织代码搜索")
    results = page.locator("#gh-search-results")
    search.fill("一二三")
    expect(results.locator("li")).to_have_text(["一二三公司工会委员会 独立基层工会 · SZ-GS-T01-123"])
    result_link = results.get_by_role("link", name="一二三公司工会委员会")
    expect(result_link).to_have_attribute("href", f"/admin/orgs/tree/?org={tree['SZ-GS-T01-123'].id}")
    search.fill("工会")
    expect(results.locator("li > a")).to_have_text(
        ["双塔街道总工会", "竹辉社区工会", "十二号公司工会委员会", "一二三公司工会委员会", "竹辉社区联合工会委员会"]
    )

    # Outside the scope there is nothing, by name or by code.
    search.fill("吴中")
    expect(results).to_have_text("管辖范围内没有名称或代码匹配“吴中”的组织。")
    search.fill("SZ-WZ")
    expect(results).to_have_text("管辖范围内没有名称或代码匹配“SZ-WZ”的组织。")
    expect(page.get_by_text("吴中区总工会")).to_have_count(0)

    # Following a search result opens that organisation in the tree.
    search.fill("一二三")
    results.get_by_role("link", name="一二三公司工会委员会").click()
    page.wait_for_url(f"{base}/admin/orgs/tree/?org={tree['SZ-GS-T01-123'].id}")
    expect(page.locator("nav.gh-crumbs")).to_have_text("双塔街道总工会 › 一二三公司工会委员会")
    expect(page.locator("#content h2.gh-h2")).to_contain_text("一二三公司工会委员会")


def test_grassroots_cadre_gets_404_for_the_neighbouring_union(browser_page: Page, live_server, e2e_accounts):
    tree, _ = e2e_accounts
    page = browser_page
    base = live_server.url

    sign_in(page, base, "grassroots_cadre")
    page.wait_for_url(f"{base}/admin/")
    expect(page.locator("#content h2.gh-h2")).to_have_text("十二号公司工会委员会")

    # Its own union ("12") opens...
    response = page.goto(f"{base}/admin/orgs/tree/?org={tree['SZ-GS-T01-12'].id}")
    assert response.status == 200
    expect(page.locator("#content h2.gh-h2")).to_contain_text("十二号公司工会委员会")

    # ...the one whose code merely extends it ("123") does not exist as far as this account can tell.
    response = page.goto(f"{base}/admin/orgs/tree/?org={tree['SZ-GS-T01-123'].id}")
    assert response.status == 404
    expect(page).to_have_title(f"{NOT_FOUND_TITLE} | 数字工会平台")  # the back office's own page, not the portal's
    expect(page.locator("h1")).to_have_text(NOT_FOUND_TITLE)
    expect(page.get_by_text(NOT_FOUND_MESSAGE, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="返回工作台")).to_have_attribute("href", "/admin/")
    expect(page.get_by_text("一二三")).to_have_count(0)


def test_wrong_password_shows_the_error_and_stays_on_the_login_page(browser_page: Page, live_server, e2e_accounts):
    page = browser_page
    base = live_server.url

    sign_in(page, base, "town_cadre", "Wrong#Pass2026")
    expect(page.get_by_text(LOGIN_ERROR, exact=True)).to_be_visible()
    expect(page.get_by_text("请更正下面的错误。", exact=True)).to_be_visible()
    assert page.url == f"{base}/admin/login/"
    expect(page).to_have_title("登录 | 数字工会平台")
    expect(page.locator("#login-form input[name=username]")).to_have_value("town_cadre")
    expect(page.locator("#login-form input[name=password]")).to_have_value("")

    # Nothing behind the login opens without a session.
    page.goto(f"{base}/admin/orgs/tree/")
    assert page.url.startswith(f"{base}/admin/login/")
