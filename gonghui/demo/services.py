"""Demo data for the service centre (职工服务): a city mutual-insurance plan with the featured union's members
enrolled, a 送温暖 campaign with visits, and cases of every type at every step in the featured union (some past
their deadline and escalated, some closed and rated, one drawn for callback), so the workbench, the case pages,
the figures and the portal have real work to show. Everything goes through the domain services; only the dates
of a few cases are moved back afterwards, to show work that is overdue."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from gonghui.casework.approval import hardship_approval_approve
from gonghui.casework.care import campaign_create, care_visits_record
from gonghui.casework.hardship import hardship_aid_pay, hardship_file_establish, hardship_file_exit
from gonghui.casework.insurance import plan_create, plan_enrol_union
from gonghui.casework.models import HardshipAid, HardshipApproval, HardshipFile, ServiceCase
from gonghui.casework.services import (
    Consent,
    callbacks_draw,
    case_accept,
    case_close,
    case_enter,
    case_reject,
    case_start,
    cases_escalate_overdue,
)
from gonghui.common.actor import Actor
from gonghui.members.models import Membership, MembershipStatus
from gonghui.orgs.models import Organisation

BOTH = Consent(health=True, financial=True)


def _hardship(summary: str, *, causes: list[str], size: int, income: str, amount: str = "") -> dict:
    return {
        "summary": summary,
        "causes": causes,
        "household_size": str(size),
        "household_income": income,
        "amount_requested": amount,
    }


def _close_hardship(actor: Actor, case: ServiceCase, amount: str, tier: str = "relative") -> ServiceCase:
    case_accept(actor=actor, case=case)
    case_start(actor=actor, case=case)
    return case_close(
        actor=actor,
        case=case,
        result="经入户核查情况属实，给予困难帮扶",
        outcome={"granted": "1", "tier": tier, "aid_form": "money", "amount": amount, "aid_description": "困难帮扶金"},
    )


def seed_services(*, actor: Actor, union_code: str) -> dict[str, int]:
    today = timezone.localdate()
    union = Organisation.objects.get(code=union_code)
    root = Organisation.objects.get(path=union.path[:4])
    members = list(
        Membership.objects.filter(org=union, status=MembershipStatus.ACTIVE).select_related("person", "org")[:24]
    )
    if len(members) < 16:
        return {"cases": 0}
    starts = today - timedelta(days=180)
    plan = plan_create(
        actor=actor,
        org=root,
        name="职工住院互助保障",
        year=str(starts.year),
        starts_on=starts.isoformat(),
        ends_on=(starts + timedelta(days=364)).isoformat(),
        premium="30",
        daily_allowance="50",
        max_days="30",
        deductible="800",
        reimbursement_ratio="50",
        claim_cap="8000",
        annual_cap="20000",
    )
    plan_enrol_union(actor=actor, plan=plan, union=union)

    cases = []
    # 困难帮扶: closed and rated, in progress, accepted, new; one over 5000 元 goes to the county federation.
    for index, (amount, tier) in enumerate([("2000", "relative"), ("3000", "deep"), ("1500", "accidental")]):
        case = case_enter(
            actor=actor,
            membership=members[index],
            kind="hardship",
            data=_hardship("家人重病住院，医疗支出大", causes=["illness"], size=3 + index, income="36000"),
            consent=BOTH,
        )
        cases.append(_close_hardship(actor, case, amount, tier))
    # 深度困难 is filed with the parent union's approval (the demo approves it); money grants are signed for.
    hardship_approval_approve(actor=actor, approval=HardshipApproval.objects.get(case=cases[1]), note="同意建档帮扶")
    for number, case in enumerate(cases[:2], start=1):
        aid = HardshipAid.objects.get(case=case)
        name = case.person.name
        pay = {"paid_method": "bank", "paid_amount": str(aid.amount), "paid_on": today.isoformat()}
        pay |= {"receiver": name, "signer": name, "receipt_no": f"KNBF{today.year}{number:04d}"}
        hardship_aid_pay(actor=actor, aid=aid, **pay)
    ServiceCase.objects.filter(id__in=[cases[0].id, cases[1].id]).update(
        rating=5, rating_comment="工会上门了解情况，帮扶及时", rated_at=timezone.now()
    )
    exited = HardshipFile.objects.get(person=members[2].person)
    hardship_file_exit(actor=actor, file=exited, reason="子女已就业，家庭收入稳定", transition_months=6)
    in_progress = case_enter(
        actor=actor,
        membership=members[3],
        kind="hardship",
        data=_hardship("因灾房屋受损", causes=["disaster"], size=4, income="42000", amount="3000"),
        consent=BOTH,
    )
    case_accept(actor=actor, case=in_progress)
    case_start(actor=actor, case=in_progress)
    accepted = case_enter(
        actor=actor,
        membership=members[4],
        kind="hardship",
        data=_hardship("失业半年，子女上学", causes=["unemployment", "schooling"], size=3, income="18000"),
        consent=BOTH,
    )
    case_accept(actor=actor, case=accepted)
    # A 深度困难 file after a home visit, waiting for the parent union's approval.
    hardship_file_establish(
        actor=actor,
        membership=members[6],
        tier="deep",
        causes=["illness"],
        household_size="2",
        household_income="18000",
    )
    for index, summary in [(5, "因残无法全职工作"), (6, "配偶患病长期治疗")]:
        case_enter(
            actor=actor,
            membership=members[index],
            kind="hardship",
            data=_hardship(summary, causes=["disability" if index == 5 else "illness"], size=2, income="24000"),
            consent=BOTH,
        )
    case_enter(
        actor=actor,
        membership=members[7],
        kind="hardship",
        data=_hardship("重大疾病手术费用", causes=["illness"], size=4, income="30000", amount="20000"),
        consent=BOTH,
    )
    rejected = case_enter(
        actor=actor,
        membership=members[8],
        kind="hardship",
        data=_hardship("家庭开支较大", causes=["other"], size=2, income="260000"),
        consent=BOTH,
    )
    case_reject(actor=actor, case=rejected, reason="家庭人均收入高于当地困难职工认定标准")

    # 法律援助 goes to the county federation's legal aid station.
    for index, (category, party) in enumerate([("wages", "苏州某建筑劳务有限公司"), ("contract", "某物流公司")]):
        legal = case_enter(
            actor=actor,
            membership=members[9 + index],
            kind="legal",
            data={
                "summary": "被拖欠三个月工资" if category == "wages" else "被违法解除劳动合同",
                "category": category,
                "counterparty": party,
                "amount_requested": "18600",
            },
            consent=Consent(),
        )
        if index == 0:
            case_accept(actor=actor, case=legal)
            case_start(actor=actor, case=legal, station="区总工会职工法律援助工作站", lawyer="王律师")
            case_close(
                actor=actor,
                case=legal,
                result="经调解，用人单位当场支付拖欠工资",
                outcome={"outcome": "mediated", "amount_recovered": "18600"},
            )

    # 互助保障: a claim paid under the plan's rules, and a new one.
    enrolments = {e.person_id: e for e in plan.enrolments.all()}
    for index, (days, eligible) in [(11, (8, "6800")), (12, (3, "2100"))]:
        claim = case_enter(
            actor=actor,
            membership=members[index],
            kind="insurance",
            data={
                "summary": "住院治疗",
                "enrolment": str(enrolments[members[index].person_id].id),
                "hospital": "苏州市立医院",
                "admitted_on": (today - timedelta(days=20)).isoformat(),
                "discharged_on": (today - timedelta(days=20 - days)).isoformat(),
                "total_cost": str(Decimal(eligible) * 2),
                "eligible_cost": eligible,
            },
            consent=Consent(health=True),
        )
        if index == 11:
            case_accept(actor=actor, case=claim)
            case_start(actor=actor, case=claim)
            case_close(
                actor=actor,
                case=claim,
                result="材料齐全，按计划核定补助",
                outcome={"payable": "1", "reference": "HZ0001"},
            )

    # 金秋助学: one grant made.
    student = case_enter(
        actor=actor,
        membership=members[13],
        kind="student",
        data={
            "summary": "子女考入大学，家庭困难",
            "student_name": members[13].person.name[0] + "小雨",
            "student_doc_number": "320508200709150022",
            "relation": "子女",
            "school": "苏州大学",
            "grade": "本科一年级",
            "amount_requested": "3000",
        },
        consent=Consent(financial=True),
    )
    case_accept(actor=actor, case=student)
    case_start(actor=actor, case=student)
    case_close(actor=actor, case=student, result="符合条件，给予资助", outcome={"granted": "1", "amount": "3000"})

    # Two cases left waiting too long: moved back in time, then escalated as the daily job would.
    late = list(ServiceCase.objects.filter(org=union, status="submitted").order_by("submitted_at")[:2])
    for case in late:
        ServiceCase.objects.filter(id=case.id).update(
            submitted_at=timezone.now() - timedelta(days=14),
            step_started_on=today - timedelta(days=14),
            due_on=today - timedelta(days=6),
        )
    cases_escalate_overdue(actor=actor, today=today)
    callbacks_draw(actor=actor, org=union, start=today - timedelta(days=1), end=today, share=Decimal("0.5"))

    campaign = campaign_create(
        actor=actor,
        org=root,
        kind="warmth",
        name=f"{today.year}年送温暖活动",
        starts_on=(today - timedelta(days=20)).isoformat(),
        ends_on=(today + timedelta(days=40)).isoformat(),
        budget="500000",
    )
    rows = [
        {
            "card_number": m.card_number,
            "money": "500",
            "goods": "米、油",
            "goods_value": "200",
            "visited_on": (today - timedelta(days=3)).isoformat(),
        }
        for m in members[14:20]
    ]
    rows.append(
        {
            "group_name": "一线生产班组",
            "headcount": "36",
            "goods": "防寒手套、暖宝宝",
            "goods_value": "1800",
            "visited_on": (today - timedelta(days=2)).isoformat(),
        }
    )
    care_visits_record(actor=actor, campaign=campaign, org=union, rows=rows)
    return {"cases": ServiceCase.objects.count()}
