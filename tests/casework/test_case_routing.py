"""The service centre: working-day deadlines, routing to the handling union, escalation of overdue
cases and the written consents."""

from datetime import date
from io import StringIO

import chinese_calendar
import pytest
from django.core.management import call_command
from django.utils import timezone

from gonghui.audit.models import AuditEvent
from gonghui.casework.kinds import STEP_WORKING_DAYS
from gonghui.casework.models import CaseEvent, CaseStatus, LegalAidRecord
from gonghui.casework.selectors import cases_escalated_to_me, cases_my_queue, cases_overdue
from gonghui.casework.services import Consent, case_accept, case_start, cases_escalate_overdue, member_case_withdraw
from gonghui.common.errors import PermissionDenied, ValidationFailed
from gonghui.common.workdays import add_working_days, is_working_day, working_days_between
from tests.casework.factories import (
    ALL_CONSENT,
    E12,
    GS,
    T01,
    WZ,
    WZE1,
    advance,
    apply,
    last_audit,
    nothing_changes,
    timeline,
)
from tests.members.factories import fresh

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "media")]


NO_CONSENT = Consent()


# ================================================================ 2. deadlines in working days


class TestDeadlines:
    def test_the_calendar_knows_the_holidays_and_the_adjusted_working_days(self):
        assert date(2025, 9, 28).weekday() == 6 and chinese_calendar.is_workday(date(2025, 9, 28))  # 调休 Sunday
        assert date(2025, 10, 11).weekday() == 5 and is_working_day(date(2025, 10, 11))  # 调休 Saturday
        assert not is_working_day(date(2025, 10, 1)) and not is_working_day(date(2025, 10, 8))  # 国庆、中秋
        assert date(2026, 2, 14).weekday() == 5 and is_working_day(date(2026, 2, 14))
        assert not is_working_day(date(2026, 2, 16)) and not is_working_day(date(2026, 2, 23))  # 春节
        assert is_working_day(date(2026, 2, 24))

    @pytest.mark.parametrize(
        ("start", "days", "expected"),
        [
            (date(2025, 11, 3), 0, date(2025, 11, 3)),
            (date(2025, 11, 3), 5, date(2025, 11, 10)),
            (date(2025, 11, 7), 1, date(2025, 11, 10)),  # Friday → Monday
            (date(2025, 9, 26), 1, date(2025, 9, 28)),  # Friday → the working Sunday
            (date(2025, 9, 26), 3, date(2025, 9, 30)),
            (date(2025, 9, 30), 1, date(2025, 10, 9)),  # over National Day and Mid-Autumn, 1-8 October
            (date(2025, 9, 30), 3, date(2025, 10, 11)),  # ... onto the working Saturday
            (date(2025, 9, 30), 5, date(2025, 10, 14)),
            (date(2025, 12, 31), 1, date(2026, 1, 4)),  # New Year 1-3 January, Sunday the 4th worked
            (date(2025, 12, 31), 5, date(2026, 1, 8)),
            (date(2026, 2, 13), 1, date(2026, 2, 14)),  # the working Saturday before Spring Festival
            (date(2026, 2, 13), 2, date(2026, 2, 24)),  # over Spring Festival, 15-23 February
            (date(2026, 2, 13), 5, date(2026, 2, 27)),
            (date(2026, 2, 27), 1, date(2026, 2, 28)),  # the working Saturday after it
        ],
    )
    def test_add_working_days(self, start, days, expected):
        assert add_working_days(start, days) == expected

    def test_add_working_days_refuses_a_negative_count_and_counts_between(self):
        with pytest.raises(ValueError):
            add_working_days(date(2025, 11, 3), -1)
        assert working_days_between(date(2025, 9, 30), date(2025, 10, 14)) == 5
        assert working_days_between(date(2026, 2, 13), date(2026, 2, 28)) == 6
        assert working_days_between(date(2025, 11, 3), date(2025, 11, 3)) == 0

    @pytest.mark.parametrize(
        ("kind", "day", "due"),
        [
            ("hardship", date(2025, 9, 30), date(2025, 10, 14)),
            ("legal", date(2025, 9, 30), date(2025, 10, 11)),
            ("legal", date(2025, 9, 26), date(2025, 9, 30)),
            ("student", date(2026, 2, 13), date(2026, 2, 27)),
            ("legal", date(2026, 2, 13), date(2026, 2, 25)),
            ("hardship", date(2025, 12, 31), date(2026, 1, 8)),
        ],
    )
    def test_an_application_is_due_for_acceptance_in_working_days(self, member, clock, kind, day, due):
        clock.set(day)
        case = apply(member, kind)
        assert case.step_started_on == day
        assert case.due_on == due == add_working_days(day, STEP_WORKING_DAYS[kind][CaseStatus.SUBMITTED])

    def test_each_step_gets_its_own_deadline_over_the_holidays(self, member, actors, clock):
        clock.set(date(2025, 9, 29))
        legal = apply(member, "legal")
        legal = case_accept(actor=actors["district_cadre"], case=legal)
        assert legal.due_on == date(2025, 10, 9)  # 30 September, then 9 October
        legal = case_start(actor=actors["district_cadre"], case=legal, station="姑苏区职工法律援助站")
        assert legal.due_on == add_working_days(date(2025, 9, 29), 30) == date(2025, 11, 17)
        assert LegalAidRecord.objects.get(case=legal).station == "姑苏区职工法律援助站"
        assert CaseEvent.objects.get(case=legal, action="start").note == "指派：姑苏区职工法律援助站"

        clock.set(date(2026, 2, 11))
        case = apply(member, "student")
        assert case.due_on == date(2026, 2, 25)  # 12, 13, 14 (the working Saturday), 24, 25
        clock.set(date(2026, 2, 12))
        case = case_accept(actor=actors["grassroots_cadre"], case=case)
        assert case.due_on == date(2026, 2, 24)  # 13, 14, 24
        clock.set(date(2026, 2, 13))
        case = case_start(actor=actors["grassroots_cadre"], case=case)
        # 14, 24-28 (the 28th a working Saturday), 2-6 and 9-12 March
        assert case.due_on == add_working_days(date(2026, 2, 13), 15) == date(2026, 3, 12)

    def test_legal_aid_starts_only_with_a_lawyer_or_a_station(self, member, actors):
        case = advance(apply(member, "legal"), actors, "accepted")
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            case_start(actor=actors["district_cadre"], case=case)
        assert refused.value.errors == {"lawyer": "请指派承办律师或法律援助站"}
        case_start(actor=actors["district_cadre"], case=case, lawyer="王律师")
        assert LegalAidRecord.objects.get(case=case).lawyer == "王律师"

    def test_a_step_finished_after_its_deadline_marks_the_case_late(self, member, actors, clock):
        case = apply(member, "hardship")  # due 2025-11-10
        clock.set(date(2025, 11, 10))
        case = case_accept(actor=actors["grassroots_cadre"], case=case)
        assert case.was_overdue is False
        clock.set(date(2025, 11, 14))  # accepted step due 2025-11-13
        case = case_start(actor=actors["grassroots_cadre"], case=case)
        assert fresh(case).was_overdue is True


