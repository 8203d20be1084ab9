"""Every figure every selector gives, for every node and a range of periods, against the naive recount."""

from collections import Counter
from dataclasses import asdict
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from gonghui.casework.models import CaseKind
from gonghui.common.errors import NotFound
from gonghui.members.figures import rebuild_counts
from gonghui.members.models import (
    HOLDING_STATUSES,
    ApplicationStatus,
    CorrectionRequest,
    CorrectionStatus,
    JoinApplication,
    MembershipSource,
    MembershipStatus,
    TransferRequest,
    TransferStatus,
)
from gonghui.orgs.models import (
    OrgFigures,
    OrgStatus,
)
from gonghui.stats import selectors
from gonghui.stats.periods import Period, period_from
from gonghui.stats.selectors import (
    child_rows,
    current_figures,
    dashboard,
    founding_table,
    headlines,
    member_table,
    monthly_trend,
    pending_work,
    rates_of,
)
from gonghui.stats.summary import annual_summary
from tests.members.factories import figures_snapshot
from tests.stats.naive import TODAY, pct

PERIOD_PARAMS = [
    {"period": "year", "year": "2024"},
    {"period": "year", "year": "2025"},
    {"period": "year"},  # 2026, running
    {"period": "quarter", "year": "2024", "quarter": "4"},
    {"period": "quarter", "year": "2025", "quarter": "1"},
    {"period": "quarter"},  # 2026 Q2, running
    {"period": "month", "year": "2024", "month": "2"},  # with 29 February
    {"period": "month", "year": "2025", "month": "2"},  # compared with February 2024
    {"period": "month"},  # May 2026, running
    {"period": "custom", "start": "2024-11", "end": "2025-03-31"},
    {"period": "custom", "start": "2025-12-05", "end": "2026-05"},  # up to the running month
    {"period": "custom", "start": "2026-02", "end": "2026-02"},
]
PERIODS = [period_from(params, today=TODAY) for params in PERIOD_PARAMS]
PERIOD_IDS = [f"{p.kind}-{p.start:%Y%m}-{p.end:%Y%m}" for p in PERIODS]

pytestmark = pytest.mark.django_db


