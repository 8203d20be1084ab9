"""入库率 never over 100%: a union holding more members than its declared 实有会员数 reads 实有会员数待更新 in the
dashboard, the ranking, the annual statistics, the data-quality summary and the API; a subtree counts each union at
most at its declaration. After an import that takes a union past its declaration, the import's page offers to
record the new figure, to a role that may record it."""

import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from gonghui.audit.models import AuditEvent
from gonghui.demo.people import WorkerFactory
from gonghui.demo.rosters import roster_row, roster_xlsx
from gonghui.imports.roster import roster_import_request, roster_import_run
from gonghui.jobs.models import JobStatus
from gonghui.members.figures import declared_behind
from gonghui.members.models import DeclaredTotal
from gonghui.members.quality import quality_summary
from gonghui.members.services import declared_total_record
from gonghui.stats.periods import period_from
from gonghui.stats.selectors import dashboard, founding_table
from gonghui.stats.summary import annual_summary
from tests.members.factories import enrol

pytestmark = pytest.mark.django_db

E12, E123, C1, T01, GS = "SZ-GS-T01-12", "SZ-GS-T01-123", "SZ-GS-T01-C1", "SZ-GS-T01", "SZ-GS"
FLAG = "实有会员数待更新"


@pytest.fixture
def declared(tree, system):
    """Union 12 declared 3 and holds 5 (5/3 would be 166.7%); union 123 declared 10 and holds 4 (40.0%).
    Town T01: 9 registered against 13 declared; union 12 counts at most its 3, so (3 + 4) / 13 = 53.8%."""
    declared_total_record(actor=system, org=tree[E12], total=3)
    declared_total_record(actor=system, org=tree[E123], total=10)
    for seq, name in enumerate("甲乙丙丁戊"):
        enrol(system, tree[E12], name=f"十二{name}", seq=100 + seq)
    for seq, name in enumerate("子丑寅卯"):
        enrol(system, tree[E123], name=f"一二三{name}", seq=200 + seq)
    return tree


def board(actors, tree, username, code, sort="members"):
    today = timezone.localdate()
    return dashboard(
        actor=actors[username], org=tree[code], period=period_from({}, today=today), today=today, sort=sort
    )


def test_a_union_over_its_declaration_has_no_rate_but_the_flag(declared, actors):
    rates = board(actors, declared, "grassroots_cadre", E12).rates
    assert (rates.coverage, rates.coverage_flag, rates.stale_unions) == (None, FLAG, 1)
    assert (rates.registered_in_declared, rates.declared_total) == (5, 3)


def test_a_subtree_counts_each_union_at_most_at_its_declaration(declared, actors):
    rates = board(actors, declared, "town_cadre", T01).rates
    assert (rates.coverage, rates.coverage_flag, rates.stale_unions) == (Decimal("53.8"), FLAG, 1)
    assert (rates.registered_in_declared, rates.declared_total, rates.declared_unions) == (9, 13, 2)
    district = board(actors, declared, "district_cadre", GS).rates
    assert (district.coverage, district.stale_unions) == (Decimal("53.8"), 1)


def test_the_ranking_puts_the_flagged_union_after_those_with_a_rate(declared, actors):
    children = board(actors, declared, "town_cadre", T01, sort="coverage").children
    got = [(row.org.code, row.rates.coverage, row.rates.coverage_flag) for row in children]
    # No rate over 100% is ranked: union 12 goes with the unions without a rate, in tree order.
    assert got == [(E123, Decimal("40.0"), ""), (C1, None, ""), (E12, None, FLAG)]


def test_no_rate_over_100_once_the_figure_is_updated(declared, actors, system):
    declared_total_record(actor=system, org=declared[E12], total=5)
    rates = board(actors, declared, "grassroots_cadre", E12).rates
    assert (rates.coverage, rates.coverage_flag, rates.stale_unions) == (Decimal("100.0"), "", 0)
    town = board(actors, declared, "town_cadre", T01).rates
    assert (town.coverage, town.coverage_flag) == (Decimal("60.0"), "")  # 9 / 15