# ================================================================ 3. routing


class TestRouting:
    @pytest.mark.parametrize(
        ("kind", "fields", "handled_by", "note"),
        [
            ("hardship", {"amount_requested": "4999.99"}, E12, "困难帮扶"),
            ("hardship", {"amount_requested": ""}, E12, "困难帮扶"),
            ("hardship", {"amount_requested": "5000"}, GS, "困难帮扶，按规则转由姑苏区总工会承办"),
            ("hardship", {"amount_requested": "12000.50"}, GS, "困难帮扶，按规则转由姑苏区总工会承办"),
            ("legal", {}, GS, "法律援助，按规则转由姑苏区总工会承办"),
            ("student", {"amount_requested": "8000"}, E12, "金秋助学"),
        ],
    )
    def test_a_member_of_union_12_is_served_where_the_rules_say(self, member, kind, fields, handled_by, note):
        case = apply(member, kind, **fields)
        assert case.home_org.code == E12
        assert fresh(case).org.code == handled_by
        assert CaseEvent.objects.get(case=case, action="submit").note == note
        assert last_audit("case.submit").details["handling_org"] == handled_by

    @pytest.mark.parametrize(("kind", "fields"), [("legal", {}), ("hardship", {"amount_requested": "6000"})])
    def test_a_member_in_wuzhong_goes_to_the_wuzhong_federation(self, wz_member, kind, fields):
        case = apply(wz_member, kind, **fields)
        assert (case.home_org.code, fresh(case).org.code) == (WZE1, WZ)

    def test_an_insurance_claim_goes_to_the_union_running_the_plan(self, member, enrolment):
        case = apply(member, "insurance", enrolment=str(enrolment.id))
        assert (case.home_org.code, fresh(case).org.code) == (E12, T01)


