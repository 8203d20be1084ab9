"""The roster import (名册导入) in a real browser: a grassroots cadre uploads a generated .xlsx roster of a few hundred
rows, mixing valid rows with refused ones (wrong check digit, an ID that Excel turned into scientific notation, no
name), people listed twice and a member of another union. The job page shows it queued, then follows it over htmx
to 100% while the database worker runs it; the summary counts, the database, the per-row table and the downloaded
error report (exactly the failed rows, with 原行号 and 问题说明) all agree with what the file holds. A preview
(预览) writes nothing and says so.

The test settings run tasks immediately, inside the upload request; the first test switches to the database task
backend the deployment uses and runs the queued task with django-tasks-db's worker in the test thread, so the
browser sees the job waiting and then moves on by itself. While the worker runs, the page's htmx polls are held in
the browser (released afterwards, unchanged): the test thread and the live server then never use the test
database at the same time.
"""

import io
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from playwright.sync_api import Page, Route, expect
from python_calamine import CalamineWorkbook
from stdnum.cn import ric

from gonghui.demo.people import WorkerFactory
from gonghui.demo.rosters import HEADINGS, roster_row, roster_xlsx
from gonghui.jobs.models import JobRun, JobStatus
from gonghui.members.models import ImportOutcome, Membership, MembershipStatus, Person, RosterImportRow
from tests.conftest import _reset_task_backends
from tests.e2e.test_backoffice_browser import sign_in
from tests.members.factories import enrol

pytestmark = pytest.mark.browser

HERE = "SZ-GS-T01-12"  # 十二号公司工会委员会, the grassroots cadre's own union
ELSEWHERE = "SZ-WZ-T01-E1"
UNIT = "十二号有限公司"
TITLE = "十二号有限公司工会会员信息登记表"
FIRST_LINE = 3  # line 1 is the title, line 2 the header
DATA_ROWS = 300
LABELS = dict(ImportOutcome.choices)
SUMMARY_KEYS = ("rows", "added", "updated", "unchanged", "conflict", "duplicate", "error")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SCREENSHOTS = Path(django_settings.BASE_DIR) / "var" / "test-output" / "e2e"

# Where the problems sit, as indexes into the data rows (line = index + FIRST_LINE).
WRONG_CHECK_DIGIT = (17, 141, 260)
SCIENTIFIC = {58: "3.20506E+17", 199: "3.2050619900101E+17"}
NO_NAME = (93, 222)
REPEATS = {120: 5, 287: 100}  # index -> index of the earlier row listing the same person
OTHER_UNION = 175


@pytest.fixture
def e2e_accounts(transactional_db, live_server, tree, accounts):
    """The shared fixtures, created in a transactional database the live server's thread can see."""
    return tree, accounts


