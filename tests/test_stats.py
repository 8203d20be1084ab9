"""Statistics (gonghui/stats): the 驾驶舱, the statistics tables and the annual summary.

A seeded random history (2024-01 to 2026-05) of enrolments, applications, imports, leavings, cancellations,
transfers, reserves, corrections, declared totals, employers and tree changes (a move, a merge, a dissolution) is
played through the services with a frozen clock. Then every figure every selector gives, for every node of the tree
and a range of periods, is compared with a naive recount written here over Membership, Person, Employer and
DeclaredTotal; a full `rebuild_counts()` must change nothing. Also: periods, and who may see what.
"""

import calendar
import csv
import io
import random
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from gonghui.accounts.actors import actor_for_user
from gonghui.accounts.models import User
from gonghui.casework.models import CaseKind
from gonghui.common.actor import system_actor
from gonghui.common.errors import NotFound, PermissionDenied, ValidationFailed
from gonghui.demo.rosters import HEADINGS
from gonghui.imports.roster import roster_import_request, roster_import_run
from gonghui.jobs.models import JobStatus
from gonghui.members import services as members
from gonghui.members.documents import normalise_document
from gonghui.members.figures import failing_refresh, rebuild_counts
from gonghui.members.models import (
    HOLDING_STATUSES,
    NEW_EMPLOYMENT_FORMS,
    ApplicationStatus,
    CorrectionRequest,
    CorrectionStatus,
    DeclaredTotal,
    JoinApplication,
    Membership,
    MembershipSource,
    MembershipStatus,
    Person,
    TransferRequest,
    TransferStatus,
)
from gonghui.members.people import document_number_of, seal_document, seal_phone
from gonghui.orgs.models import (
    GRASSROOTS_TYPES,
    Employer,
    Organisation,
    OrgFigures,
    OrgStatus,
    OrgType,
)
from gonghui.orgs.services import (
    employer_bulk_create,
    employer_create,
    employer_update,
    org_create,
    org_dissolve,
    org_merge,
    org_move,
)
from gonghui.stats import selectors
from gonghui.stats.periods import Period, period_from, year_earlier
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
from tests.conftest import ROLE_ACCOUNTS, valid_uscc
from tests.members.factories import enrol, figures_snapshot, resident_id

pytestmark = pytest.mark.django_db

TODAY = date(2026, 5, 20)  # a Wednesday: the year, the second quarter and May 2026 are running
SHANGHAI = ZoneInfo("Asia/Shanghai")


# ---------------------------------------------------------------- the clock


class Clock:
    """`timezone.now()` for the services: a settable Beijing day, one microsecond later on every call."""

    def __init__(self):
        self.set(TODAY)

    def set(self, day: date) -> None:
        self._now = datetime.combine(day, time(10), tzinfo=SHANGHAI)

    def now(self) -> datetime:
        self._now += timedelta(microseconds=1)
        return self._now.astimezone(UTC)


@pytest.fixture
def clock(monkeypatch):
    frozen = Clock()
    monkeypatch.setattr(timezone, "now", frozen.now)
    return frozen


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


# ---------------------------------------------------------------- building the history


SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"
# Age-band edges in 2026: 35/36, 45/46, 55/56.
BIRTH_YEARS = (1958, 1962, 1966, 1970, 1971, 1975, 1980, 1981, 1985, 1990, 1991, 1995, 1999, 2003, 2007)
FORMS = ("standard",) * 3 + ("courier", "food_delivery", "ride_hailing", "truck_driver", "other_flexible", "")
HUKOU = ("agricultural", "non_agricultural", "non_agricultural", "")
FORM_LABELS = {
    "standard": "标准劳动关系",
    "courier": "快递员",
    "food_delivery": "外卖配送员",
    "ride_hailing": "网约车驾驶员",
    "truck_driver": "货车司机",
    "other_flexible": "其他灵活就业",
    "": "",
}
HUKOU_LABELS = {"agricultural": "农业户口", "non_agricultural": "非农业户口", "": ""}
# Unions a random event may enrol into or transfer to (the one to be dissolved is filled and emptied by script).
OPEN_UNIONS = (
    "SZ-GS-T01-12",
    "SZ-GS-T01-123",
    "SZ-GS-T01-C1-E1",
    "SZ-GS-T02-E1",
    "SZ-GS-T02-C2-E1",
    "SZ-GS-T02-E3",
    "SZ-WZ-T01-E1",
)


@dataclass
class NewPerson:
    name: str
    number: str
    birth: date
    phone: str | None
    form: str
    hukou: str
    education: str


