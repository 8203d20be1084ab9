"""驾驶舱 and the statistics tables: thin views over gonghui.stats."""

import json
from urllib.parse import urlencode

from django.http import Http404
from django.utils import timezone

from gonghui.backoffice.base import or_404, render_page, require_actor
from gonghui.backoffice.views.helpers import DOCX, XLSX, download
from gonghui.common.roles import Perm
from gonghui.orgs.selectors import org_breadcrumbs, org_get_by_code, org_scope_root
from gonghui.stats.periods import PERIOD_KINDS, period_from
from gonghui.stats.reports import (
    FoundingRow,
    MemberTableRow,
    founding_table_xlsx,
    member_table_xlsx,
    summary_docx,
    summary_xlsx,
)
from gonghui.stats.selectors import CHILDREN_SHOWN, RANKING_KEYS, dashboard, founding_table, member_table, percent
from gonghui.stats.services import REPORTS, stats_export_record
from gonghui.stats.summary import annual_summary

LINE_STYLES: tuple[dict[str, list[int]], ...] = (
    {"borderDash": []},
    {"borderDash": [6, 4]},
    {"borderDash": [2, 3]},
    {"borderDash": [10, 3, 2, 3]},
)
POINT_STYLES = ("circle", "rect", "triangle", "crossRot")


def _org_of(request, actor):
    code = request.GET.get("org", "").strip()
    if not code:
        return org_scope_root(actor=actor)
    return or_404(org_get_by_code, actor=actor, code=code)


def _trend_chart(trend) -> str:
    """Members at each month's end as a line, the month's joins and leavings as differently drawn lines, so the
    series differ by dash and point shape as well as by colour (the table below carries the same numbers)."""
    series = [
        ("期末会员数", [p.members for p in trend], "var(--color-primary-600)"),
        ("新入会", [p.joined for p in trend], "var(--color-primary-300)"),
        ("退会及注销", [p.left for p in trend], "#9ca3af"),
    ]
    datasets = [
        {
            "label": label,
            "data": values,
            "borderColor": color,
            "backgroundColor": color,
            "pointStyle": POINT_STYLES[i],
            "pointRadius": 4,
            "yAxisID": "y" if i == 0 else "y1",
            **LINE_STYLES[i],
        }
        for i, (label, values, color) in enumerate(series)
    ]
    return json.dumps({"labels": [f"{p.month:%Y年%m月}" for p in trend], "datasets": datasets}, ensure_ascii=False)


# The charts' options replace unfold's defaults entirely (its maxBarThickness of 4 px drew bars as hairlines): the
# canvas fills its fixed-height box (no aspect ratio, which let the box cut off the month labels), the labels stay
# level and are thinned out rather than rotated or clipped, and there is room around the plot for them.
CHART_BASE = {"animation": False, "responsive": True, "maintainAspectRatio": False, "layout": {"padding": 8}}
LEVEL_TICKS = {"maxRotation": 0, "minRotation": 0, "autoSkip": True, "autoSkipPadding": 24, "padding": 4}


def _trend_options() -> str:
    options = {
        **CHART_BASE,
        "plugins": {"legend": {"display": True, "labels": {"usePointStyle": True}}},
        "scales": {
            "x": {"ticks": LEVEL_TICKS},
            "y": {
                "position": "left",
                "beginAtZero": True,
                "ticks": {"precision": 0},
                "title": {"display": True, "text": "会员数（人）"},
            },
            "y1": {
                "position": "right",
                "beginAtZero": True,
                "grid": {"drawOnChartArea": False},
                "ticks": {"precision": 0},
                "title": {"display": True, "text": "人次"},
            },
        },
    }
    return json.dumps(options, ensure_ascii=False)