@pytest.fixture
def database_tasks(settings):
    """Queue background jobs in the database, as deployed, instead of running them inside the request."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    _reset_task_backends()


def run_queued_tasks() -> None:
    """What `manage.py db_worker --batch` runs: every queued task, then return (without the command's signal
    handlers and logging setup, which would outlive the test)."""
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="e2e-import",
        excluded_queue_names=[],
    ).run()


def wrong_check(number: str) -> str:
    right = ric.calc_check_digit(number[:17] + "0")
    return number[:17] + next(c for c in "0123456789X" if c != right)


def line_of(index: int) -> int:
    return index + FIRST_LINE


def build_roster(system, tree) -> tuple[list[list[str]], dict[int, tuple[str, str]]]:
    """DATA_ROWS roster rows and, for every row that must not be added, its line -> (status, reason or part of it).
    The member of another union is enrolled there first."""
    factory = WorkerFactory(2026, timezone.localdate())
    people = [factory.worker(UNIT) for _ in range(DATA_ROWS)]
    rows = [roster_row(index + 1, person) for index, person in enumerate(people)]
    expected: dict[int, tuple[str, str]] = {}
    for index in WRONG_CHECK_DIGIT:
        rows[index][HEADINGS.index("证件号码")] = wrong_check(people[index].doc_number)
        expected[line_of(index)] = ("error", "校验位不正确")
    for index, text in SCIENTIFIC.items():
        rows[index][HEADINGS.index("证件号码")] = text
        expected[line_of(index)] = ("error", "科学计数法")
    for index in NO_NAME:
        rows[index][HEADINGS.index("姓名")] = ""
        expected[line_of(index)] = ("error", "姓名不能为空")
    for index, first in REPEATS.items():
        rows[index] = roster_row(index + 1, people[first])
        lines = f"{line_of(first)}、{line_of(index)}"
        expected[line_of(index)] = ("duplicate", f"第{lines}行是同一人（证件号码相同），只导入第{line_of(first)}行")
    elsewhere = people[OTHER_UNION]
    enrol(system, tree[ELSEWHERE], name=elsewhere.name, number=elsewhere.doc_number, work_unit="木渎光电有限公司")
    expected[line_of(OTHER_UNION)] = ("conflict", "该人员已是其他工会会员")
    return rows, expected


def expected_summary(expected: dict[int, tuple[str, str]]) -> dict[str, int]:
    statuses = [status for status, _ in expected.values()]
    counts = {key: statuses.count(key) for key in ("updated", "unchanged", "conflict", "duplicate", "error")}
    return {"rows": DATA_ROWS, "added": DATA_ROWS - len(statuses), **counts}


def summary_message(counts: dict[str, int]) -> str:
    labels = {"added": "新增", "updated": "更新", "unchanged": "无变化", "conflict": "他会会员"}
    labels |= {"duplicate": "文件内重复", "error": "有错误"}
    return f"共{counts['rows']}行：" + "，".join(f"{label}{counts[key]}行" for key, label in labels.items())


def report_cell(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def open_import_form(page: Page, base: str) -> list[str]:
    """Sign in as the grassroots cadre and open 名册导入 from the sidebar; returns the list the page's script errors
    are collected in."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # The live server's first answer imports the whole URLconf (seconds on a loaded machine): not what is tested.
    page.request.get(f"{base}/admin/login/", timeout=120_000)
    sign_in(page, base, "grassroots_cadre")
    page.wait_for_url(f"{base}/admin/")
    page.locator("#nav-sidebar").get_by_role("link", name="名册导入").click()
    page.wait_for_url(f"{base}/admin/registry/import/")
    expect(page).to_have_title("导入会员名册 | 数字工会平台")
    expect(page.get_by_label("导入到基层工会（工会代码）")).to_have_value(HERE)
    expect(page.get_by_label("预览（不写入）")).to_be_checked()  # the safe choice is the default
    return errors


def upload(page: Page, name: str, content: bytes) -> None:
    page.get_by_label("名册文件").set_input_files(files=[{"name": name, "mimeType": XLSX, "buffer": content}])
    expect(page.get_by_label("导入到基层工会（工会代码）")).to_have_value(HERE)  # choosing a file leaves it alone
    page.get_by_role("button", name="上传并开始").click()