class History:
    """Plays the seeded history through the services, moving the clock to each event's day."""

    def __init__(self, system, clock, seed: int = 20260520):
        self.rng = random.Random(seed)
        self.system = system
        self.clock = clock
        self.serial = 0
        self.uscc_serial = 0
        self.employers: dict[str, Employer] = {}
        self.applications: list[JoinApplication] = []

    # -- helpers

    def org(self, code: str) -> Organisation:
        return Organisation.objects.get(code=code)

    def person(self, *, birth_year: int | None = None, male: bool | None = None, name: str | None = None) -> NewPerson:
        rng = self.rng
        self.serial += 1
        male = rng.random() < 0.5 if male is None else male
        birth = date(birth_year or rng.choice(BIRTH_YEARS), rng.randint(1, 12), rng.randint(1, 28))
        seq = 2 * self.serial + (1 if male else 2)  # distinct; odd is male
        phone = None if rng.random() < 0.12 else f"139{self.serial:08d}"
        return NewPerson(
            name=name or rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
            number=resident_id(birth, seq),
            birth=birth,
            phone=phone,
            form=rng.choice(FORMS),
            hukou=rng.choice(HUKOU),
            education="" if rng.random() < 0.08 else "bachelor",
        )

    def enrol(self, code: str, joined_on: date, person: NewPerson | None = None) -> Membership:
        p = person or self.person()
        return enrol(
            self.system,
            self.org(code),
            name=p.name,
            number=p.number,
            phone=p.phone,
            joined_on=joined_on,
            employment_form=p.form,
            hukou_type=p.hukou,
            education=p.education,
        )

    def roster_line(self, line: int, p: NewPerson, joined_on: date, *, male: bool) -> list[str]:
        return [
            str(line),
            p.name,
            "男" if male else "女",
            "居民身份证",
            p.number,
            p.phone or "",
            "汉族",
            "大学本科" if p.education else "",
            "群众",
            HUKOU_LABELS[p.hukou],
            FORM_LABELS[p.form],
            "一二三有限公司",
            "职员",
            "",
            "否",
            joined_on.isoformat(),
        ]

    def run_import(self, code: str, lines: list[list[str]], mode: str):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(HEADINGS)
        writer.writerows(lines)
        job = roster_import_request(
            actor=self.system,
            org=self.org(code),
            filename="名册.csv",
            content=buffer.getvalue().encode("utf-8-sig"),
            mode=mode,
            enqueue=lambda job_id: None,
        )
        roster_import_run(str(job.id))
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED, job.error
        return job

    def holding(self, *, exclude_codes=()) -> list[Membership]:
        open_transfers = TransferRequest.objects.filter(
            status__in=[TransferStatus.PENDING_RELEASE, TransferStatus.PENDING_ACCEPT]
        ).values_list("membership_id", flat=True)
        return list(
            Membership.objects.filter(status__in=HOLDING_STATUSES)
            .exclude(org__code__in=exclude_codes)
            .exclude(id__in=list(open_transfers))
            .select_related("org", "person", "previous")
            .order_by("card_number")
        )

    def transfer(self, membership: Membership, to_code: str) -> Membership:
        transfer = members.transfer_request(
            actor=self.system, membership=membership, to_org=self.org(to_code), reason="工作调动"
        )
        members.transfer_release(actor=self.system, transfer=transfer)
        return members.transfer_accept(actor=self.system, transfer=transfer)

    def employer(self, key: str, town: str, staff: int, covering: str | None) -> None:
        self.uscc_serial += 1
        self.employers[key] = employer_create(
            actor=self.system,
            name=f"苏州{key}有限公司",
            uscc=valid_uscc(f"91320508MA1X{self.uscc_serial:04d}B"),
            employee_count=staff,
            industry="C",
            town_org=self.org(town),
            covering_union=self.org(covering) if covering else None,
        )

    # -- scripted events

    def build_tree_and_employers(self):
        system = self.system

        def child(parent: str, name: str, code: str, org_type: str):
            org_create(
                actor=system, parent=self.org(parent), name=name, code=code, org_type=org_type, region_code="320508"
            )

        child("SZ-GS-T01-C1", "竹辉社区联合工会", "SZ-GS-T01-C1-E1", OrgType.JOINT_GRASSROOTS)
        child("SZ-GS-T02", "南门社区工会", "SZ-GS-T02-C2", OrgType.COMMUNITY)
        child("SZ-GS-T02-C2", "南门商户联合工会", "SZ-GS-T02-C2-E1", OrgType.JOINT_GRASSROOTS)
        child("SZ-GS-T02", "沧浪纺织有限公司工会委员会", "SZ-GS-T02-E3", OrgType.GRASSROOTS)
        child("SZ-WZ-T01", "木渎五金有限公司工会委员会", "SZ-WZ-T01-E2", OrgType.GRASSROOTS)
        self.employer("十二号", "SZ-GS-T01", 80, "SZ-GS-T01-12")
        self.employer("双塔物流", "SZ-GS-T01", 150, None)
        self.employer("一二三", "SZ-GS-T01", 24, "SZ-GS-T01-123")
        self.employer("竹辉", "SZ-GS-T01", 25, None)
        self.employer("南门", "SZ-GS-T02", 100, "SZ-GS-T02-C2")
        self.employer("沧浪精工", "SZ-GS-T02", 99, "SZ-GS-T02-E1")
        self.employer("木渎光电", "SZ-WZ-T01", 300, "SZ-WZ-T01-E1")
        self.employer("木渎五金", "SZ-WZ-T01", 30, None)

    def fill_union_to_dissolve(self):
        for day in (date(2024, 2, 15), date(2024, 2, 16), date(2024, 2, 20)):
            self.enrol("SZ-WZ-T01-E2", day)

    def leap_day_join(self):
        self.enrol("SZ-GS-T01-12", date(2024, 2, 29))

    def first_declarations(self):
        members.declared_total_record(actor=self.system, org=self.org("SZ-GS-T01-12"), total=12)
        members.declared_total_record(actor=self.system, org=self.org("SZ-WZ-T01-E2"), total=6)

    def duplicates(self):
        """The same worker registered under two documents, and two people giving the same mobile (准确率)."""
        twin = self.person(birth_year=1985, male=True, name="周志强")
        other = NewPerson(**{**asdict(twin), "number": resident_id(twin.birth, 2 * self.serial + 501)})
        self.enrol("SZ-GS-T01-12", date(2024, 3, 6), twin)
        self.enrol("SZ-GS-T02-E1", date(2024, 3, 1), other)
        shared = "13988886666"
        first, second = self.person(), self.person()
        first.phone = second.phone = shared
        self.enrol("SZ-GS-T02-E3", date(2024, 3, 6), first)
        self.enrol("SZ-WZ-T01-E1", date(2024, 3, 2), second)

    def first_import(self):
        """仅新增 into union 123: eight new members, a member of another union (not imported), a bad number."""
        lines = []
        for line in range(2, 10):
            male = self.rng.random() < 0.5
            p = self.person(male=male)
            joined = date(2024, self.rng.randint(1, 6), self.rng.randint(1, 14))
            lines.append(self.roster_line(line, p, joined, male=male))
        elsewhere = self.holding(exclude_codes=("SZ-GS-T01-123",))[0]
        lines.append(
            [
                "10",
                elsewhere.person.name,
                "",
                "居民身份证",
                document_number_of(elsewhere.person),
                *[""] * 10,
                "2024-05-01",
            ]
        )
        lines.append(["11", "错号码", "男", "居民身份证", "320508199001011234", *[""] * 10, "2024-05-01"])
        job = self.run_import("SZ-GS-T01-123", lines, "add")
        assert job.result["summary"]["added"] == 8
        assert job.result["summary"]["conflict"] == 1

    def bulk_load(self):
        people, joined = [], []
        for _ in range(5):
            p = self.person()
            person = Person(
                name=p.name,
                ethnicity="汉族",
                education=p.education,
                hukou_type=p.hukou,
                employment_form=p.form,
                work_unit="竹辉商户",
            )
            seal_document(person, normalise_document("resident_id", p.number, today=timezone.localdate()))
            seal_phone(person, p.phone or "")
            people.append(person)
            joined.append(date(2024, self.rng.randint(7, 9), self.rng.randint(1, 9)))
        members.members_bulk_load(
            actor=self.system, org=self.org("SZ-GS-T01-C1-E1"), people=people, joined_on=joined, source="import"
        )

    def submit_applications(self):
        for _ in range(2):
            p = self.person()
            self.applications.append(
                members.join_application_submit(
                    actor=self.system,
                    org=self.org("SZ-GS-T02-E3"),
                    doc_type="resident_id",
                    doc_number=p.number,
                    phone=p.phone,
                    name=p.name,
                    ethnicity="汉族",
                    education="college",
                    employment_form=p.form,
                    hukou_type=p.hukou,
                    work_unit="沧浪纺织有限公司",
                )
            )

    def approve_applications(self):
        for application in self.applications:
            members.join_application_approve(actor=self.system, application=application)

    def employer_changes(self):
        e = self.employers
        employer_update(actor=self.system, employer=e["双塔物流"], covering_union=self.org("SZ-GS-T01-C1-E1"))
        employer_update(actor=self.system, employer=e["竹辉"], employee_count=24)
        employer_update(actor=self.system, employer=e["木渎五金"], town_org=self.org("SZ-GS-T01"))

    def second_declarations(self):
        union_12 = self.org("SZ-GS-T01-12")
        members.declared_total_record(actor=self.system, org=self.org("SZ-GS-T02-E1"), total=9)
        members.declared_total_record(actor=self.system, org=self.org("SZ-GS-T01-C1-E1"), total=7)
        members.declared_total_record(actor=self.system, org=union_12, total=15)
        # Recorded later but as of an earlier day: not the latest declaration.
        members.declared_total_record(actor=self.system, org=union_12, total=99, as_of=date(2025, 1, 1))

    def second_import(self):
        """新增并更新 into union 123: members already there (two with changed 就业形态/户籍), a returning former
        member of another union, new people."""
        here = [m for m in self.holding() if m.org.code == "SZ-GS-T01-123"][:4]
        lines = []
        for index, membership in enumerate(here):
            person = membership.person
            changed = index < 2
            p = NewPerson(
                name=person.name,
                number=document_number_of(person),
                birth=person.birth_date,
                phone=None,
                form=("courier" if person.employment_form != "courier" else "standard")
                if changed
                else person.employment_form,
                hukou=("agricultural" if person.hukou_type != "agricultural" else "non_agricultural")
                if changed
                else person.hukou_type,
                education=person.education,
            )
            lines.append(self.roster_line(index + 2, p, membership.joined_on, male=person.sex == "M"))
        gone = (
            Membership.objects.filter(status=MembershipStatus.LEFT)
            .exclude(person__memberships__status__in=HOLDING_STATUSES)
            .select_related("person")
            .order_by("card_number")
            .first()
        )
        assert gone is not None
        back = NewPerson(
            name=gone.person.name,
            number=document_number_of(gone.person),
            birth=gone.person.birth_date,
            phone=None,
            form="",
            hukou="",
            education="",
        )
        lines.append(self.roster_line(len(lines) + 2, back, date(2025, 7, 1), male=gone.person.sex == "M"))
        for _ in range(3):
            male = self.rng.random() < 0.5
            lines.append(self.roster_line(len(lines) + 2, self.person(male=male), date(2025, 6, 20), male=male))
        job = self.run_import("SZ-GS-T01-123", lines, "upsert")
        summary = job.result["summary"]
        assert (summary["added"], summary["updated"], summary["unchanged"]) == (4, 2, 2)

    def empty_union_to_dissolve(self):
        staying = [m for m in self.holding() if m.org.code == "SZ-WZ-T01-E2"]
        for index, membership in enumerate(staying):
            if index % 2:
                members.membership_leave(actor=self.system, membership=membership, reason="企业关停")
            else:
                self.transfer(membership, "SZ-WZ-T01-E1")

    def dissolve(self):
        org_dissolve(actor=self.system, org=self.org("SZ-WZ-T01-E2"), reason="企业关停")

    def move(self):
        org_move(actor=self.system, org=self.org("SZ-GS-T02-E1"), new_parent=self.org("SZ-WZ-T01"))

    def third_declarations(self):
        members.declared_total_record(actor=self.system, org=self.org("SZ-GS-T01-123"), total=20)
        members.declared_total_record(actor=self.system, org=self.org("SZ-GS-T02-C2-E1"), total=5)

    def merge(self):
        org_merge(actor=self.system, org=self.org("SZ-GS-T02-C2"), into=self.org("SZ-GS-T01-C1"), reason="社区调整")

    def redeclare_moved(self):
        members.declared_total_record(actor=self.system, org=self.org("SZ-GS-T02-E1"), total=11)

    def late_employers(self):
        employer_update(actor=self.system, employer=self.employers["一二三"], employee_count=260)
        batch = []
        for town, staff, covering in (
            ("SZ-GS-T02", 0, None),
            ("SZ-WZ-T01", 120, "SZ-WZ-T01-E1"),
            ("SZ-GS-T01", 45, "SZ-GS-T02-C2-E1"),
        ):
            self.uscc_serial += 1
            batch.append(
                Employer(
                    name=f"批量登记{self.uscc_serial}号单位",
                    uscc=valid_uscc(f"91320508MA1X{self.uscc_serial:04d}B"),
                    employee_count=staff,
                    industry="F",
                    town_org=self.org(town),
                    covering_union=self.org(covering) if covering else None,
                )
            )
        employer_bulk_create(actor=self.system, employers=batch)

    # Work left waiting at the end: applications, transfers at both steps, a correction request.

    def application_waiting(self, code: str):
        p = self.person()
        members.join_application_submit(
            actor=self.system,
            org=self.org(code),
            doc_type="resident_id",
            doc_number=p.number,
            phone=p.phone,
            name=p.name,
            education="college",
        )

    def transfer_waiting_for_release(self):
        membership = next(m for m in self.holding() if m.org.code == "SZ-GS-T01-123")
        members.transfer_request(
            actor=self.system, membership=membership, to_org=self.org("SZ-GS-T02-E3"), reason="工作调动"
        )

    def transfer_waiting_for_acceptance_and_a_correction(self):
        holding = self.holding()
        membership = next(m for m in holding if m.org.code == "SZ-WZ-T01-E1")
        transfer = members.transfer_request(
            actor=self.system, membership=membership, to_org=self.org("SZ-GS-T01-12"), reason="工作调动"
        )
        members.transfer_release(actor=self.system, transfer=transfer)
        corrected = next(m for m in holding if m.org.code == "SZ-GS-T02-E3")
        CorrectionRequest.objects.create(person=corrected.person, org=corrected.org, changes={"education": "college"})

    # -- random events

    def random_event(self, kind: str, day: date):
        rng = self.rng
        if kind == "enrol":
            joined = day - timedelta(days=rng.choice((0, 0, 3, 10)))
            self.enrol(rng.choice(OPEN_UNIONS), max(joined, date(2024, 1, 2)))
            return
        holding = self.holding()
        if not holding:
            return
        membership = rng.choice(holding)
        start = membership.previous.ended_on if membership.previous_id else membership.joined_on
        if kind == "leave":
            on = max(start, day - timedelta(days=rng.choice((0, 5, 20))))
            members.membership_leave(actor=self.system, membership=membership, reason="离职", on=on)
        elif kind == "cancel":
            members.membership_cancel(actor=self.system, membership=membership, reason="录入错误")
        elif kind == "transfer":
            current = membership.org.code
            self.transfer(membership, rng.choice([c for c in OPEN_UNIONS if c != current]))
        elif kind == "reserve":
            if membership.status == MembershipStatus.ACTIVE:
                members.membership_reserve(actor=self.system, membership=membership, reason="长期病假")
            else:
                members.membership_restore(actor=self.system, membership=membership)
        else:  # a correction of the record; now and then of the document itself (birth date and sex change)
            changes = {"employment_form": rng.choice(FORMS), "hukou_type": rng.choice(HUKOU)}
            if rng.random() < 0.3:
                self.serial += 1
                birth = date(rng.choice(BIRTH_YEARS), rng.randint(1, 12), rng.randint(1, 28))
                changes["doc_number"] = resident_id(birth, 2 * self.serial + rng.choice((1, 2)))
            members.person_update(actor=self.system, person=membership.person, **changes)

    def play(self):
        rng = self.rng
        span = (date(2026, 5, 14) - date(2024, 1, 3)).days
        events = [(date(2024, 1, 3) + timedelta(days=rng.randrange(span)), 1, "enrol") for _ in range(70)]
        kinds = ["leave"] * 4 + ["cancel"] * 2 + ["transfer"] * 4 + ["reserve"] * 3 + ["correct"] * 3
        events += [
            (date(2024, 3, 1) + timedelta(days=rng.randrange(span - 60)), 1, rng.choice(kinds)) for _ in range(60)
        ]
        scripted = [
            (date(2024, 1, 2), self.build_tree_and_employers),
            (date(2024, 2, 20), self.fill_union_to_dissolve),
            (date(2024, 2, 29), self.leap_day_join),
            (date(2024, 3, 5), self.first_declarations),
            (date(2024, 3, 6), self.duplicates),
            (date(2024, 6, 15), self.first_import),
            (date(2024, 9, 10), self.bulk_load),
            (date(2025, 2, 10), self.submit_applications),
            (date(2025, 2, 20), self.approve_applications),
            (date(2025, 3, 15), self.employer_changes),
            (date(2025, 4, 10), self.second_declarations),
            (date(2025, 7, 15), self.second_import),
            (date(2025, 9, 20), self.empty_union_to_dissolve),
            (date(2025, 10, 8), self.dissolve),
            (date(2025, 11, 12), self.move),
            (date(2025, 12, 1), self.third_declarations),
            (date(2026, 1, 15), self.merge),
            (date(2026, 2, 2), self.redeclare_moved),
            (date(2026, 3, 3), self.late_employers),
            (date(2026, 4, 1), lambda: self.application_waiting("SZ-GS-T01-12")),  # overdue by May 20
            (date(2026, 4, 20), self.transfer_waiting_for_release),  # overdue by May 20
            (date(2026, 5, 18), lambda: self.application_waiting("SZ-WZ-T01-E1")),
            (date(2026, 5, 19), self.transfer_waiting_for_acceptance_and_a_correction),
        ]
        events += [(day, 0, action) for day, action in scripted]
        for day, _, action in sorted(events, key=lambda e: (e[0], e[1])):
            self.clock.set(day)
            if callable(action):
                action()
            else:
                self.random_event(action, day)
        self.clock.set(TODAY)
        failing_refresh()


