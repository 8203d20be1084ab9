"""年度工作统计: the figures the review section of a union's annual work report quotes, for any organisation and
year, each with the sentence it is usually quoted in. Figures at the year's end come from the kept counts
(gonghui/orgs/figures.py) rolled back to 31 December; 入库率, 准确率 and 建会率 are the current ones (the platform
keeps no history of declarations and employers) and say so."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from gonghui.casework.models import CaseKind
from gonghui.casework.selectors import case_figures
from gonghui.common.actor import Actor
from gonghui.orgs.models import Organisation
from gonghui.orgs.selectors import active_unions_in
from gonghui.stats.periods import Period, year_period
from gonghui.stats.selectors import (
    Rates,
    counts_at,
    current_figures,
    movements,
    percent,
    rates_of,
    require_figures,
    stale_declarations,
    year_earlier_until,
)


@dataclass(frozen=True)
class SummaryItem:
    section: str
    name: str
    value: int | Decimal | None
    unit: str
    sentence: str  # the sentence a report quotes, with the figure in it
    note: str = ""


@dataclass(frozen=True)
class AnnualSummary:
    org: Organisation
    year: int
    period: Period
    reached: date
    items: list[SummaryItem]

    @property
    def complete(self) -> bool:
        return self.reached >= self.period.end


def _n(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent  # an int for every finite amount
        return f"{value:,.2f}" if isinstance(exponent, int) and exponent <= -2 else f"{value}"
    return f"{value:,}"


def _rate(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


def _coverage_sentence(rates: Rates) -> str:
    if rates.coverage is None and rates.coverage_flag:
        return f"会员实名制入库会员 {_n(rates.registered_in_declared)} 人，{rates.coverage_flag}"
    return f"会员实名制入库率 {_rate(rates.coverage)}"


def _coverage_note(rates: Rates) -> str:
    if rates.coverage_flag and rates.stale_unions:
        return f"当前数；{rates.stale_unions:,} 个工会入库会员多于实有会员数，{rates.coverage_flag}"
    if rates.coverage_flag:
        return f"当前数；{rates.coverage_flag}"
    return "当前数"


def annual_summary(*, actor: Actor, org: Organisation, year: int, today: date) -> AnnualSummary:
    require_figures(actor, org)
    period = year_period(year)
    reached = min(period.until(today), today)
    ids = [org.id]
    current = current_figures(ids)
    end = counts_at(ids, reached, today, current)[org.id]
    before = counts_at(ids, year_earlier_until(period, today).end, today, current)[org.id]
    moved = movements(ids, period.start, reached)[org.id]
    rates = rates_of(current[org.id], stale_declarations(org))
    unions = active_unions_in(org).count()
    complete = reached >= period.end
    as_of = "年底" if complete else f"{reached.month}月{reached.day}日"
    in_year = "全年" if complete else "今年以来"
    growth = end["members"] - before["members"]
    items = [
        SummaryItem(
            "会员发展",
            "会员总数",
            end["members"],
            "人",
            f"截至{as_of}共有会员 {_n(end['members'])} 人，"
            + (f"比上年同期{'增加' if growth > 0 else '减少'} {_n(abs(growth))} 人" if growth else "与上年同期持平"),
        ),
        SummaryItem(
            "会员发展",
            "新增会员",
            moved["joined"],
            "人",
            f"{in_year}新增会员 {_n(moved['joined'])} 人",
        ),
        SummaryItem(
            "会员发展",
            "会员接转",
            moved["transferred_in"],
            "人",
            f"办理会员接转转入 {_n(moved['transferred_in'])} 人、转出 {_n(moved['transferred_out'])} 人",
        ),
        SummaryItem(
            "会员发展",
            "退会及注销",
            moved["left"] + moved["cancelled"],
            "人",
            f"退会 {_n(moved['left'])} 人，注销会籍 {_n(moved['cancelled'])} 人",
        ),
        SummaryItem(
            "会员发展",
            "女职工会员",
            end["female"],
            "人",
            f"女职工会员 {_n(end['female'])} 人，占会员总数的 {_rate(percent(end['female'], end['members']))}",
        ),
        SummaryItem(
            "会员发展",
            "农民工会员",
            end["migrant"],
            "人",
            f"农民工会员 {_n(end['migrant'])} 人，占会员总数的 {_rate(percent(end['migrant'], end['members']))}",
        ),
        SummaryItem(
            "会员发展",
            "新就业形态劳动者会员",
            end["new_employment"],
            "人",
            f"新就业形态劳动者会员 {_n(end['new_employment'])} 人",
        ),
        SummaryItem("组织建设", "基层工会", unions, "个", f"共有基层工会组织 {_n(unions)} 个", "当前数"),
        SummaryItem(
            "组织建设",
            "25人以上企业建会率",
            rates.founding_25,
            "%",
            f"25人以上企业建会率达 {_rate(rates.founding_25)}"
            f"（已建会 {_n(rates.employers_25_covered)} 家，共 {_n(rates.employers_25)} 家）",
            "当前数",
        ),
        SummaryItem(
            "组织建设",
            "100人以上企业建会率",
            rates.founding_100,
            "%",
            f"百人以上企业建会率达 {_rate(rates.founding_100)}"
            f"（已建会 {_n(rates.employers_100_covered)} 家，共 {_n(rates.employers_100)} 家）",
            "当前数",
        ),
        SummaryItem(
            "会员实名制",
            "入库率",
            rates.coverage,
            "%",
            _coverage_sentence(rates),
            _coverage_note(rates),
        ),
        SummaryItem(
            "会员实名制",
            "准确率",
            rates.accuracy,
            "%",
            f"会员信息准确率 {_rate(rates.accuracy)}",
            "当前数，按最近一次数据质量核查",
        ),
    ]
    items.extend(_service_items(actor, org, period.start, reached))
    return AnnualSummary(org=org, year=year, period=period, reached=reached, items=items)


def _service_items(actor: Actor, org: Organisation, start: date, end: date) -> list[SummaryItem]:
    rows = {row.kind: row for row in case_figures(actor=actor, org=org, start=start, end=end)}
    hardship, legal = rows[CaseKind.HARDSHIP], rows[CaseKind.LEGAL]
    insurance, student, care = rows[CaseKind.INSURANCE], rows[CaseKind.STUDENT], rows["care"]
    return [
        SummaryItem(
            "职工服务",
            "困难帮扶",
            hardship.people,
            "人",
            f"帮扶困难职工 {_n(hardship.people)} 人，发放帮扶资金 {_n(hardship.money)} 元",
        ),
        SummaryItem(
            "职工服务",
            "困难职工档案",
            hardship.extra.get("open_files", 0),
            "户",
            f"在档困难职工 {_n(hardship.extra.get('open_files', 0))} 户",
            "当前数",
        ),
        SummaryItem(
            "职工服务",
            "法律援助",
            legal.cases,
            "件",
            f"收到法律援助申请 {_n(legal.cases)} 件，为职工挽回经济损失 "
            f"{_n(legal.extra.get('amount_recovered', Decimal('0.00')))} 元",
        ),
        SummaryItem(
            "职工服务",
            "职工互助保障",
            insurance.extra.get("enrolled", 0),
            "人次",
            f"职工互助保障参保 {_n(insurance.extra.get('enrolled', 0))} 人次，"
            f"为 {_n(insurance.people)} 人赔付互助金 {_n(insurance.money)} 元",
        ),
        SummaryItem(
            "职工服务",
            "金秋助学",
            student.people,
            "人",
            f"金秋助学资助困难职工子女 {_n(student.people)} 人，发放助学金 {_n(student.money)} 元",
        ),
        SummaryItem(
            "职工服务",
            "走访慰问",
            care.people,
            "人次",
            f"走访慰问职工 {_n(care.people)} 人次，发放慰问金 {_n(care.money)} 元",
        ),
    ]
