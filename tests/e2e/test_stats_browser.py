"""The 驾驶舱 (statistics dashboard) in a real browser: a district cadre opens it from the sidebar and reads figures
that are known exactly, drills down to a town, re-sorts the ranking, switches to the quarter and downloads the
会员统计表.

Six members are enrolled with known join dates, relative to today so the test holds on any day: five in two unions
of 双塔街道 (one joined two years ago, one in January last year, one on 1 January this year and two on the 1st of this
month) and one in 沧浪街道 (1 January this year). The headline cards (with the year-earlier comparison in words), the
monthly trend table and the line chart that unfold's bundled Chart.js draws from the same numbers, the 性别 breakdown
and the ranking of child organisations are checked against figures computed here from those dates; the page must
raise no script errors. The .xlsx comes back through the browser's download and is read with python-calamine.

The second test checks that from the default view, choosing 期间=季度 alone shows the quarter that is running.

Screenshots: var/test-output/e2e/stats-*.png.
"""

import io
import re
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from playwright.sync_api import Page, expect
from python_calamine import CalamineWorkbook

from gonghui.stats.periods import month_end
from tests.e2e.test_backoffice_browser import sign_in
from tests.members.factories import enrol

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(django_settings.BASE_DIR) / "var" / "test-output" / "e2e"
TOWN, TOWN_NAME = "SZ-GS-T01", "双塔街道总工会"
DISTRICT_NAME = "姑苏区总工会"
OTHER_TOWN_NAME = "沧浪街道总工会"
UNION_12, UNION_12_NAME = "SZ-GS-T01-12", "十二号公司工会委员会"
UNION_123, UNION_123_NAME = "SZ-GS-T01-123", "一二三公司工会委员会"
COMMUNITY_NAME = "竹辉社区工会"
TREND_HEADINGS = ["月份", "期末会员数", "新入会", "接转转入", "接转转出", "退会及注销"]


@pytest.fixture
def e2e_accounts(transactional_db, live_server, tree, accounts):
    """The shared fixtures, created in a transactional database the live server's thread can see."""
    return tree, accounts


def roster(today: date) -> list[tuple[str, str, int, date]]:
    """(name, union code, resident-ID sequence, join date): odd sequences are men, even ones women."""
    this_month = today.replace(day=1)
    return [
        ("张伟", UNION_12, 11, date(today.year - 2, 6, 1)),
        ("李娜", UNION_12, 12, date(today.year - 1, 1, 5)),
        ("王芳", UNION_12, 14, this_month),
        ("刘洋", UNION_123, 13, date(today.year, 1, 1)),
        ("陈静", UNION_123, 16, this_month),
        ("赵磊", "SZ-GS-T02-E1", 15, date(today.year, 1, 1)),
    ]


def compared(now: int, before: int) -> str:
    """The card's note, as the page words it (only increases occur here)."""
    assert now > before > 0
    return f"比上年同期增加 {now - before:,} 人（+{(now - before) * 100 / before:.1f}%）"


def card(page: Page, label: str):
    return page.locator(".gh-stat").filter(has=page.locator(".gh-stat-label", has_text=re.compile(f"^{label}$")))


def section(page: Page, heading: str):
    return page.locator("section.gh-card").filter(has=page.locator("h3", has_text=re.compile(f"^{heading}$")))


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"stats-{name}.png"), full_page=True)


