"""A seeded random history (2024-01 to 2026-05) played through the services with a frozen clock."""

import csv
import io
import random
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from django.utils import timezone

from gonghui.demo.rosters import HEADINGS
from gonghui.imports.roster import roster_import_request, roster_import_run
from gonghui.jobs.models import JobStatus
from gonghui.members import services as members
from gonghui.members.documents import normalise_document
from gonghui.members.figures import failing_refresh
from gonghui.members.models import (
    HOLDING_STATUSES,
    CorrectionRequest,
    JoinApplication,
    Membership,
    MembershipStatus,
    Person,
    TransferRequest,
    TransferStatus,
)
from gonghui.members.people import document_number_of, seal_document, seal_phone
from gonghui.orgs.models import (
    Employer,
    Organisation,
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
from tests.conftest import valid_uscc
from tests.members.factories import enrol, resident_id
from tests.stats.naive import TODAY

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