# ================================================================ 4. escalation


class TestEscalation:
    def test_overdue_open_cases_go_up_once_per_step(self, member, other_member, wz_member, actors, system, clock):
        a = apply(member, "hardship")  # at "12", due 2025-11-10
        b = apply(member, "legal")  # at 姑苏区, due 2025-11-06
        c = apply(other_member, "student")  # at "123", withdrawn below: never escalated
        d = apply(wz_member, "legal")  # at 吴中区, due 2025-11-06
        member_case_withdraw(account=other_member.account, case_id=c.id)

        with nothing_changes(), pytest.raises(PermissionDenied):  # the daily job's, not a cadre's
            cases_escalate_overdue(actor=actors["city_cadre"], today=date(2025, 11, 7))
        assert cases_escalate_overdue(actor=system, today=date(2025, 11, 6)) == 0  # due today is not overdue
        assert cases_escalate_overdue(actor=system, today=date(2025, 11, 7)) == 2
        b, d = fresh(b), fresh(d)
        assert (b.escalated_to.code, d.escalated_to.code) == ("SZ", "SZ")
        assert b.was_overdue and d.was_overdue and b.escalated_at is not None
        assert fresh(a).escalated_to is None and fresh(a).was_overdue is False

        assert cases_escalate_overdue(actor=system, today=date(2025, 11, 11)) == 1  # only "a" is new
        assert cases_escalate_overdue(actor=system, today=date(2025, 11, 11)) == 0
        assert cases_escalate_overdue(actor=system, today=date(2025, 11, 20)) == 0
        a = fresh(a)
        assert (a.escalated_to.code, a.was_overdue) == (T01, True)
        assert fresh(c).escalated_to is None and fresh(c).was_overdue is False
        event = CaseEvent.objects.get(case=a, action="escalate")
        assert (event.label, event.by, event.note) == ("超期上报", "tests", "已超过待受理期限，上报双塔街道总工会督办")
        escalation = AuditEvent.objects.get(action="case.escalate", object_id=str(a.id))
        assert escalation.details == {"kind": "hardship", "to": T01, "due_on": "2025-11-10"}

        assert list(cases_escalated_to_me(actor=actors["town_cadre"])) == [a]
        assert set(cases_escalated_to_me(actor=actors["city_cadre"])) == {b, d}
        assert list(cases_escalated_to_me(actor=actors["district_cadre"])) == []
        assert list(cases_escalated_to_me(actor=actors["grassroots_cadre"])) == []

        # The town union, supervising, may act on it; a new step clears the escalation but not the lateness.
        clock.set(date(2025, 11, 20))
        a = fresh(case_accept(actor=actors["town_cadre"], case=a))
        assert (a.escalated_to, a.escalated_at, a.was_overdue) == (None, None, True)
        assert a.due_on == date(2025, 11, 25)
        assert list(cases_escalated_to_me(actor=actors["town_cadre"])) == []
        assert cases_escalate_overdue(actor=system, today=date(2025, 11, 25)) == 0
        assert cases_escalate_overdue(actor=system, today=date(2025, 11, 26)) == 1
        assert fresh(a).escalated_to.code == T01
        assert timeline(a) == ["submit", "escalate", "accept", "escalate"]

        # Closed cases leave the escalated list.
        advance(b, actors, "closed")
        assert list(cases_escalated_to_me(actor=actors["city_cadre"])) == [d]

    def test_overdue_and_queue_selectors_list_the_right_cases_for_each_cadre(
        self, member, other_member, wz_member, actors, clock
    ):
        a = apply(member, "hardship")  # "12", due 11-10
        b = apply(member, "legal")  # 姑苏区, due 11-06
        c = apply(other_member, "hardship")  # "123", due 11-10
        d = apply(wz_member, "legal")  # 吴中区, due 11-06
        clock.set(date(2025, 11, 4))
        c = case_accept(actor=actors["town_cadre"], case=c)  # accepted, due 11-07
        day = date(2025, 11, 10)

        assert list(cases_overdue(actor=actors["district_cadre"], today=day)) == [b, c]
        assert list(cases_overdue(actor=actors["town_cadre"], today=day)) == [c]
        assert list(cases_overdue(actor=actors["grassroots_cadre"], today=day)) == []
        assert list(cases_overdue(actor=actors["other_district_cadre"], today=day)) == [d]
        everywhere = list(cases_overdue(actor=actors["city_cadre"], today=date(2025, 11, 11)))
        assert everywhere in ([b, d, c, a], [d, b, c, a])

        assert list(cases_my_queue(actor=actors["grassroots_cadre"])) == [a]
        assert list(cases_my_queue(actor=actors["district_cadre"])) == [b]
        assert list(cases_my_queue(actor=actors["other_district_cadre"])) == [d]
        assert list(cases_my_queue(actor=actors["town_cadre"])) == []  # "123" is handled at "123", not at the town

        advance(a, actors, "closed")
        assert list(cases_my_queue(actor=actors["grassroots_cadre"])) == []

    def test_the_daily_command_escalates_and_ends_transitions(self, member, clock):
        apply(member, "hardship")
        clock.set(date(2025, 11, 11))
        out = StringIO()
        call_command("escalate_cases", stdout=out)
        said = "已上报 1 件超期服务申请；0 件超期未审批的困难帮扶事项；0 份困难职工档案过渡期结束。"
        assert out.getvalue().strip() == said
        assert last_audit("case.escalate").actor_label == "escalate_cases"