def _bar_options() -> str:
    """Horizontal bars, one category a line with its label beside it (never skipped or turned, however narrow the
    phone): each bar 70% of its line (at most 48 px) and never shorter than 4 px, so that a category with few members
    still shows a bar."""
    options = {
        **CHART_BASE,
        "indexAxis": "y",
        "plugins": {"legend": {"display": False}},
        "datasets": {
            "bar": {
                "barPercentage": 0.7,
                "categoryPercentage": 0.8,
                "maxBarThickness": 48,
                "minBarLength": 4,
                "borderRadius": 4,
            }
        },
        "scales": {
            "x": {"beginAtZero": True, "ticks": {**LEVEL_TICKS, "precision": 0}},
            "y": {"ticks": {"autoSkip": False}, "grid": {"display": False}},
        },
    }
    return json.dumps(options, ensure_ascii=False)


def _bar_chart(breakdown) -> str:
    return json.dumps(
        {
            "labels": [label for label, _ in breakdown.rows],
            "datasets": [
                {
                    "label": f"{breakdown.title}（人）",
                    "data": [n for _, n in breakdown.rows],
                    "backgroundColor": "var(--color-primary-500)",
                }
            ],
        },
        ensure_ascii=False,
    )


def _compared(now: int, before: int) -> str:
    """Plain words, not colour: '比上年同期增加 120 人（+3.2%）'."""
    difference = now - before
    if difference == 0:
        return "与上年同期持平"
    word = "增加" if difference > 0 else "减少"
    share = f"（{'+' if difference > 0 else '-'}{percent(abs(difference), before)}%）" if before else ""
    return f"比上年同期{word} {abs(difference):,} 人{share}"


def _rate(value) -> str:
    return "—" if value is None else f"{value}%"


def coverage_text(rates) -> str:
    """入库率 as shown: a share (never over 100%), 实有会员数待更新 in its place, or — when nothing is declared."""
    if rates.coverage is None and rates.coverage_flag:
        return rates.coverage_flag
    return _rate(rates.coverage)


def _coverage_note(r) -> str:
    note = f"入库 {r.registered_in_declared:,} / 实有 {r.declared_total:,} 人（{r.declared_unions:,} 个工会填报）"
    if r.stale_unions:
        note += f"；{r.stale_unions:,} 个工会入库会员多于实有会员数，请更新实有会员数"
        if r.coverage is not None:
            note += "（这些工会按实有会员数计入）"
    return note


def _headline_cards(board) -> list[tuple[str, str, str]]:
    """(label, value, note) of each headline figure."""
    h, r, r_status = board.headline, board.rates, board.status
    checked = f"核查于 {timezone.localtime(r.checked_at):%Y-%m-%d %H:%M}" if r.checked_at else "尚未核查"
    return [
        ("会员总数", f"{h.members:,} 人", _compared(h.members, h.members_before)),
        ("期间新入会", f"{h.joined:,} 人", _compared(h.joined, h.joined_before)),
        (
            "期间净增",
            f"{h.net_change:+,} 人",
            f"转入 {h.transferred_in:,}，转出 {h.transferred_out:,}，退会及注销 {h.left:,}",
        ),
        ("新就业形态会员", f"{h.new_employment:,} 人", _compared(h.new_employment, h.new_employment_before)),
        ("入库率", coverage_text(r), _coverage_note(r)),
        ("准确率", _rate(r.accuracy), f"通过核查 {r.passing:,} 人；{checked}"),
        ("建会率（25人以上）", _rate(r.founding_25), f"已建会 {r.employers_25_covered:,} / {r.employers_25:,} 家"),
        ("建会率（100人以上）", _rate(r.founding_100), f"已建会 {r.employers_100_covered:,} / {r.employers_100:,} 家"),
        ("女职工会员", f"{h.female:,} 人", f"农民工会员 {h.migrant:,} 人"),
        ("正式会员（当前）", f"{r_status['active']:,} 人", f"保留会籍 {r_status['reserved']:,} 人"),
    ]