# ---------------------------------------------------------------- the federation after the history

FEDERATION = [  # code, parent, name, type, region: the federation of tests/conftest.py
    ("SZ", None, "苏州市总工会", OrgType.CITY, "320500"),
    ("SZ-GS", "SZ", "姑苏区总工会", OrgType.COUNTY, "320508"),
    ("SZ-GS-T01", "SZ-GS", "双塔街道总工会", OrgType.TOWN, "320508"),
    ("SZ-GS-T01-C1", "SZ-GS-T01", "竹辉社区工会", OrgType.COMMUNITY, "320508"),
    ("SZ-GS-T01-12", "SZ-GS-T01", "十二号公司工会委员会", OrgType.GRASSROOTS, "320508"),
    ("SZ-GS-T02", "SZ-GS", "沧浪街道总工会", OrgType.TOWN, "320508"),
    ("SZ-GS-T02-E1", "SZ-GS-T02", "沧浪精工有限公司工会委员会", OrgType.GRASSROOTS, "320508"),
    ("SZ-WZ", "SZ", "吴中区总工会", OrgType.COUNTY, "320506"),
    ("SZ-WZ-T01", "SZ-WZ", "木渎镇总工会", OrgType.TOWN, "320506"),
    ("SZ-WZ-T01-E1", "SZ-WZ-T01", "木渎光电有限公司工会委员会", OrgType.GRASSROOTS, "320506"),
    ("SZ-GS-T01-123", "SZ-GS-T01", "一二三公司工会委员会", OrgType.GRASSROOTS, "320508"),
]