def rate_text(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


def coverage_words(r: dict) -> tuple[str, str]:
    """The annual summary's sentence and note for 入库率, written out from the recounted rates."""
    if r["coverage"] is None and r["coverage_flag"]:
        sentence = f"会员实名制入库会员 {r['registered_in_declared']:,} 人，实有会员数待更新"
    else:
        sentence = f"会员实名制入库率 {rate_text(r['coverage'])}"
    if r["stale_unions"]:
        return sentence, f"当前数；{r['stale_unions']:,} 个工会入库会员多于实有会员数，实有会员数待更新"
    return sentence, "当前数；实有会员数待更新" if r["coverage_flag"] else "当前数"


class TestFiguresAgainstARecount:
    """Every figure, every node, every period: what the selectors read from the kept figures equals a naive recount
    of the registry."""

    def test_the_history_exercised_every_kind_of_change(self, world):
        reg = world.registry
        statuses = Counter(h.status for h in reg.held)
        assert all(statuses[s] >= 3 for s in MembershipStatus.values), statuses
        sources = Counter(h.source for h in reg.held)
        assert all(sources[s] >= 2 for s in MembershipSource.values if s != "online"), sources
        assert {o.code: o.status for o in reg.orgs if o.status != OrgStatus.ACTIVE} == {
            "SZ-WZ-T01-E2": OrgStatus.DISSOLVED,
            "SZ-GS-T02-C2": OrgStatus.MERGED,
        }
        assert reg.by_code["SZ-GS-T02-E1"].path.startswith(reg.by_code["SZ-WZ-T01"].path)
        assert reg.by_code["SZ-GS-T02-C2-E1"].path.startswith(reg.by_code["SZ-GS-T01-C1"].path)
        assert sum(reg.person_fails.values()) >= 5
        assert len(reg.latest_declared) == 6
        assert timezone.localdate(world.checked_at) == TODAY
        # Every organisation has its row of figures, checked by the last 准确率 run.
        assert set(OrgFigures.objects.values_list("org_id", "failing_checked_at")) == {
            (o.id, world.checked_at) for o in reg.orgs
        }

    def test_current_figures_are_the_subtree_counts(self, world):
        reg = world.registry
        kept = current_figures([o.id for o in reg.orgs])
        for org in reg.orgs:
            expected = reg.stock(org)
            assert {name: kept[org.id][name] for name in expected} == expected, org.code

    @pytest.mark.parametrize("period", PERIODS, ids=PERIOD_IDS)
    def test_headlines_of_every_node(self, world, period):
        reg = world.registry
        kept = headlines([o.id for o in reg.orgs], period, TODAY)
        for org in reg.orgs:
            expected = reg.headline(org, period)
            headline = kept[org.id]
            assert asdict(headline) == expected, org.code
            assert headline.members_change == pct(
                expected["members"] - expected["members_before"], expected["members_before"]
            )
            assert headline.joined_change == pct(
                expected["joined"] - expected["joined_before"], expected["joined_before"]
            )
            assert headline.new_employment_change == pct(
                expected["new_employment"] - expected["new_employment_before"], expected["new_employment_before"]
            )

    def test_the_root_headline_of_the_running_year(self, world):
        """2026 has run to May: it is compared with January to May 2025, not with the whole of 2025."""
        reg = world.registry
        root = reg.by_code["SZ"]
        period = period_from({"period": "year"}, today=TODAY)
        headline = headlines([root.id], period, TODAY)[root.id]
        may_2025 = [h for h in reg.held if h.holding_at(date(2025, 5, 31))]
        joined_2025 = [
            h for h in reg.held if h.source != "transfer_in" and date(2025, 1, 1) <= h.start <= date(2025, 5, 31)
        ]
        assert headline.members == sum(h.status in HOLDING_STATUSES for h in reg.held)
        assert (headline.members_before, headline.joined_before) == (len(may_2025), len(joined_2025))
        whole_2025 = [h for h in reg.held if h.source != "transfer_in" and h.start.year == 2025]
        assert len(whole_2025) > len(joined_2025)

    def test_february_2025_is_compared_with_the_whole_of_february_2024(self, world):
        """The earlier stretch of February 2025 ends on 29 February 2024: the member who joined that day counts."""
        reg = world.registry
        union = reg.by_code["SZ-GS-T01-12"]
        february = period_from({"period": "month", "year": "2025", "month": "2"}, today=TODAY)
        headline = headlines([union.id], february, TODAY)[union.id]
        joined = [h for h in reg.inside(union) if h.source != "transfer_in" and h.start.strftime("%Y-%m") == "2024-02"]
        assert date(2024, 2, 29) in [h.start for h in joined]
        assert headline.joined_before == len(joined)
        assert headline.members_before == sum(h.holding_at(date(2024, 2, 29)) for h in reg.inside(union))

    @pytest.mark.parametrize("period", PERIODS, ids=PERIOD_IDS)
    def test_monthly_trend_of_every_node(self, world, period):
        reg = world.registry
        for org in reg.orgs:
            points = monthly_trend(org, period, TODAY)
            got = [(p.month, p.members, p.joined, p.transferred_in, p.transferred_out, p.left) for p in points]
            assert got == reg.trend(org, period), org.code

    def test_breakdowns_of_every_node(self, world):
        reg = world.registry
        current = current_figures([o.id for o in reg.orgs])
        for org in reg.orgs:
            got = [(b.title, b.rows) for b in selectors.breakdowns(org, TODAY, current)]
            assert got == reg.breakdowns(org), org.code
        root = reg.by_code["SZ"]
        sexes = selectors.breakdowns(root, TODAY, current)[0]
        total = len(reg.holding(root))
        assert sexes.total == total
        assert sexes.shares == [(label, n, pct(n, total)) for label, n in reg.breakdowns(root)[0][1]]

    @pytest.mark.parametrize(
        "sort",
        [
            "members",
            "joined",
            "net_change",
            "new_employment",
            "coverage",
            "accuracy",
            "founding_25",
            "founding_100",
            "nonsense",
        ],
    )
    def test_child_rows_of_every_node(self, world, sort):
        reg = world.registry
        key = sort if sort in selectors.RANKING_KEYS else "members"
        for period in (PERIODS[1], PERIODS[2], PERIODS[7]):
            for org in reg.orgs:
                expected = []
                for child in reg.children(org):
                    if child.status != OrgStatus.ACTIVE and not reg.holding(child):
                        continue
                    h = reg.headline(child, period)
                    row = {
                        "code": child.code,
                        "members": h["members"],
                        "joined": h["joined"],
                        "net_change": h["net_change"],
                        "new_employment": h["new_employment"],
                        "rates": reg.rates(child, world.checked_at),
                    }
                    value = row[key] if key in row else row["rates"][key]
                    expected.append(((value is None, -(value or 0), child.path), row))
                expected = [row for _, row in sorted(expected, key=lambda e: e[0])]
                got = [
                    {
                        "code": r.org.code,
                        "members": r.members,
                        "joined": r.joined,
                        "net_change": r.net_change,
                        "new_employment": r.new_employment,
                        "rates": asdict(r.rates),
                    }
                    for r in child_rows(org, period, TODAY, sort=sort)
                ]
                assert got == expected, (org.code, period.label)

    @pytest.mark.parametrize("period", PERIODS, ids=PERIOD_IDS)
    def test_member_table_of_every_node(self, world, period):
        reg = world.registry
        for org in reg.orgs:
            rows, total = member_table(actor=world.actors["city_cadre"], org=org, period=period, today=TODAY)
            expected = []
            for child in reg.children(org):
                h = reg.headline(child, period)
                if child.status == OrgStatus.ACTIVE or h["members"] or h["net_change"]:
                    expected.append((child.code, h))
            assert [(child.code, asdict(h)) for child, h in rows] == expected, org.code
            assert asdict(total) == reg.headline(org, period), org.code

    def test_founding_table_of_every_node(self, world):
        reg = world.registry

        def expected_row(target):
            stock = reg.stock(target)
            return (
                target.code,
                reg.active_unions(target),
                stock["employers"],
                stock["employers_covered"],
                reg.rates(target, world.checked_at),
            )

        for org in reg.orgs:
            rows, total = founding_table(actor=world.actors["city_cadre"], org=org)
            got = [(c.code, unions, n, covered, asdict(rates)) for c, unions, n, covered, rates in rows]
            expected = [expected_row(c) for c in reg.children(org) if c.status == OrgStatus.ACTIVE]
            assert got == expected, org.code
            assert (total[0].code, *total[1:4], asdict(total[4])) == expected_row(org), org.code
        root_total = founding_table(actor=world.actors["city_cadre"], org=reg.by_code["SZ"])[1]
        assert root_total[1:4] == (7, 11, 8)  # 8 unions less the dissolved one; 11 employers, 8 of them covered
        # ≥25 staff: 9 employers, 8 covered (木渎五金, 30 staff, is not); ≥100: 5, all covered.
        assert (root_total[4].founding_25, root_total[4].founding_100) == (Decimal("88.9"), Decimal("100.0"))

    def test_rates_of_every_node(self, world):
        reg = world.registry
        current = current_figures([o.id for o in reg.orgs])
        for org in reg.orgs:
            stale = selectors.stale_declarations(org)
            assert asdict(rates_of(current[org.id], stale)) == reg.rates(org, world.checked_at), org.code
        root = reg.rates(reg.by_code["SZ"], world.checked_at)
        # The declarations that count: union 12's 15 of 2025-04-10 (a later entry as of an earlier day does not
        # replace it), the moved union's 11 (it declared 9 before), 7, 20 and 5; the dissolved union's 6 no longer.
        assert (root["declared_total"], root["declared_unions"]) == (15 + 11 + 7 + 20 + 5, 5)

    @pytest.mark.parametrize("year", [2024, 2025, 2026])
    def test_annual_summary_of_every_node(self, world, year):
        reg = world.registry
        period = period_from({"period": "year", "year": str(year)}, today=TODAY)
        complete = year < TODAY.year
        as_of, so_far = ("年底", "全年") if complete else ("5月20日", "今年以来")
        for org in reg.orgs:
            summary = annual_summary(actor=world.actors["city_cadre"], org=org, year=year, today=TODAY)
            assert (summary.period, summary.reached, summary.complete) == (
                period,
                date(year, 12, 31) if complete else TODAY,
                complete,
            )
            h = reg.headline(org, period)
            ended = [m for m in reg.inside(org) if m.ends_in(period.start, period.end)]
            left = sum(m.status == MembershipStatus.LEFT for m in ended)
            cancelled = sum(m.status == MembershipStatus.CANCELLED for m in ended)
            r = reg.rates(org, world.checked_at)
            unions = reg.active_unions(org)
            n, growth = h["members"], h["members"] - h["members_before"]
            compared = (
                f"比上年同期{'增加' if growth > 0 else '减少'} {abs(growth):,} 人" if growth else "与上年同期持平"
            )
            expected = [
                (
                    "会员发展",
                    "会员总数",
                    n,
                    "人",
                    f"截至{as_of}共有会员 {n:,} 人，{compared}",
                    "",
                ),
                (
                    "会员发展",
                    "新增会员",
                    h["joined"],
                    "人",
                    f"{so_far}新增会员 {h['joined']:,} 人",
                    "",
                ),
                (
                    "会员发展",
                    "会员接转",
                    h["transferred_in"],
                    "人",
                    f"办理会员接转转入 {h['transferred_in']:,} 人、转出 {h['transferred_out']:,} 人",
                    "",
                ),
                ("会员发展", "退会及注销", left + cancelled, "人", f"退会 {left:,} 人，注销会籍 {cancelled:,} 人", ""),
                (
                    "会员发展",
                    "女职工会员",
                    h["female"],
                    "人",
                    f"女职工会员 {h['female']:,} 人，占会员总数的 {rate_text(pct(h['female'], n))}",
                    "",
                ),
                (
                    "会员发展",
                    "农民工会员",
                    h["migrant"],
                    "人",
                    f"农民工会员 {h['migrant']:,} 人，占会员总数的 {rate_text(pct(h['migrant'], n))}",
                    "",
                ),
                (
                    "会员发展",
                    "新就业形态劳动者会员",
                    h["new_employment"],
                    "人",
                    f"新就业形态劳动者会员 {h['new_employment']:,} 人",
                    "",
                ),
                ("组织建设", "基层工会", unions, "个", f"共有基层工会组织 {unions:,} 个", "当前数"),
                (
                    "组织建设",
                    "25人以上企业建会率",
                    r["founding_25"],
                    "%",
                    f"25人以上企业建会率达 {rate_text(r['founding_25'])}"
                    f"（已建会 {r['employers_25_covered']:,} 家，共 {r['employers_25']:,} 家）",
                    "当前数",
                ),
                (
                    "组织建设",
                    "100人以上企业建会率",
                    r["founding_100"],
                    "%",
                    f"百人以上企业建会率达 {rate_text(r['founding_100'])}"
                    f"（已建会 {r['employers_100_covered']:,} 家，共 {r['employers_100']:,} 家）",
                    "当前数",
                ),
                ("会员实名制", "入库率", r["coverage"], "%", *coverage_words(r)),
                (
                    "会员实名制",
                    "准确率",
                    r["accuracy"],
                    "%",
                    f"会员信息准确率 {rate_text(r['accuracy'])}",
                    "当前数，按最近一次数据质量核查",
                ),
            ]
            got = [(i.section, i.name, i.value, i.unit, i.sentence, i.note) for i in summary.items]
            assert got[:12] == expected, (org.code, year)
            services = ("困难帮扶", "困难职工档案", "法律援助", "职工互助保障", "金秋助学", "走访慰问")
            assert [(i.section, i.name, i.value) for i in summary.items[12:]] == [("职工服务", s, 0) for s in services]

    def test_dashboard_of_every_node(self, world):
        reg = world.registry
        period = period_from({}, today=TODAY)
        assert period == Period("year", date(2026, 1, 1), date(2026, 12, 31), "2026年")
        for org in reg.orgs:
            board = dashboard(actor=world.actors["city_cadre"], org=org, period=period, today=TODAY, sort="coverage")
            assert (board.reached, board.as_of) == (date(2026, 5, 31), TODAY)
            stock = reg.stock(org)
            assert board.status == {"active": stock["active"], "reserved": stock["reserved"]}, org.code
            assert board.compared == Period("year", date(2025, 1, 1), date(2025, 5, 31), "2026年（上年同期）")
            assert asdict(board.headline) == reg.headline(org, period), org.code
            assert asdict(board.rates) == reg.rates(org, world.checked_at), org.code
            assert [
                (p.month, p.members, p.joined, p.transferred_in, p.transferred_out, p.left) for p in board.trend
            ] == reg.trend(org, period)
            assert [(b.title, b.rows) for b in board.breakdowns] == reg.breakdowns(org)
            assert [r.org.code for r in board.children] == [
                r.org.code for r in child_rows(org, period, TODAY, sort="coverage")
            ]
            assert [k.kind for k in board.cases] == [*CaseKind.values, "care"]
            assert [(k.cases, k.people) for k in board.cases] == [(0, 0)] * (len(CaseKind.values) + 1)
            applications = JoinApplication.objects.filter(status=ApplicationStatus.PENDING)
            applications = [a for a in applications.select_related("org") if a.org.path.startswith(org.path)]
            transfers = [
                t
                for t in TransferRequest.objects.select_related("from_org", "to_org")
                if (t.status == TransferStatus.PENDING_RELEASE and t.from_org.path.startswith(org.path))
                or (t.status == TransferStatus.PENDING_ACCEPT and t.to_org.path.startswith(org.path))
            ]
            corrections = CorrectionRequest.objects.filter(
                status=CorrectionStatus.PENDING, org__path__startswith=org.path
            )
            assert asdict(board.pending) == {
                "applications": len(applications),
                "applications_overdue": sum(a.due_on < TODAY for a in applications),
                "transfers": len(transfers),
                "transfers_overdue": sum(t.due_on < TODAY for t in transfers),
                "corrections": corrections.count(),
                "cases": 0,
                "cases_overdue": 0,
            }, org.code
        root = pending_work(reg.by_code["SZ"], TODAY)
        assert (root.total, root.overdue) == (5, 2)

    def test_a_grassroots_cadre_sees_only_their_union(self, world):
        reg = world.registry
        cadre = world.actors["grassroots_cadre"]
        union = reg.by_code["SZ-GS-T01-12"]
        period = period_from({"period": "year", "year": "2025"}, today=TODAY)
        board = dashboard(actor=cadre, org=union, period=period, today=TODAY)
        assert asdict(board.headline) == reg.headline(union, period)
        assert board.children == []
        rows, total = member_table(actor=cadre, org=union, period=period, today=TODAY)
        assert (rows, asdict(total)) == ([], reg.headline(union, period))
        assert (
            annual_summary(actor=cadre, org=union, year=2025, today=TODAY).items[0].value
            == reg.headline(union, period)["members"]
        )
        for code in ("SZ-GS-T01-123", "SZ-GS-T01", "SZ"):
            other = reg.by_code[code]
            with pytest.raises(NotFound):
                dashboard(actor=cadre, org=other, period=period, today=TODAY)
            with pytest.raises(NotFound):
                member_table(actor=cadre, org=other, period=period, today=TODAY)
            with pytest.raises(NotFound):
                founding_table(actor=cadre, org=other)
            with pytest.raises(NotFound):
                annual_summary(actor=cadre, org=other, year=2025, today=TODAY)

    def test_a_full_rebuild_changes_no_figure(self, world):
        """What the services kept through imports, moves, a merge and a dissolution is exactly a full recount."""
        kept = figures_snapshot(with_failing=True)
        emptied = {"SZ-WZ-T01-E2", "SZ-GS-T02-C2"}  # dissolved, merged: nothing left in their subtrees
        assert set(kept["stock"]) == {o.id for o in world.registry.orgs if o.code not in emptied}
        assert len(kept["months"]) > 100
        rebuild_counts()
        assert figures_snapshot(with_failing=True) == kept