def stats_dashboard(request):
    actor = require_actor(request)
    actor.require(Perm.STATS_VIEW)
    org = _org_of(request, actor)
    today = timezone.localdate()
    period = period_from(request.GET, today=today)
    sort = request.GET.get("sort", "members")
    sort = sort if sort in RANKING_KEYS else "members"
    show_all = request.GET.get("top") == "all"
    board = dashboard(
        actor=actor, org=org, period=period, today=today, sort=sort, top=None if show_all else CHILDREN_SHOWN
    )
    period_query = urlencode(period.params())
    return render_page(
        request,
        "驾驶舱",
        "backoffice/stats/dashboard.html",
        board=board,
        cards=_headline_cards(board),
        compared_label=f"{board.compared.start:%Y年%m月}至{board.compared.end:%Y年%m月}",
        org=org,
        period=period,
        crumbs=org_breadcrumbs(actor=actor, org=org),
        period_query=period_query,
        period_kinds=PERIOD_KINDS,
        # The quarter and month the form offers: the period's own, else the current ones (what period_from defaults to).
        form_quarter=str((period.start.month - 1) // 3 + 1 if period.kind == "quarter" else (today.month - 1) // 3 + 1),
        form_month=period.start.month if period.kind == "month" else today.month,
        years=list(range(today.year, today.year - 8, -1)),
        ranking_keys=RANKING_KEYS,
        sort=sort,
        show_all=show_all,
        ranking_label=RANKING_KEYS[sort],
        trend_chart=_trend_chart(board.trend),
        trend_options=_trend_options(),
        breakdown_charts=[(b, _bar_chart(b)) for b in board.breakdowns],
        bar_options=_bar_options(),
        can_see_cases=actor.can(Perm.CASES_VIEW),
    )


def stats_report(request, report: str):
    """The statistics tables as files: 会员统计表, 建会情况表 (.xlsx), 年度工作统计 (.xlsx, .docx)."""
    if report not in REPORTS:
        raise Http404
    actor = require_actor(request)
    actor.require(Perm.STATS_VIEW)
    org = _org_of(request, actor)
    today = timezone.localdate()
    now = timezone.localtime()
    if report == "members":
        period = period_from(request.GET, today=today)
        rows, total = member_table(actor=actor, org=org, period=period, today=today)
        stats_export_record(actor=actor, org=org, report=report, period=period.label)
        content = member_table_xlsx(
            org=org,
            period_label=period.label,
            reached_label=f"{min(period.until(today), today):%Y年%m月%d日}",
            rows=[MemberTableRow(child.name, headline) for child, headline in rows],
            total=total,
            exported_at=now,
            exported_by=actor.label,
        )
        return download(content, content_type=XLSX, filename=f"{org.name}会员统计表（{period.label}）.xlsx")
    if report == "founding":
        founding_rows, founding_total = founding_table(actor=actor, org=org)
        stats_export_record(actor=actor, org=org, report=report, period=f"{today:%Y-%m-%d}")
        content = founding_table_xlsx(
            org=org,
            as_of_label=f"{today:%Y年%m月%d日}",
            rows=[FoundingRow(c.name, u, e, ec, r) for c, u, e, ec, r in founding_rows],
            total=FoundingRow("合计", *founding_total[1:]),
            exported_at=now,
            exported_by=actor.label,
        )
        return download(content, content_type=XLSX, filename=f"{org.name}建会情况表（{today:%Y年%m月%d日}）.xlsx")
    try:
        year = int(request.GET.get("year", today.year))
    except ValueError:
        year = today.year
    year = year if 2000 <= year <= today.year else today.year
    summary = annual_summary(actor=actor, org=org, year=year, today=today)
    stats_export_record(actor=actor, org=org, report=report, period=f"{year}年")
    if report == "annual_docx":
        content = summary_docx(summary=summary, exported_at=now, exported_by=actor.label)
        return download(content, content_type=DOCX, filename=f"{org.name}{year}年度工作统计.docx")
    content = summary_xlsx(summary=summary, exported_at=now, exported_by=actor.label)
    return download(content, content_type=XLSX, filename=f"{org.name}{year}年度工作统计.xlsx")