def test_cadre_imports_a_roster_watches_the_progress_and_downloads_the_error_report(
    browser_page: Page, live_server, e2e_accounts, system, database_tasks
):
    tree, _ = e2e_accounts
    page = browser_page
    base = live_server.url
    rows, expected = build_roster(system, tree)
    counts = expected_summary(expected)
    assert counts == {
        "rows": 300, "added": 290, "updated": 0, "unchanged": 0, "conflict": 1, "duplicate": 2, "error": 7,
    }  # fmt: skip
    memberships_before = Membership.objects.count()

    # htmx polls of the job page wait in the browser until the worker is done (see the module docstring).
    held: list[Route] = []
    polls: list[str] = []
    released = False

    def hold_polls(route: Route) -> None:
        if route.request.headers.get("hx-request") != "true":
            route.continue_()
            return
        polls.append(route.request.url)
        if released:
            route.continue_()
        else:
            held.append(route)

    page.route(re.compile(r"/admin/registry/import/[0-9a-zA-Z_-]+/$"), hold_polls)

    script_errors = open_import_form(page, base)
    page.get_by_label("仅新增").check()
    upload(page, "会员名册.xlsx", roster_xlsx(rows, title=TITLE))

    # Queued: the upload request stored the file and queued the task; nothing is imported yet.
    page.wait_for_url(re.compile(rf"{re.escape(base)}/admin/registry/import/[^/]+/$"))
    job = JobRun.objects.get(kind="roster_import")
    assert page.url == f"{base}/admin/registry/import/{job.id}/"
    expect(page).to_have_title("导入会员名册：十二号公司工会委员会（仅新增） | 数字工会平台")
    progress = page.locator("#gh-import")
    expect(progress.locator("#gh-import-status")).to_have_text("排队中")
    expect(progress.locator("#gh-import-percent")).to_have_text("0")
    expect(progress.get_by_role("progressbar", name="导入进度")).to_have_attribute("aria-valuenow", "0")
    expect(progress).to_have_attribute("hx-trigger", "every 1s")
    expect(progress.get_by_role("button", name="取消导入")).to_be_visible()
    expect(page.locator("#gh-import-summary")).to_have_count(0)
    assert job.status == JobStatus.QUEUED
    assert Membership.objects.count() == memberships_before
    page.evaluate("window.ghSamePage = true")  # gone if the page were reloaded

    run_queued_tasks()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    released = True
    for route in held:
        route.continue_()

    # The page follows the job by itself to 100% and the finished state.
    expect(progress.locator("#gh-import-percent")).to_have_text("100")
    expect(progress.locator("p.gh-muted").first).to_have_text(f"已处理 {DATA_ROWS} / {DATA_ROWS} 行（100%）")
    expect(progress.get_by_role("progressbar", name="导入进度")).to_have_attribute("aria-valuenow", "100")
    expect(progress.locator(".gh-progress > div")).to_have_attribute("style", "width: 100%;")  # set by backoffice.js
    expect(progress.locator("#gh-import-status")).to_have_text("已完成")
    expect(page.locator("#gh-import[hx-trigger]")).to_have_count(0)  # polling stopped
    expect(progress.get_by_role("button", name="取消导入")).to_have_count(0)
    assert page.evaluate("window.ghSamePage") is True
    assert polls and all(url == f"{base}/admin/registry/import/{job.id}/" for url in polls)

    # The summary, as counted from the file.
    cells = page.locator("#gh-import-summary tbody td")
    expect(cells).to_have_text([str(counts[key]) for key in SUMMARY_KEYS])
    expect(page.locator("#gh-import-message")).to_have_text(summary_message(counts))
    assert job.result["summary"] == counts

    # The database: exactly the added people became members here; the other union's member stayed there.
    assert Membership.objects.count() - memberships_before == counts["added"]
    here = Membership.objects.filter(org=tree[HERE], status=MembershipStatus.ACTIVE)
    assert here.count() == counts["added"]
    assert Person.objects.count() == Membership.objects.count()
    outcomes = dict(RosterImportRow.objects.filter(job=job).values_list("line", "status"))
    assert outcomes == {line: status for line, (status, _) in expected.items()}
    elsewhere = Membership.objects.get(org=tree[ELSEWHERE])
    assert elsewhere.status == MembershipStatus.ACTIVE
    assert not Membership.objects.filter(person=elsewhere.person).exclude(pk=elsewhere.pk).exists()

    # The error report downloads and holds exactly the failed rows, as uploaded, with their line and reason.
    link = progress.locator("#gh-error-report")
    expect(link).to_have_attribute("href", f"/admin/jobs/{job.id}/download/")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert re.fullmatch(rf"导入问题清单_{HERE}_\d{{12}}\.xlsx", download.suggested_filename)
    with open(download.path(), "rb") as handle:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(handle.read())).get_sheet_by_index(0).to_python()
    assert report_cell(sheet[0][0]).startswith(f"导入问题清单：共{len(expected)}行未导入")
    headings = [report_cell(cell) for cell in sheet[1]]
    assert headings == [*HEADINGS, "原行号", "问题说明"]
    line_at, reason_at = headings.index("原行号"), headings.index("问题说明")
    report = [[report_cell(cell) for cell in row] for row in sheet[2:] if any(c not in (None, "") for c in row)]
    assert [int(row[line_at]) for row in report] == sorted(expected)
    reasons = dict(RosterImportRow.objects.filter(job=job).values_list("line", "reason"))
    for row in report:
        line = int(row[line_at])
        status, reason = expected[line]
        assert row[:line_at] == rows[line - FIRST_LINE]
        assert row[reason_at] == f"【{LABELS[status]}】{reasons[line]}"
        assert reason in reasons[line]

    # The full page lists the same rows with their outcome.
    progress.get_by_role("link", name="查看逐行结果").click()
    page.wait_for_url(f"{base}/admin/registry/import/{job.id}/")
    table = page.locator("#gh-import-rows tbody tr")
    expect(table.locator("td:nth-child(1)")).to_have_text([str(line) for line in sorted(expected)])
    expect(table.locator("td:nth-child(3)")).to_have_text([LABELS[expected[line][0]] for line in sorted(expected)])
    expect(page.get_by_role("button", name="为 1 名他会会员一键发起会员接转")).to_be_visible()
    expect(page.locator("#gh-import-percent")).to_have_text("100")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "roster-import-finished.png"), full_page=True)
    assert script_errors == []