def cell(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def test_district_cadre_reads_drills_down_sorts_and_exports(browser_page: Page, live_server, e2e_accounts, system):
    tree, _ = e2e_accounts
    page = browser_page
    base = live_server.url
    today = timezone.localdate()
    year, quarter = today.year, (today.month - 1) // 3 + 1
    people = roster(today)
    for name, code, seq, joined in people:
        enrol(system, tree[code], name=name, seq=seq, joined_on=joined)

    def joined_in(codes, start: date, end: date) -> int:
        return sum(1 for _, code, _, on in people if code in codes and start <= on <= end)

    def members_by(codes, day: date) -> int:
        return joined_in(codes, date.min, day)

    everyone = {code for _, code, _, _ in people}
    in_town = {UNION_12, UNION_123}
    year_start, now_end = date(year, 1, 1), month_end(today)
    # The year-earlier stretch: January to this month, a year ago.
    before_start, before_end = date(year - 1, 1, 1), month_end(date(year - 1, today.month, 1))

    # Script errors and console errors, but for the browser's own request for /favicon.ico (the site names none).
    problems: list[str] = []

    def console(message) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            problems.append(f"{message.text} ({message.location.get('url')})")

    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    page.on("console", console)

    # ---- The district's 驾驶舱, opened from the sidebar: the current year by default.
    sign_in(page, base, "district_cadre")
    page.wait_for_url(f"{base}/admin/")
    page.locator("#nav-sidebar").get_by_role("link", name="驾驶舱").click()
    page.wait_for_url(f"{base}/admin/stats/")
    expect(page).to_have_title("驾驶舱 | 数字工会平台")
    expect(page.locator("#content h2.gh-h2")).to_have_text(f"{DISTRICT_NAME} · 驾驶舱 · {year}年")
    expect(page.locator("#content .gh-muted").first).to_contain_text(
        f"对比上年同期 {year - 1}年01月至{year - 1}年{today.month:02d}月"
    )

    members, members_before = members_by(everyone, now_end), members_by(everyone, before_end)
    joined, joined_before = joined_in(everyone, year_start, now_end), joined_in(everyone, before_start, before_end)
    assert (members, members_before, joined, joined_before) == (6, 2, 4, 1)
    expect(card(page, "会员总数").locator(".gh-stat-value")).to_have_text(f"{members} 人")
    expect(card(page, "会员总数").locator(".gh-muted")).to_have_text(compared(members, members_before))
    expect(card(page, "期间新入会").locator(".gh-stat-value")).to_have_text(f"{joined} 人")
    expect(card(page, "期间新入会").locator(".gh-muted")).to_have_text(compared(joined, joined_before))
    expect(card(page, "期间净增").locator(".gh-stat-value")).to_have_text(f"+{joined} 人")
    expect(card(page, "期间净增").locator(".gh-muted")).to_have_text("转入 0，转出 0，退会及注销 0")
    expect(card(page, "女职工会员").locator(".gh-stat-value")).to_have_text("3 人")
    # Nothing declared, never checked, no employers: the rates say so instead of showing 0%.
    expect(card(page, "入库率").locator(".gh-stat-value")).to_have_text("—")
    expect(card(page, "准确率").locator(".gh-muted")).to_have_text("通过核查 0 人；尚未核查")

    # The monthly trend: one row per month from January to this one, members at its end and its joins.
    months = [date(year, m, 1) for m in range(1, today.month + 1)]
    expected_trend = [
        (month, members_by(everyone, month_end(month)), joined_in(everyone, month, month_end(month)))
        for month in months
    ]
    trend = section(page, "月度趋势")
    expect(trend.locator("thead th")).to_have_text(TREND_HEADINGS)
    expect(trend.locator("tbody tr")).to_have_count(len(months))
    expect(trend.locator("tbody tr").last.locator("td")).to_have_text(
        [f"{year}年{today.month}月", str(members), str(expected_trend[-1][2]), "0", "0", "0"]
    )
    expect(trend.locator("tbody tr").first.locator("td")).to_have_text(
        [f"{year}年1月", str(expected_trend[0][1]), str(expected_trend[0][2]), "0", "0", "0"]
    )

    # The trend chart: Chart.js took the canvas and drew the same numbers on it.
    page.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('canvas.chart'))")
    drawn = page.evaluate(
        """() => {
            const canvas = document.querySelector("canvas.chart");
            const chart = Chart.getChart(canvas);
            const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0;
            for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) painted++;
            return {
                type: chart.config.type,
                labels: chart.data.labels,
                series: chart.data.datasets.map((d) => [d.label, d.data]),
                width: canvas.width,
                painted,
                charts: [...document.querySelectorAll("canvas.chart")].filter((c) => Chart.getChart(c)).length,
            };
        }"""
    )
    assert drawn["type"] == "line"
    assert drawn["labels"] == [f"{m:%Y年%m月}" for m in months]
    assert drawn["series"] == [
        ["期末会员数", [n for _, n, _ in expected_trend]],
        ["新入会", [j for _, _, j in expected_trend]],
        ["退会及注销", [0] * len(months)],
    ]
    assert drawn["width"] > 0 and drawn["painted"] > 1000, drawn
    assert drawn["charts"] == 4  # the trend and the three breakdowns

    sex = section(page, "会员构成（截至今日）").locator("div").filter(has=page.locator("h4", has_text="性别"))
    expect(sex.locator("tbody tr").first.locator("td")).to_have_text(["男", "3 人", "50.0%"])
    expect(sex.locator("tbody tr").nth(1).locator("td")).to_have_text(["女", "3 人", "50.0%"])

    ranking = section(page, "下级组织排名")
    expect(ranking.locator("thead th").nth(1)).to_have_text("会员数 ▼")
    expect(ranking.locator("tbody tr td:first-child")).to_have_text([TOWN_NAME, OTHER_TOWN_NAME])
    town_joined = joined_in(in_town, year_start, now_end)
    expect(ranking.locator("tbody tr").first.locator("td")).to_have_text(
        [TOWN_NAME, "5", str(town_joined), str(town_joined), "0", "—", "—", "—", "—"]
    )
    expect(ranking.locator("tbody tr").nth(1).locator("td")).to_have_text(
        [OTHER_TOWN_NAME, "1", "1", "1", "0", "—", "—", "—", "—"]
    )
    shot(page, "district")

    # ---- Drill down to the town: its own name and figures.
    ranking.get_by_role("link", name=TOWN_NAME, exact=True).click()
    page.wait_for_url(f"{base}/admin/stats/?org={TOWN}&period=year&year={year}&sort=members")
    expect(page.locator("#content h2.gh-h2")).to_have_text(f"{TOWN_NAME} · 驾驶舱 · {year}年")
    expect(page.locator("nav.gh-crumbs")).to_have_text(f"{DISTRICT_NAME} › {TOWN_NAME}")
    town_members, town_before = members_by(in_town, now_end), members_by(in_town, before_end)
    town_joined_before = joined_in(in_town, before_start, before_end)
    assert (town_members, town_before, town_joined, town_joined_before) == (5, 2, 3, 1)
    expect(card(page, "会员总数").locator(".gh-stat-value")).to_have_text(f"{town_members} 人")
    expect(card(page, "会员总数").locator(".gh-muted")).to_have_text(compared(town_members, town_before))
    expect(card(page, "期间新入会").locator(".gh-stat-value")).to_have_text(f"{town_joined} 人")
    expect(card(page, "期间新入会").locator(".gh-muted")).to_have_text(compared(town_joined, town_joined_before))
    expect(trend.locator("tbody tr").last.locator("td").nth(1)).to_have_text(str(town_members))

    # The town's unions, largest first; 新入会 re-sorts them: "123" joined two this year, "12" one.
    names = ranking.locator("tbody tr td:first-child")
    expect(names).to_have_text([UNION_12_NAME, UNION_123_NAME, COMMUNITY_NAME])
    expect(ranking.locator("tbody tr td:nth-child(2)")).to_have_text(["3", "2", "0"])
    ranking.locator("thead").get_by_role("link", name="新入会", exact=True).click()
    page.wait_for_url(f"{base}/admin/stats/?org={TOWN}&period=year&year={year}&sort=joined")
    expect(ranking.locator("thead th").nth(2)).to_have_text("新入会 ▼")
    expect(ranking.locator("thead th").nth(1)).to_have_text("会员数")
    expect(names).to_have_text([UNION_123_NAME, UNION_12_NAME, COMMUNITY_NAME])
    expect(ranking.locator("tbody tr td:nth-child(3)")).to_have_text(["2", "1", "0"])
    shot(page, "town-by-joined")

    # ---- The current quarter, chosen explicitly (the form's default is checked by the second test).
    form = page.get_by_role("form", name="统计期间")
    form.locator("select[name=period]").select_option(label="季度")
    form.locator("select[name=quarter]").select_option(label=f"第{quarter}季度")
    form.get_by_role("button", name="查询").click()
    page.wait_for_url(re.compile(re.escape(f"{base}/admin/stats/?") + r".*period=quarter"))
    quarter_label = f"{year}年第{quarter}季度"
    expect(page.locator("#content h2.gh-h2")).to_have_text(f"{TOWN_NAME} · 驾驶舱 · {quarter_label}")
    expect(ranking.locator("thead th").nth(2)).to_have_text("新入会 ▼")  # the sort is kept
    quarter_start = date(year, 3 * quarter - 2, 1)
    quarter_joined = joined_in(in_town, quarter_start, now_end)
    expect(card(page, "会员总数").locator(".gh-stat-value")).to_have_text(f"{town_members} 人")
    expect(card(page, "期间新入会").locator(".gh-stat-value")).to_have_text(f"{quarter_joined} 人")
    quarter_months = [m for m in months if m >= quarter_start]
    expect(trend.locator("tbody tr td:first-child")).to_have_text([f"{year}年{m.month}月" for m in quarter_months])
    shot(page, "town-quarter")

    # ---- 会员统计表 of the town for that quarter, through the browser's download.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="导出会员统计表（Excel）").click()
    download = download_info.value
    assert download.suggested_filename == f"{TOWN_NAME}会员统计表（{quarter_label}）.xlsx"
    with open(download.path(), "rb") as handle:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(handle.read())).get_sheet_by_index(0).to_python()
    assert cell(sheet[0][0]) == f"{TOWN_NAME}会员统计表"
    assert cell(sheet[1][0]) == f"填报单位：{TOWN_NAME}"
    assert [cell(v) for v in sheet[2][:4]] == ["单位", "期末会员数（人）", "上年同期（人）", "新入会（人）"]
    by_unit = {cell(row[0]): [cell(v) for v in row[1:4]] for row in sheet[3:] if row and cell(row[0])}
    assert by_unit[UNION_12_NAME][0] == "3" and by_unit[UNION_123_NAME][0] == "2"
    # 合计: members at the end of the quarter (today's month, while it runs), a year earlier, joins in the quarter.
    assert by_unit["合计"] == [str(town_members), str(town_before), str(quarter_joined)]
    assert [cell(row[0]) for row in sheet[3:7]] == [COMMUNITY_NAME, UNION_12_NAME, UNION_123_NAME, "合计"]

    assert problems == []