def test_the_dashboard_card_and_the_ranking_cell(declared, login):
    page = login("grassroots_cadre").get(reverse("admin:stats_dashboard")).content.decode()
    card = re.search(
        r'<div class="gh-stat-label">入库率</div><div class="gh-stat-value">([^<]*)</div>'
        r'<div class="gh-muted">([^<]*)</div>',
        page,
    )
    assert card.groups() == (
        FLAG,
        "入库 5 / 实有 3 人（1 个工会填报）；1 个工会入库会员多于实有会员数，请更新实有会员数",
    )
    town = login("town_cadre").get(reverse("admin:stats_dashboard"), {"sort": "coverage"}).content.decode()
    card = re.search(
        r'<div class="gh-stat-label">入库率</div><div class="gh-stat-value">([^<]*)</div>'
        r'<div class="gh-muted">([^<]*)</div>',
        town,
    )
    assert card.groups() == (
        "53.8%",
        "入库 9 / 实有 13 人（2 个工会填报）；1 个工会入库会员多于实有会员数，请更新实有会员数"
        "（这些工会按实有会员数计入）",
    )
    assert f'<span class="gh-badge">{FLAG}</span>' in town
    assert "166.7%" not in town and "166.7" not in page


def test_the_annual_statistics_say_so(declared, actors, login):
    today = timezone.localdate()
    union = annual_summary(actor=actors["grassroots_cadre"], org=declared[E12], year=today.year, today=today)
    item = next(i for i in union.items if i.name == "入库率")
    assert (item.value, item.sentence, item.note) == (
        None,
        f"会员实名制入库会员 5 人，{FLAG}",
        f"当前数；1 个工会入库会员多于实有会员数，{FLAG}",
    )
    town = annual_summary(actor=actors["town_cadre"], org=declared[T01], year=today.year, today=today)
    item = next(i for i in town.items if i.name == "入库率")
    assert (item.value, item.sentence) == (Decimal("53.8"), "会员实名制入库率 53.8%")
    response = login("grassroots_cadre").get(reverse("admin:stats_report", args=["annual_xlsx"]))
    rows = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    row = next(r for r in rows if r[1] == "入库率")
    assert row[2:6] == [
        "",
        "%",
        f"会员实名制入库会员 5 人，{FLAG}。",
        f"当前数；1 个工会入库会员多于实有会员数，{FLAG}",
    ]


def test_the_founding_table_rates_too(declared, actors):
    rows, total = founding_table(actor=actors["town_cadre"], org=declared[T01])
    by_code = {child.code: rates for child, _, _, _, rates in rows}
    assert (by_code[E12].coverage, by_code[E12].coverage_flag) == (None, FLAG)
    assert (total[4].coverage, total[4].stale_unions) == (Decimal("53.8"), 1)


def test_the_quality_summary_and_the_api(declared, actors, login):
    union = quality_summary(actor=actors["grassroots_cadre"], org=declared[E12])
    assert (union.coverage_rate, union.coverage_flag, union.stale_unions) == (None, FLAG, 1)
    town = quality_summary(actor=actors["town_cadre"], org=declared[T01])
    assert (town.coverage_rate, town.coverage_flag, town.stale_unions) == (Decimal("53.8"), FLAG, 1)

    client = login("town_cadre")
    body = client.get(f"/api/v1/orgs/{declared[E12].id}/quality").json()
    assert (body["coverage_rate"], body["coverage_flag"], body["stale_unions"]) == (None, FLAG, 1)
    body = client.get(f"/api/v1/stats/orgs/{declared[T01].id}/dashboard", {"sort": "coverage"}).json()
    assert (body["rates"]["coverage"], body["rates"]["coverage_flag"], body["rates"]["stale_unions"]) == (
        "53.8",
        FLAG,
        1,
    )
    assert [(c["code"], c["rates"]["coverage"], c["rates"]["coverage_flag"]) for c in body["children"]] == [
        (E123, "40.0", ""),
        (C1, None, ""),
        (E12, None, FLAG),
    ]
    quality_page = client.get(reverse("admin:member_quality"), {"org": str(declared[E12].id)}).content.decode()
    assert f'<div class="gh-stat-value">{FLAG}</div>' in quality_page


# ---------------------------------------------------------------- the import page's offer


def import_into(actor, org, count: int, seed: int = 7):
    factory = WorkerFactory(seed, timezone.localdate())
    rows = [roster_row(i + 1, factory.worker("十二号有限公司")) for i in range(count)]
    job = roster_import_request(
        actor=actor, org=org, filename="r.xlsx", content=roster_xlsx(rows), mode="add", enqueue=lambda job_id: None
    )
    roster_import_run(str(job.id))
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job


