"""The service centre: 金秋助学 (student aid), granted once per student and year."""

from datetime import date
from decimal import Decimal

import pytest

from gonghui.casework.models import CaseStatus, StudentGrant
from gonghui.casework.services import case_close
from gonghui.common.errors import DomainError, ValidationFailed
from gonghui.members.people import document_index
from tests.casework.factories import E12, advance, apply, nothing_changes, student_id
from tests.members.factories import fresh, resident_id

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "media")]


# ================================================================ 7. 金秋助学


class TestStudentAid:
    def test_a_granted_application_records_the_grant_without_the_students_number(self, member, actors):
        case = apply(member, "student")
        assert case.org.code == E12
        number = student_id(1)
        assert case.details["student_index"] == document_index("resident_id", number)
        assert case.details["student_masked"] == number[:4] + "*" * 10 + number[-4:]
        assert number not in str(case.details)
        assert case.consent_financial_at is not None and case.consent_health_at is None

        case = advance(case, actors, "closed", outcome={"granted": True, "amount": "3000"})

        grant = StudentGrant.objects.get(case=case)
        assert (grant.student_name, grant.school, grant.grade, grant.year) == ("张小红", "苏州大学", "大一", 2025)
        assert (grant.amount, grant.granted_on) == (Decimal("3000.00"), date(2025, 11, 3))
        assert grant.student_index == case.details["student_index"]
        assert fresh(case).amount_granted == Decimal("3000.00")

    def test_a_student_is_granted_once_a_year_whoever_applies(self, member, other_member, actors, clock):
        advance(apply(member, "student"), actors, "closed", outcome={"granted": True, "amount": "3000"})

        for applicant in (member, other_member):
            with nothing_changes(), pytest.raises(DomainError) as refused:
                apply(applicant, "student", student_doc_number=" " + student_id(1).lower() + " ")
            assert refused.value.code == "already_granted"
            assert refused.value.message == "该学生 2025 年已获得金秋助学资助，每名学生每年限资助一次"

        clock.set(date(2026, 3, 2))
        assert apply(other_member, "student").status == CaseStatus.SUBMITTED

    def test_a_student_has_one_open_application_at_a_time(self, member, other_member, actors):
        first = apply(member, "student")
        with nothing_changes(), pytest.raises(DomainError) as refused:
            apply(other_member, "student")
        assert (refused.value.code, refused.value.message) == ("duplicate", "该学生已有一份正在办理的金秋助学申请")
        # Another child of the same member may apply at the same time.
        assert apply(member, "student", student_doc_number=student_id(2), student_name="张小明").kind == "student"
        # Once the first is closed without a grant, the student may apply again.
        advance(first, actors, "closed", outcome={"granted": False})
        assert StudentGrant.objects.count() == 0
        assert apply(other_member, "student").status == CaseStatus.SUBMITTED

    def test_an_invalid_student_id_number_is_refused_with_a_clear_message(self, member):
        good = student_id(1)
        wrong_check = good[:-1] + ("0" if good[-1] != "0" else "1")
        for number, message in [
            ("", "学生证件号码不能为空"),
            (good[:-1], "学生居民身份证号码应为18位（或15位旧号码），实际为17位"),
            (wrong_check, "学生居民身份证号码校验位不正确，请核对是否有输错的数字"),
            ("3.20508E+17", "学生身份证号被 Excel 转成了科学计数法，请将该列设为文本格式后重新录入"),
        ]:
            with nothing_changes(), pytest.raises(ValidationFailed) as refused:
                apply(member, "student", student_doc_number=number)
            assert refused.value.errors == {"student_doc_number": message}

    def test_a_fifteen_year_old_starting_vocational_school_may_apply(self, member, clock):
        # The membership rule (16 and over) does not apply to a student.
        clock.set(date(2025, 9, 1))
        case = apply(member, "student", student_doc_number=resident_id(date(2010, 6, 1), 5), school="苏州技师学院")
        assert case.status == CaseStatus.SUBMITTED
        born_tomorrow = resident_id(date(2025, 9, 2), 6)
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            apply(member, "student", student_doc_number=born_tomorrow)
        assert refused.value.errors == {"student_doc_number": "学生出生日期 2025-09-02 晚于今天，请核对证件号码"}

    def test_the_grant_counts_for_the_year_the_application_was_made_in(self, member, other_member, actors, clock):
        clock.set(date(2025, 12, 30))
        case = apply(member, "student")
        clock.set(date(2026, 1, 5))
        advance(case, actors, "closed", outcome={"granted": True, "amount": "2500"})
        grant = StudentGrant.objects.get(case=case)
        assert (grant.year, grant.granted_on) == (2025, date(2026, 1, 5))
        # The 2026 round is still open to the same student.
        assert apply(other_member, "student").status == CaseStatus.SUBMITTED

    def test_a_student_grant_needs_a_positive_amount(self, member, actors):
        case = advance(apply(member, "student"), actors, "in_progress")
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            case_close(
                actor=actors["grassroots_cadre"], case=case, result="资助", outcome={"granted": "1", "amount": "0"}
            )
        assert refused.value.errors == {"amount": "资助金额应大于零"}