@dataclass
class World:
    registry: Registry
    actors: dict
    checked_at: datetime  # when the 准确率 check last ran


@pytest.fixture(scope="class")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The federation after the whole history, on 2026-05-20, with the 准确率 check just run. Built once for the
    class inside a transaction that is rolled back afterwards; each test runs in a savepoint of it."""
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))),
        pytest.MonkeyPatch.context() as patch,
        transaction.atomic(),
    ):
        clock = Clock()
        patch.setattr(timezone, "now", clock.now)
        system = system_actor("tests")
        clock.set(date(2024, 1, 2))
        for code, parent, name, org_type, region in FEDERATION:
            org_create(
                actor=system,
                parent=Organisation.objects.get(code=parent) if parent else None,
                name=name,
                code=code,
                org_type=org_type,
                region_code=region,
            )
        actors = {}
        for username, (role, code) in ROLE_ACCOUNTS.items():
            user = User(username=username, full_name=username, org=Organisation.objects.get(code=code), role=role)
            user.set_unusable_password()
            user.save()
            actors[username] = actor_for_user(user, ip="127.0.0.1")
        History(system, clock).play()
        yield World(
            registry=Registry(),
            actors=actors,
            checked_at=OrgFigures.objects.get(org__code="SZ").failing_checked_at,
        )
        transaction.set_rollback(True)


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


# ---------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, Period("year", date(2026, 1, 1), date(2026, 12, 31), "2026年")),
        ({"period": "year", "year": "2024"}, Period("year", date(2024, 1, 1), date(2024, 12, 31), "2024年")),
        ({"period": "year", "year": " 2025 "}, Period("year", date(2025, 1, 1), date(2025, 12, 31), "2025年")),
        (
            {"period": "quarter", "year": "2025", "quarter": "1"},
            Period("quarter", date(2025, 1, 1), date(2025, 3, 31), "2025年第1季度"),
        ),
        (
            {"period": "quarter", "year": "2024", "quarter": "4"},
            Period("quarter", date(2024, 10, 1), date(2024, 12, 31), "2024年第4季度"),
        ),
        ({"period": "quarter"}, Period("quarter", date(2026, 4, 1), date(2026, 6, 30), "2026年第2季度")),
        (
            {"period": "month", "year": "2024", "month": "2"},
            Period("month", date(2024, 2, 1), date(2024, 2, 29), "2024年2月"),
        ),
        (
            {"period": "month", "year": "2025", "month": "2"},
            Period("month", date(2025, 2, 1), date(2025, 2, 28), "2025年2月"),
        ),
        ({"period": "month"}, Period("month", date(2026, 5, 1), date(2026, 5, 31), "2026年5月")),
        (
            {"period": "custom", "start": "2024-11", "end": "2025-03"},
            Period("custom", date(2024, 11, 1), date(2025, 3, 31), "2024年11月至2025年3月"),
        ),
        (
            {"period": "custom", "start": "2024-11-17", "end": "2025-03-02"},
            Period("custom", date(2024, 11, 1), date(2025, 3, 31), "2024年11月至2025年3月"),
        ),
        (
            {"period": "custom", "start": "2024-02", "end": "2024-02-29"},
            Period("custom", date(2024, 2, 1), date(2024, 2, 29), "2024年2月"),
        ),
    ],
)
def test_period_from_reads_each_kind(params, expected):
    period = period_from(params, today=TODAY)
    assert period == expected
    assert period_from(period.params(), today=TODAY) == period  # the links of the page select it again


THIS_YEAR = (date(2026, 1, 1), date(2026, 12, 31), "2026年")
Q2_2025 = (date(2025, 4, 1), date(2025, 6, 30), "2025年第2季度")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"period": "week"}, THIS_YEAR),
        ({"period": "year", "year": "二〇二五"}, THIS_YEAR),
        ({"period": "year", "year": "2025.0"}, THIS_YEAR),
        ({"period": "year", "year": "1999"}, THIS_YEAR),
        ({"period": "year", "year": "2101"}, THIS_YEAR),
        # An unreadable quarter or month: the current one, of the chosen year.
        ({"period": "quarter", "year": "2025", "quarter": "5"}, Q2_2025),
        ({"period": "quarter", "year": "2025", "quarter": "Q1"}, Q2_2025),
        ({"period": "month", "year": "2025", "month": "13"}, (date(2025, 5, 1), date(2025, 5, 31), "2025年5月")),
        ({"period": "month", "year": "2025", "month": "0"}, (date(2025, 5, 1), date(2025, 5, 31), "2025年5月")),
        # A custom period that cannot be read: the year.
        ({"period": "custom", "start": "2025-06", "end": "2025-01"}, THIS_YEAR),
        ({"period": "custom", "start": "2026-02-30", "end": "2026-03"}, THIS_YEAR),
        ({"period": "custom", "start": "2026-13", "end": "2026-12"}, THIS_YEAR),
        ({"period": "custom", "start": "2026/03", "end": "2026-04"}, THIS_YEAR),
        ({"period": "custom", "start": "2026-03"}, THIS_YEAR),
        ({"period": "custom", "start": "1999-12", "end": "2000-02"}, THIS_YEAR),
        ({"period": "custom", "start": "2100-11", "end": "2101-01"}, THIS_YEAR),
        (
            {"period": "custom", "year": "2024", "start": "x", "end": "y"},
            (date(2024, 1, 1), date(2024, 12, 31), "2024年"),
        ),
    ],
)
def test_period_from_falls_back_on_what_it_cannot_read(params, expected):
    period = period_from(params, today=TODAY)
    assert (period.start, period.end, period.label) == expected
    assert period.kind == (params["period"] if params["period"] in ("quarter", "month") else "year")


def test_the_months_and_the_reach_of_a_period():
    custom = period_from({"period": "custom", "start": "2025-11", "end": "2026-08"}, today=TODAY)
    assert custom.months == [date(2025, 11, 1), date(2025, 12, 1), *[date(2026, m, 1) for m in range(1, 9)]]
    assert custom.until(TODAY) == date(2026, 5, 31)  # running: as far as the current month
    assert custom.until(date(2026, 9, 1)) == date(2026, 8, 31)
    assert period_from({"period": "year", "year": "2025"}, today=TODAY).until(TODAY) == date(2025, 12, 31)


def test_the_same_period_a_year_earlier():
    assert year_earlier(date(2024, 2, 29)) == date(2023, 2, 28)
    assert year_earlier(date(2025, 3, 31)) == date(2024, 3, 31)
    february_2024 = period_from({"period": "month", "year": "2024", "month": "2"}, today=TODAY)
    assert february_2024.year_earlier() == Period("month", date(2023, 2, 1), date(2023, 2, 28), "2024年2月（上年同期）")
    february_2025 = period_from({"period": "month", "year": "2025", "month": "2"}, today=TODAY)
    assert february_2025.year_earlier() == Period("month", date(2024, 2, 1), date(2024, 2, 29), "2025年2月（上年同期）")
    winter = period_from({"period": "custom", "start": "2023-12", "end": "2024-02"}, today=TODAY)
    assert winter.year_earlier() == Period(
        "custom", date(2022, 12, 1), date(2023, 2, 28), "2023年12月至2024年2月（上年同期）"
    )


@pytest.mark.parametrize(
    ("params", "today", "expected"),
    [
        # Complete periods: the whole of the same period a year earlier.
        ({"period": "year", "year": "2025"}, TODAY, (date(2024, 1, 1), date(2024, 12, 31))),
        ({"period": "quarter", "year": "2025", "quarter": "1"}, TODAY, (date(2024, 1, 1), date(2024, 3, 31))),
        # Running periods: only as far as the period has run (to the end of the current month).
        ({"period": "year"}, TODAY, (date(2025, 1, 1), date(2025, 5, 31))),
        ({"period": "quarter"}, TODAY, (date(2025, 4, 1), date(2025, 5, 31))),
        ({"period": "month"}, TODAY, (date(2025, 5, 1), date(2025, 5, 31))),
        ({"period": "custom", "start": "2025-11", "end": "2026-08"}, TODAY, (date(2024, 11, 1), date(2025, 5, 31))),
        # 29 February: the earlier stretch ends on the 28th.
        ({"period": "year", "year": "2028"}, date(2028, 2, 29), (date(2027, 1, 1), date(2027, 2, 28))),
        ({"period": "month", "year": "2028", "month": "2"}, date(2028, 2, 29), (date(2027, 2, 1), date(2027, 2, 28))),
        ({"period": "month", "year": "2025", "month": "2"}, date(2025, 2, 10), (date(2024, 2, 1), date(2024, 2, 29))),
    ],
)
def test_the_comparison_runs_only_as_far_as_the_period_has_run(params, today, expected):
    period = period_from(params, today=today)
    earlier = selectors.year_earlier_until(period, today)
    assert (earlier.kind, earlier.start, earlier.end) == (period.kind, *expected)
    assert earlier.label == f"{period.label}（上年同期）"


def test_a_period_that_has_not_started_is_compared_with_a_window_that_runs_forwards():
    period = period_from({"period": "quarter", "year": "2026", "quarter": "4"}, today=TODAY)
    earlier = selectors.year_earlier_until(period, TODAY)
    assert earlier.start <= earlier.end


# ---------------------------------------------------------------- who may see the figures


def _period() -> Period:
    return period_from({}, today=TODAY)


ACTOR_SELECTORS = {
    "dashboard": lambda actor, org: dashboard(actor=actor, org=org, period=_period(), today=TODAY),
    "member_table": lambda actor, org: member_table(actor=actor, org=org, period=_period(), today=TODAY),
    "founding_table": lambda actor, org: founding_table(actor=actor, org=org),
    "annual_summary": lambda actor, org: annual_summary(actor=actor, org=org, year=2025, today=TODAY),
    "service_figures": lambda actor, org: selectors.service_figures(
        actor=actor, org=org, start=date(2026, 1, 1), end=date(2026, 5, 31)
    ),
}


@pytest.mark.parametrize("name", ACTOR_SELECTORS)
def test_an_organisation_outside_the_subtree_is_not_found(tree, actors, name):
    read = ACTOR_SELECTORS[name]
    cadre = actors["other_district_cadre"]  # 吴中区
    for code in ("SZ-GS", "SZ-GS-T01-12", "SZ"):
        with pytest.raises(NotFound):
            read(cadre, tree[code])
    assert read(cadre, tree["SZ-WZ"]) is not None
    assert read(cadre, tree["SZ-WZ-T01-E1"]) is not None


@pytest.mark.parametrize("name", ACTOR_SELECTORS)
@pytest.mark.parametrize("username", ["auditor", "district_auditor", "sysadmin", "secadmin"])
def test_the_administrators_get_no_statistics(tree, actors, name, username):
    actor = actors[username]
    for code in ("SZ", "SZ-GS", "SZ-GS-T01-12"):
        with pytest.raises(PermissionDenied):
            ACTOR_SELECTORS[name](actor, tree[code])


@pytest.mark.parametrize("name", ACTOR_SELECTORS)
def test_a_grassroots_cadre_reads_their_own_union_and_nothing_else(tree, actors, name):
    read = ACTOR_SELECTORS[name]
    cadre = actors["grassroots_cadre"]  # union "12"
    assert read(cadre, tree["SZ-GS-T01-12"]) is not None
    for code in ("SZ-GS-T01-123", "SZ-GS-T01", "SZ-GS-T01-C1", "SZ"):  # "123" only shares a prefix of its code
        with pytest.raises(NotFound):
            read(cadre, tree[code])


# ---------------------------------------------------------------- single changes


def _roster(lines: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADINGS)
    writer.writerows(lines)
    return buffer.getvalue().encode("utf-8-sig")


def test_a_membership_that_came_by_transfer_does_not_end_before_it_came(tree, system, clock):
    today = date(2026, 3, 10)
    clock.set(today)
    union_12, union_e1 = tree["SZ-GS-T01-12"], tree["SZ-GS-T02-E1"]
    membership = enrol(
        system, union_12, name="李四", number=resident_id(date(1990, 5, 17), 13), joined_on=date(2025, 1, 6)
    )
    transfer = members.transfer_request(actor=system, membership=membership, to_org=union_e1, reason="工作调动")
    members.transfer_release(actor=system, transfer=transfer)
    arrived = members.transfer_accept(actor=system, transfer=transfer)
    with pytest.raises(ValidationFailed):
        members.membership_leave(actor=system, membership=arrived, reason="离职", on=date(2026, 2, 2))
    february = period_from({"period": "month", "year": "2026", "month": "2"}, today=today)
    figures = headlines([union_12.id, union_e1.id], february, today)
    assert (figures[union_12.id].members, figures[union_e1.id].members) == (1, 0)
    march = period_from({"period": "month", "year": "2026", "month": "3"}, today=today)
    figures = headlines([union_12.id, union_e1.id], march, today)
    assert (figures[union_12.id].transferred_out, figures[union_e1.id].transferred_in) == (1, 1)
    assert (figures[union_12.id].members, figures[union_e1.id].members) == (0, 1)


def test_members_imported_into_a_union_that_declared_count_for_coverage(tree, system, clock):
    clock.set(date(2026, 5, 20))
    union = tree["SZ-GS-T01-12"]
    enrol(system, union, name="张三", number=resident_id(date(1990, 5, 17), 11), joined_on=date(2025, 1, 6))
    members.declared_total_record(actor=system, org=union, total=10)
    lines = []
    for line, (name, seq) in enumerate((("王芳", 22), ("陈强", 33), ("刘洋", 45)), start=2):
        lines.append(
            [
                str(line),
                name,
                "男" if seq % 2 else "女",
                "居民身份证",
                resident_id(date(1992, 3, 8), seq),
                f"1390000{seq:04d}",
                "汉族",
                "大学本科",
                "群众",
                "非农业户口",
                "标准劳动关系",
                "十二号有限公司",
                "职员",
                "",
                "否",
                "2026-01-05",
            ]
        )
    job = roster_import_request(
        actor=system, org=union, filename="名册.csv", content=_roster(lines), mode="add", enqueue=lambda job_id: None
    )
    roster_import_run(str(job.id))
    job.refresh_from_db()
    assert (job.status, job.result["summary"]["added"]) == (JobStatus.SUCCEEDED, 3)
    rates = rates_of(current_figures([union.id])[union.id])
    assert (rates.registered_in_declared, rates.declared_total) == (4, 10)  # four members held, all in the registry
    assert rates.coverage == Decimal("40.0")


def test_accuracy_follows_a_union_that_moves(tree, system, clock):
    clock.set(date(2026, 5, 20))
    moving, staying, elsewhere = tree["SZ-GS-T01-12"], tree["SZ-GS-T01-123"], tree["SZ-GS-T02-E1"]
    for seq, name in ((11, "赵伟"), (13, "钱磊"), (15, "孙杰")):  # no mobile: each fails a check
        enrol(system, moving, name=name, number=resident_id(date(1988, 7, 1), seq), joined_on=date(2025, 3, 3))
    enrol(
        system,
        staying,
        name="李娜",
        number=resident_id(date(1991, 2, 2), 22),
        phone="13900001111",
        joined_on=date(2025, 3, 3),
    )
    enrol(
        system,
        elsewhere,
        name="周敏",
        number=resident_id(date(1993, 4, 4), 24),
        phone="13900002222",
        joined_on=date(2025, 3, 3),
    )
    failing_refresh()
    town_1, town_2 = tree["SZ-GS-T01"], tree["SZ-GS-T02"]
    before = current_figures([town_1.id, town_2.id])
    assert (rates_of(before[town_1.id]).accuracy, rates_of(before[town_2.id]).accuracy) == (
        Decimal("25.0"),
        Decimal("100.0"),
    )
    org_move(actor=system, org=moving, new_parent=town_2)
    after = current_figures([town_1.id, town_2.id])
    # Town 1 keeps only the one passing record; town 2 now holds one passing and three failing ones.
    assert (rates_of(after[town_1.id]).accuracy, rates_of(after[town_2.id]).accuracy) == (
        Decimal("100.0"),
        Decimal("25.0"),
    )