def test_choosing_the_quarter_period_alone_shows_the_current_quarter(browser_page: Page, live_server, e2e_accounts):
    """From the default view, 期间=季度 and 查询 show the quarter that is running (the form's own choice)."""
    page = browser_page
    base = live_server.url
    today = timezone.localdate()
    sign_in(page, base, "district_cadre")
    page.wait_for_url(f"{base}/admin/")
    page.goto(f"{base}/admin/stats/")
    form = page.get_by_role("form", name="统计期间")
    form.locator("select[name=period]").select_option(label="季度")
    form.get_by_role("button", name="查询").click()
    page.wait_for_url(re.compile(re.escape(f"{base}/admin/stats/?") + r".*period=quarter"))
    label = f"{today.year}年第{(today.month - 1) // 3 + 1}季度"
    expect(page.locator("#content h2.gh-h2")).to_have_text(f"{DISTRICT_NAME} · 驾驶舱 · {label}", timeout=2_000)


CHART_GEOMETRY = """() => {
    const textBox = (chart, item) => {
        const ctx = chart.ctx;
        ctx.save();
        ctx.font = item.font.string;
        const width = ctx.measureText(String(item.label)).width;
        ctx.restore();
        const [x, y] = item.options.translation;
        const align = item.options.textAlign;
        const left = align === "center" ? x - width / 2 : align === "right" ? x - width : x;
        return {label: String(item.label), left, right: left + width, y, rotation: item.options.rotation};
    };
    return [...document.querySelectorAll("canvas.chart")].map((canvas) => {
        const chart = Chart.getChart(canvas);
        const bar = chart.config.type === "bar";
        const categories = bar ? chart.scales.y : chart.scales.x;
        return {
            type: chart.config.type,
            width: chart.width,
            height: chart.height,
            labels: chart.data.labels.length,
            drawn: categories.getLabelItems().map((item) => textBox(chart, item)),
            bars: bar ? chart.getDatasetMeta(0).data.map((element) => {
                const p = element.getProps(["x", "y", "base", "width", "height", "horizontal"], true);
                const length = Math.abs((p.horizontal ? p.x : p.y) - p.base);
                return {thickness: p.horizontal ? p.height : p.width, length};
            }) : [],
        };
    });
}"""