def test_the_import_page_offers_to_update_the_declared_figure(tree, actors, login, system):
    declared_total_record(actor=system, org=tree[E12], total=2)
    job = import_into(actors["grassroots_cadre"], tree[E12], 3)
    client = login("grassroots_cadre")
    detail = reverse("admin:roster_import_detail", args=[job.id])
    page = client.get(detail).content.decode()
    assert 'id="gh-declared-update"' in page
    assert "十二号公司工会委员会现有入库会员 3 人，多于填报的实有会员数 2 人" in page
    target = reverse("admin:roster_import_declared", args=[job.id])

    # Not confirmed: nothing recorded.
    response = client.post(target, {"total": "3"})
    assert response.status_code == 200
    assert "请确认实有会员数已核对" in response.content.decode()
    assert list(DeclaredTotal.objects.filter(org=tree[E12]).values_list("total", flat=True)) == [2]

    response = client.post(target, {"total": "3", "confirmed": "on"})
    assert response.status_code == 302 and response["Location"] == detail
    assert sorted(DeclaredTotal.objects.filter(org=tree[E12]).values_list("total", flat=True)) == [2, 3]
    event = AuditEvent.objects.filter(action="declared_total.record").latest("at")
    assert (event.actor_label, event.details["total"]) == ("grassroots_cadre", 3)
    page = client.get(detail).content.decode()
    assert 'id="gh-declared-update"' not in page  # the figure is current now
    rates = board(actors, tree, "grassroots_cadre", E12).rates
    assert (rates.coverage, rates.coverage_flag) == (Decimal("100.0"), "")


def test_no_offer_while_the_figure_holds_or_nothing_is_declared(tree, actors, login, system):
    job = import_into(actors["grassroots_cadre"], tree[E12], 2)  # nothing declared: no 入库率 to correct
    page = login("grassroots_cadre").get(reverse("admin:roster_import_detail", args=[job.id])).content.decode()
    assert 'id="gh-declared-update"' not in page
    declared_total_record(actor=system, org=tree[E12], total=2)
    page = login("grassroots_cadre").get(reverse("admin:roster_import_detail", args=[job.id])).content.decode()
    assert 'id="gh-declared-update"' not in page  # 2 held, 2 declared
    response = login("grassroots_cadre").post(
        reverse("admin:roster_import_declared", args=[job.id]), {"total": "9", "confirmed": "on"}
    )
    assert response.status_code == 302
    assert list(DeclaredTotal.objects.filter(org=tree[E12]).values_list("total", flat=True)) == [2]


def test_only_a_role_that_may_record_the_figure_is_offered_it(tree, actors, system):
    declared_total_record(actor=system, org=tree[E12], total=1)
    enrol(system, tree[E12], name="甲", seq=301)
    enrol(system, tree[E12], name="乙", seq=302)
    offer = declared_behind(actor=actors["town_cadre"], org=tree[E12])
    assert (offer.held, offer.declared) == (2, 1)
    for username in ("auditor", "sysadmin", "secadmin", "other_district_cadre"):
        assert declared_behind(actor=actors[username], org=tree[E12]) is None, username
    assert declared_behind(actor=actors["town_cadre"], org=tree[T01]) is None  # not a grassroots union


def test_another_account_cannot_use_the_import_s_page(tree, actors, login, system):
    declared_total_record(actor=system, org=tree[E12], total=1)
    job = import_into(actors["grassroots_cadre"], tree[E12], 2)
    response = login("town_cadre").post(
        reverse("admin:roster_import_declared", args=[job.id]), {"total": "2", "confirmed": "on"}
    )
    assert response.status_code == 404
    assert list(DeclaredTotal.objects.filter(org=tree[E12]).values_list("total", flat=True)) == [1]


def test_a_get_of_the_update_address_changes_nothing(tree, actors, login, system):
    declared_total_record(actor=system, org=tree[E12], total=1)
    job = import_into(actors["grassroots_cadre"], tree[E12], 2)
    response = login("grassroots_cadre").get(
        reverse("admin:roster_import_declared", args=[job.id]), {"total": "2", "confirmed": "on"}
    )
    assert response.status_code == 200
    assert "确认" in response.content.decode()
    assert list(DeclaredTotal.objects.filter(org=tree[E12]).values_list("total", flat=True)) == [1]