def test_a_preview_writes_nothing_and_says_so(browser_page: Page, live_server, e2e_accounts, system):
    tree, _ = e2e_accounts
    page = browser_page
    base = live_server.url
    factory = WorkerFactory(2027, timezone.localdate())
    people = [factory.worker(UNIT) for _ in range(6)]
    rows = [roster_row(index + 1, person) for index, person in enumerate(people)]
    rows[2][HEADINGS.index("证件号码")] = "3.20506E+17"
    enrol(system, tree[ELSEWHERE], name=people[4].name, number=people[4].doc_number)
    before = (Person.objects.count(), Membership.objects.count())

    script_errors = open_import_form(page, base)
    upload(page, "预览.xlsx", roster_xlsx(rows))  # the default mode, 预览（不写入）

    page.wait_for_url(re.compile(rf"{re.escape(base)}/admin/registry/import/[^/]+/$"))
    expect(page).to_have_title("导入会员名册：十二号公司工会委员会（预览（不写入）） | 数字工会平台")
    expect(page.locator("#gh-import-percent")).to_have_text("100")
    expect(page.locator("#gh-import-status")).to_have_text("已完成")
    counts = {"rows": 6, "added": 4, "updated": 0, "unchanged": 0, "conflict": 1, "duplicate": 0, "error": 1}
    expect(page.locator("#gh-import-message")).to_have_text("预览结果（未写入）：" + summary_message(counts))
    expect(page.locator("#gh-import-summary tbody td")).to_have_text([str(counts[key]) for key in SUMMARY_KEYS])
    expect(page.get_by_role("button", name=re.compile("一键发起会员接转"))).to_have_count(0)
    assert (Person.objects.count(), Membership.objects.count()) == before
    assert not Membership.objects.filter(org=tree[HERE]).exists()

    # 导入此文件: the previewed file is imported without choosing it again.
    preview_url = page.url
    form = page.locator("#gh-import-previewed")
    expect(form.get_by_label("仅新增")).to_be_checked()
    form.get_by_role("button", name="导入此文件").click()
    page.wait_for_url(re.compile(rf"{re.escape(base)}/admin/registry/import/[^/]+/$"))
    assert page.url != preview_url
    expect(page).to_have_title("导入会员名册：十二号公司工会委员会（仅新增） | 数字工会平台")
    expect(page.locator("#gh-import-status")).to_have_text("已完成")
    expect(page.locator("#gh-import-message")).to_have_text(summary_message(counts))
    assert Membership.objects.filter(org=tree[HERE]).count() == 4
    page.goto(preview_url)
    expect(page.locator("#gh-import-previewed")).to_have_count(0)
    expect(page.get_by_role("link", name="查看导入结果")).to_be_visible()
    assert script_errors == []
