"""The naive side: a recount over Membership, Person, Employer and DeclaredTotal, written out here as the oracle."""

import calendar
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from gonghui.members.models import (
    HOLDING_STATUSES,
    NEW_EMPLOYMENT_FORMS,
    DeclaredTotal,
    Membership,
    MembershipSource,
    MembershipStatus,
    Person,
)
from gonghui.orgs.models import (
    GRASSROOTS_TYPES,
    Employer,
    Organisation,
    OrgStatus,
)
from gonghui.stats.periods import Period

TODAY = date(2026, 5, 20)  # a Wednesday: the year, the second quarter and May 2026 are running
SHANGHAI = ZoneInfo("Asia/Shanghai")


# ---------------------------------------------------------------- the naive side: definitions written out


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def pct(part: int, whole: int) -> Decimal | None:
    """A share in per cent, one decimal, rounded half up; none of nothing."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Held:
    """One membership as the naive recount sees it."""

    org_path: str
    status: str
    source: str
    start: date  # the join date, or for a transfer the day the previous membership ended
    end: date | None
    sex: str
    form: str
    hukou: str
    birth_year: int
    person_id: object

    def holding_at(self, day: date) -> bool:
        """Held at the end of `day`'s month."""
        last = month_end(day)
        return self.start <= last and (self.end is None or self.end > last)

    def starts_in(self, first: date, last: date) -> bool:
        return first <= self.start <= last

    def ends_in(self, first: date, last: date) -> bool:
        return self.end is not None and first <= self.end <= last