# ================================================================ 5. consent


class TestConsent:
    def test_an_application_without_the_consent_it_needs_writes_nothing(self, member):
        for kind, fields, consent, missing in [
            ("hardship", {"causes": ["unemployment"]}, Consent(health=True), "consent_financial"),
            ("hardship", {"causes": ["illness"]}, Consent(financial=True), "consent_health"),
            ("hardship", {"causes": ["disaster", "disability"]}, Consent(financial=True), "consent_health"),
            ("student", {}, Consent(health=True), "consent_financial"),
            ("legal", {"category": "injury"}, Consent(financial=True), "consent_health"),
        ]:
            with nothing_changes(), pytest.raises(ValidationFailed) as refused:
                apply(member, kind, consent=consent, **fields)
            assert list(refused.value.errors) == [missing]

    def test_an_insurance_claim_needs_the_health_consent(self, member, enrolment):
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            apply(member, "insurance", consent=Consent(financial=True), enrolment=str(enrolment.id))
        assert refused.value.errors == {
            "consent_health": "办理此项服务需要使用健康信息（病情、住院、伤残等），请阅读并同意健康信息使用说明"
        }

    @pytest.mark.parametrize(
        ("kind", "fields", "consent", "health", "financial"),
        [
            ("hardship", {"causes": ["unemployment"]}, Consent(financial=True), False, True),
            ("hardship", {"causes": ["illness", "schooling"]}, ALL_CONSENT, True, True),
            ("student", {}, Consent(financial=True), False, True),
            ("legal", {"category": "wages"}, NO_CONSENT, False, False),
            ("legal", {"category": "injury"}, Consent(health=True), True, False),
        ],
    )
    def test_the_consents_given_are_recorded_with_their_time(self, member, kind, fields, consent, health, financial):
        before = timezone.now()
        case = fresh(apply(member, kind, consent=consent, **fields))
        after = timezone.now()
        assert (case.consent_health_at is not None, case.consent_financial_at is not None) == (health, financial)
        for moment in (case.consent_health_at, case.consent_financial_at):
            assert moment is None or before < moment < after
        if health and financial:
            assert case.consent_health_at == case.consent_financial_at
        assert case.consent_by == "会员本人在线同意"

    def test_every_missing_consent_is_named_at_once(self, member):
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            apply(member, "hardship", consent=NO_CONSENT)
        assert refused.value.errors == {
            "consent_financial": "办理此项服务需要核实家庭经济状况，请阅读并同意家庭经济信息使用说明",
            "consent_health": "办理此项服务需要使用健康信息（病情、住院、伤残等），请阅读并同意健康信息使用说明",
        }