def test_every_bar_is_a_bar_and_every_label_is_inside_its_chart(browser_page: Page, live_server, e2e_accounts, system):
    """The breakdown bars are drawn at least 8 px thick and 3 px long (a category of nobody too), each with its label;
    the trend's month labels of a whole year lie inside the canvas, level; on a desktop and on a phone's width."""
    tree, _ = e2e_accounts
    page = browser_page
    base = live_server.url
    last_year = timezone.localdate().year - 1
    for seq, month in ((21, 1), (22, 3), (24, 7), (23, 11)):
        enrol(system, tree[UNION_12], name=f"会员{'甲乙丙丁'[seq - 21]}", seq=seq, joined_on=date(last_year, month, 2))
    # The live server's first answer imports the whole URLconf (seconds on a loaded machine): not what is measured.
    page.request.get(f"{base}/admin/login/", timeout=120_000)
    sign_in(page, base, "district_cadre")
    page.wait_for_url(f"{base}/admin/")
    ready = (
        "() => window.Chart && document.querySelectorAll('canvas.chart').length === 4"
        " && [...document.querySelectorAll('canvas.chart')].every((c) => Chart.getChart(c))"
    )
    for width, height in ((1280, 900), (360, 740)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{base}/admin/stats/?org=SZ-GS&period=year&year={last_year}")
        page.wait_for_function(ready)
        charts = page.evaluate(CHART_GEOMETRY)
        assert [c["type"] for c in charts] == ["line", "bar", "bar", "bar"]
        trend, *bars = charts
        assert trend["labels"] == 12
        assert len(trend["drawn"]) >= 2, trend  # thinned out on a narrow screen, never all gone
        months = trend["drawn"]
        for before, after in zip(months, months[1:], strict=False):
            assert before["right"] + 8 <= after["left"], (width, months)  # apart, not run together
        for chart in charts:
            assert chart["width"] > 0 and chart["height"] > 0
            for label in chart["drawn"]:
                assert label["rotation"] == 0, (width, label)
                assert label["left"] >= 0 and label["right"] <= chart["width"], (width, chart["type"], label)
                assert 0 <= label["y"] <= chart["height"], (width, chart["type"], label)
        for chart in bars:
            assert len(chart["drawn"]) == chart["labels"], (width, chart)  # every category named
            assert len(chart["bars"]) == chart["labels"]
            for bar in chart["bars"]:
                assert bar["thickness"] >= 8, (width, chart["bars"])
                assert bar["length"] >= 3, (width, chart["bars"])
        shot(page, f"charts-{width}")