class Registry:
    """The registry, the employers and the tree read straight from their tables, with the figures computed the
    slow and obvious way."""

    def __init__(self, today: date = TODAY):
        self.today = today
        self.orgs = list(Organisation.objects.order_by("path"))
        self.by_code = {o.code: o for o in self.orgs}
        self.by_path = {o.path: o for o in self.orgs}
        self.held = [
            Held(
                org_path=m.org.path,
                status=m.status,
                source=m.source,
                start=m.previous.ended_on if m.source == MembershipSource.TRANSFER_IN else m.joined_on,
                end=m.ended_on,
                sex=m.person.sex,
                form=m.person.employment_form,
                hukou=m.person.hukou_type,
                birth_year=m.person.birth_date.year if m.person.birth_date else 0,
                person_id=m.person_id,
            )
            for m in Membership.objects.select_related("org", "person", "previous")
        ]
        people = list(Person.objects.all())
        identities = Counter((p.name, p.birth_date, p.sex) for p in people)
        phones = Counter(p.phone_index for p in people if p.phone_index)
        self.person_fails = {
            p.id: bool(
                p.quality_flags
                or identities[(p.name, p.birth_date, p.sex)] > 1
                or (p.phone_index and phones[p.phone_index] > 1)
            )
            for p in people
        }
        self.latest_declared = {}
        for declared in DeclaredTotal.objects.order_by("as_of", "recorded_at"):
            self.latest_declared[declared.org_id] = declared.total  # the last one wins
        self.employers = list(Employer.objects.select_related("town_org"))

    # -- the subtree of a node

    def inside(self, node: Organisation) -> list[Held]:
        return [h for h in self.held if h.org_path.startswith(node.path)]

    def orgs_inside(self, node: Organisation) -> list[Organisation]:
        return [o for o in self.orgs if o.path.startswith(node.path)]

    def children(self, node: Organisation) -> list[Organisation]:
        return [o for o in self.orgs if o.path.startswith(node.path) and o.depth == node.depth + 1]

    def holding(self, node: Organisation) -> list[Held]:
        return [h for h in self.inside(node) if h.status in HOLDING_STATUSES]

    # -- counts

    def reached(self, period: Period) -> date:
        return min(period.end, month_end(self.today))

    def earlier(self, period: Period) -> tuple[date, date]:
        """The same stretch a year earlier, as far into it as the period has run."""
        reached = self.reached(period)
        return period.start.replace(year=period.start.year - 1), month_end(date(reached.year - 1, reached.month, 1))

    def headline(self, node: Organisation, period: Period) -> dict:
        inside = self.inside(node)
        reached = self.reached(period)
        first, last = self.earlier(period)
        now = [h for h in inside if h.holding_at(reached)]
        before = [h for h in inside if h.holding_at(last)]

        def joined(a, b):
            return sum(h.source != MembershipSource.TRANSFER_IN and h.starts_in(a, b) for h in inside)

        def net(a, b):
            return sum(h.starts_in(a, b) for h in inside) - sum(h.ends_in(a, b) for h in inside)

        return {
            "members": len(now),
            "members_before": len(before),
            "joined": joined(period.start, reached),
            "joined_before": joined(first, last),
            "net_change": net(period.start, reached),
            "net_change_before": net(first, last),
            "transferred_in": sum(
                h.source == MembershipSource.TRANSFER_IN and h.starts_in(period.start, reached) for h in inside
            ),
            "transferred_out": sum(
                h.status == MembershipStatus.TRANSFERRED_OUT and h.ends_in(period.start, reached) for h in inside
            ),
            "left": sum(
                h.status in (MembershipStatus.LEFT, MembershipStatus.CANCELLED) and h.ends_in(period.start, reached)
                for h in inside
            ),
            "new_employment": sum(h.form in NEW_EMPLOYMENT_FORMS for h in now),
            "new_employment_before": sum(h.form in NEW_EMPLOYMENT_FORMS for h in before),
            "female": sum(h.sex == "F" for h in now),
            "migrant": sum(h.hukou == "agricultural" for h in now),
        }

    def trend(self, node: Organisation, period: Period) -> list[tuple]:
        inside = self.inside(node)
        points = []
        month = period.start
        while month <= period.end and month <= self.today.replace(day=1):
            last = month_end(month)
            points.append(
                (
                    month,
                    sum(h.holding_at(month) for h in inside),
                    sum(h.source != MembershipSource.TRANSFER_IN and h.starts_in(month, last) for h in inside),
                    sum(h.source == MembershipSource.TRANSFER_IN and h.starts_in(month, last) for h in inside),
                    sum(h.status == MembershipStatus.TRANSFERRED_OUT and h.ends_in(month, last) for h in inside),
                    sum(
                        h.status in (MembershipStatus.LEFT, MembershipStatus.CANCELLED) and h.ends_in(month, last)
                        for h in inside
                    ),
                )
            )
            month = last + timedelta(days=1)
        return points

    def stock(self, node: Organisation) -> dict:
        """The current figures of the node's subtree."""
        holding = self.holding(node)
        unions = [o for o in self.orgs_inside(node) if o.org_type in GRASSROOTS_TYPES and o.status == OrgStatus.ACTIVE]
        declared = [o for o in unions if o.id in self.latest_declared]
        declared_paths = {o.path for o in declared}
        located = [e for e in self.employers if e.town_org.path.startswith(node.path)]
        counts = {
            "members": len(holding),
            "active": sum(h.status == MembershipStatus.ACTIVE for h in holding),
            "reserved": sum(h.status == MembershipStatus.RESERVED for h in holding),
            "male": sum(h.sex == "M" for h in holding),
            "female": sum(h.sex == "F" for h in holding),
            "new_employment": sum(h.form in NEW_EMPLOYMENT_FORMS for h in holding),
            "migrant": sum(h.hukou == "agricultural" for h in holding),
            "form_unknown": sum(h.form == "" for h in holding),
            "declared_total": sum(self.latest_declared[o.id] for o in declared),
            "declared_unions": len(declared),
            "registered_in_declared": sum(h.org_path in declared_paths for h in holding),
            "employers": len(located),
            "employers_covered": sum(e.covering_union_id is not None for e in located),
            "employers_25": sum(e.employee_count >= 25 for e in located),
            "employers_25_covered": sum(e.employee_count >= 25 and e.covering_union_id is not None for e in located),
            "employers_100": sum(e.employee_count >= 100 for e in located),
            "employers_100_covered": sum(e.employee_count >= 100 and e.covering_union_id is not None for e in located),
            "failing": sum(
                self.person_fails[h.person_id] or self.by_path[h.org_path].status != OrgStatus.ACTIVE for h in holding
            ),
        }
        for form in ("standard", "courier", "food_delivery", "ride_hailing", "truck_driver", "other_flexible"):
            counts[f"form_{form}"] = sum(h.form == form for h in holding)
        own = node.org_type in GRASSROOTS_TYPES and node.status == OrgStatus.ACTIVE
        counts["own_declared"] = self.latest_declared.get(node.id) if own else None
        return counts

    def rates(self, node: Organisation, checked_at) -> dict:
        s = self.stock(node)
        passing = s["members"] - s["failing"]
        registered, declared = s["registered_in_declared"], s["declared_total"]
        holding = self.holding(node)
        over = []  # the members each declared union holds beyond its declaration
        for union in self.orgs_inside(node):
            active = union.org_type in GRASSROOTS_TYPES and union.status == OrgStatus.ACTIVE
            if active and union.id in self.latest_declared:
                held = sum(h.org_path == union.path for h in holding)
                if held > self.latest_declared[union.id]:
                    over.append(held - self.latest_declared[union.id])
        return {
            "coverage": None if registered > declared else pct(registered - sum(over), declared),
            "registered_in_declared": registered,
            "declared_total": declared,
            "declared_unions": s["declared_unions"],
            "stale_unions": len(over),
            "coverage_flag": "实有会员数待更新" if declared and (over or registered > declared) else "",
            "accuracy": pct(passing, s["members"]),
            "passing": passing,
            "checked_at": checked_at,
            "founding_25": pct(s["employers_25_covered"], s["employers_25"]),
            "employers_25_covered": s["employers_25_covered"],
            "employers_25": s["employers_25"],
            "founding_100": pct(s["employers_100_covered"], s["employers_100"]),
            "employers_100_covered": s["employers_100_covered"],
            "employers_100": s["employers_100"],
        }

    def breakdowns(self, node: Organisation) -> list[tuple]:
        holding = self.holding(node)
        ages = [self.today.year - h.birth_year for h in holding if h.birth_year]
        forms = [
            ("标准劳动关系", "standard"),
            ("快递员", "courier"),
            ("外卖配送员", "food_delivery"),
            ("网约车驾驶员", "ride_hailing"),
            ("货车司机", "truck_driver"),
            ("其他灵活就业", "other_flexible"),
            ("未填写", ""),
        ]
        return [
            (
                "性别",
                [
                    ("男", sum(h.sex == "M" for h in holding)),
                    ("女", sum(h.sex == "F" for h in holding)),
                    ("未填写", sum(h.sex not in ("M", "F") for h in holding)),
                ],
            ),
            (
                "年龄",
                [
                    ("35岁及以下", sum(a <= 35 for a in ages)),
                    ("36至45岁", sum(36 <= a <= 45 for a in ages)),
                    ("46至55岁", sum(46 <= a <= 55 for a in ages)),
                    ("56岁及以上", sum(a >= 56 for a in ages)),
                    ("未知", sum(not h.birth_year for h in holding)),
                ],
            ),
            ("就业形态", [(label, sum(h.form == form for h in holding)) for label, form in forms]),
        ]

    def active_unions(self, node: Organisation) -> int:
        return sum(o.org_type in GRASSROOTS_TYPES and o.status == OrgStatus.ACTIVE for o in self.orgs_inside(node))
