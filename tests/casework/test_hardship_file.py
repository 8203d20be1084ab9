"""The service centre: the 困难职工档案 (hardship file): establishing, verifying, exiting and aid on it."""

from datetime import date
from decimal import Decimal

import pytest

from gonghui.casework.hardship import (
    add_months,
    hardship_aid_grant,
    hardship_file_establish,
    hardship_file_exit,
    hardship_file_verify,
    hardship_transitions_end,
    income_per_head,
)
from gonghui.casework.models import HardshipAid, HardshipFile
from gonghui.casework.services import case_close
from gonghui.common.errors import DomainError, NotFound, ValidationFailed
from gonghui.members.services import transfer_accept, transfer_release, transfer_request
from tests.casework.factories import E12, E123, GRANT_MONEY, advance, apply, household, last_audit, nothing_changes
from tests.members.factories import fresh

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "media")]


class TestHardshipFile:
    def test_the_file_follows_its_member_to_a_new_union(self, member, actors, tree):
        first = advance(apply(member, "hardship"), actors, "closed", outcome=GRANT_MONEY)
        file = HardshipFile.objects.get(person=member.person)
        assert (file.org.code, first.home_org.code) == (E12, E12)
        town = actors["town_cadre"]
        transfer = transfer_request(actor=town, membership=member.membership, to_org=tree[E123], reason="工作调动")
        transfer_accept(actor=town, transfer=transfer_release(actor=town, transfer=transfer))

        second = advance(apply(member, "hardship"), actors, "closed", outcome=GRANT_MONEY)
        file = HardshipFile.objects.get(person=member.person)
        assert (second.home_org.code, second.org.code, file.org.code) == (E123, E123, E123)
        assert file.aid.count() == 2
        moved = last_audit("hardship.move")
        assert (moved.object_id, moved.details["from"], moved.details["to"]) == (str(file.id), E12, E123)

    @pytest.mark.parametrize(
        ("income", "size", "expected"),
        [
            ("36000", 3, "1000.00"),
            ("35000", 3, "972.22"),
            ("10000", 3, "277.78"),
            ("1230.06", 1, "102.51"),  # 102.505: half up, not to even
            ("0", 4, "0.00"),
        ],
    )
    def test_income_per_head_is_monthly_to_the_fen_rounded_half_up(self, income, size, expected):
        assert income_per_head(Decimal(income), size) == Decimal(expected)

    @pytest.mark.parametrize(
        ("day", "months", "expected"),
        [
            (date(2025, 11, 3), 12, date(2026, 11, 3)),
            (date(2024, 2, 29), 12, date(2025, 2, 28)),
            (date(2025, 8, 31), 6, date(2026, 2, 28)),
            (date(2025, 10, 31), 3, date(2026, 1, 31)),
            (date(2026, 1, 15), 0, date(2026, 1, 15)),
        ],
    )
    def test_add_months_keeps_the_day_or_the_end_of_a_shorter_month(self, day, months, expected):
        assert add_months(day, months) == expected

    def test_closing_granted_hardship_cases_files_the_household_and_records_the_aid(self, member, actors, clock):
        case = apply(member, "hardship", causes=["illness", "disability"], household_income="35000")
        case = advance(case, actors, "closed", outcome=GRANT_MONEY)

        file = HardshipFile.objects.get(person=member.person)
        assert (file.org.code, file.status, file.tier) == (E12, "active", "relative")
        assert file.causes == ["illness", "disability"]
        assert (file.household_size, file.household_income, file.income_per_head) == (
            3,
            Decimal("35000.00"),
            Decimal("972.22"),
        )
        assert (file.established_on, file.verified_on, file.next_verification_on) == (
            date(2025, 11, 3),
            date(2025, 11, 3),
            date(2026, 11, 3),
        )
        assert (file.returned, file.previous, file.case_id) == (False, None, case.id)
        aid = HardshipAid.objects.get(file=file)
        assert (aid.form, aid.amount, aid.granted_on, aid.granted_by, aid.in_transition, aid.case_id) == (
            "money",
            Decimal("2000.00"),
            date(2025, 11, 3),
            "grassroots_cadre",
            False,
            case.id,
        )
        assert last_audit("hardship.establish").details == {"tier": "relative", "returned": False}
        assert last_audit("hardship.aid").details == {"form": "money", "amount": "2000.00", "in_transition": False}

        # A second granted application adds to the same file and refreshes its figures; goods are not money paid.
        clock.set(date(2025, 12, 1))
        second = apply(member, "hardship", causes=["unemployment"], household_size="4", household_income="24000")
        goods = {"granted": "on", "aid_form": "goods", "amount": "800", "aid_description": "米、油、棉被"}
        second = advance(second, actors, "closed", outcome=goods)
        assert fresh(second).amount_granted == Decimal("0.00")
        assert HardshipFile.objects.count() == 1
        file = fresh(file)
        assert (file.tier, file.causes, file.household_size, file.income_per_head) == (
            "relative",
            ["unemployment"],
            4,
            Decimal("500.00"),
        )
        assert list(HardshipAid.objects.filter(file=file).order_by("granted_on").values_list("form", "amount")) == [
            ("money", Decimal("2000.00")),
            ("goods", Decimal("800.00")),
        ]

    def test_closing_without_a_grant_files_nothing(self, member, actors):
        case = advance(apply(member, "hardship"), actors, "closed", outcome={"granted": False})
        assert fresh(case).amount_granted is None
        assert not HardshipFile.objects.exists() and not HardshipAid.objects.exists()

    def test_a_first_grant_needs_the_tier_and_writes_nothing_without_it(self, member, actors):
        case = advance(apply(member, "hardship"), actors, "in_progress")
        outcome = {**GRANT_MONEY, "tier": ""}
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            case_close(actor=actors["grassroots_cadre"], case=case, result="发放帮扶金", outcome=outcome)
        assert refused.value.errors == {"tier": "请选择困难类别"}

    def test_the_yearly_verification_updates_the_file_and_its_next_date(self, member, actors, clock):
        cadre = actors["grassroots_cadre"]
        file = hardship_file_establish(actor=cadre, membership=member.membership, **household())
        clock.set(date(2026, 3, 2))
        data = {
            **household(size="2", income="30000", causes=("illness",), tier="relative"),
            "household": [
                {"name": "张大", "relation": "配偶", "situation": "患病", "annual_income": "0"},
                {"name": "", "relation": "", "situation": "", "annual_income": ""},
            ],
        }

        file = fresh(hardship_file_verify(actor=cadre, file=file, **data))

        assert (file.verified_on, file.next_verification_on) == (date(2026, 3, 2), date(2027, 3, 2))
        assert (file.tier, file.household_size, file.income_per_head) == ("relative", 2, Decimal("1250.00"))
        assert list(file.household.values_list("name", "relation", "annual_income")) == [
            ("张大", "配偶", Decimal("0.00"))
        ]
        assert last_audit("hardship.verify").details == {"tier": "relative", "income_per_head": "1250.00"}

    def test_a_bad_household_row_is_named(self, member, actors):
        rows = [{"name": "张大", "relation": "配偶"}, {"name": "张二", "annual_income": "x"}]
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            hardship_file_establish(
                actor=actors["grassroots_cadre"], membership=member.membership, **{**household(), "household": rows}
            )
        assert refused.value.errors == {"household": "第2位家庭成员：请填写与职工关系"}

    def test_one_open_file_per_person(self, member, actors):
        hardship_file_establish(actor=actors["grassroots_cadre"], membership=member.membership, **household())
        with nothing_changes(), pytest.raises(DomainError, match="该职工已有在档的困难职工档案"):
            hardship_file_establish(actor=actors["town_cadre"], membership=member.membership, **household())

    def test_exit_with_a_transition_period_then_return_to_hardship(self, member, actors, system, clock):
        cadre = actors["grassroots_cadre"]
        money = {"form": "money", "amount": "300", "description": "过渡期生活补助"}
        file = hardship_file_establish(actor=cadre, membership=member.membership, **household())
        clock.set(date(2026, 1, 15))
        file = fresh(hardship_file_exit(actor=cadre, file=file, reason="夫妻二人均已稳定就业", transition_months=3))
        assert (file.status, file.exited_on, file.transition_until) == (
            "transition",
            date(2026, 1, 15),
            date(2026, 4, 15),
        )
        assert file.exit_reason == "夫妻二人均已稳定就业"
        assert last_audit("hardship.exit").details == {"transition_months": 3}

        with nothing_changes(), pytest.raises(DomainError, match="该档案当前为“脱困过渡期”，不能再办理脱困"):
            hardship_file_exit(actor=cadre, file=file, reason="再次脱困")

        clock.set(date(2026, 4, 15))  # the last day of the transition
        aid = hardship_aid_grant(actor=cadre, file=file, **money)
        assert (aid.in_transition, aid.granted_on, aid.amount) == (True, date(2026, 4, 15), Decimal("300.00"))

        clock.set(date(2026, 4, 16))
        with nothing_changes(), pytest.raises(DomainError) as refused:
            hardship_aid_grant(actor=cadre, file=file, **money)
        assert refused.value.message == "该档案的脱困过渡期已于 2026-04-15 结束，不能再发放帮扶"

        assert hardship_transitions_end(actor=system, today=date(2026, 4, 15)) == 0
        assert hardship_transitions_end(actor=system, today=date(2026, 4, 16)) == 1
        assert hardship_transitions_end(actor=system, today=date(2026, 4, 16)) == 0
        assert fresh(file).status == "exited"
        assert last_audit("hardship.transition_end").object_id == str(file.id)
        service = {"form": "service", "amount": "0", "description": "就业指导"}
        with nothing_changes(), pytest.raises(DomainError, match="该档案已解困脱困，过渡期已结束，不能再发放帮扶"):
            hardship_aid_grant(actor=cadre, file=file, **service)
        with nothing_changes(), pytest.raises(DomainError, match="已解困脱困的档案不需要核查"):
            hardship_file_verify(actor=cadre, file=file, **household())

        # 返困: a new application is flagged, and the file it opens points back at the exited one.
        clock.set(date(2026, 5, 6))
        case = apply(member, "hardship", causes=["disaster"])
        assert case.returned_to_hardship is True
        advance(case, actors, "closed", outcome={**GRANT_MONEY, "tier": "accidental"})
        new_file = HardshipFile.objects.get(person=member.person, status="active")
        assert (new_file.returned, new_file.previous_id, new_file.tier) == (True, file.id, "accidental")
        assert fresh(file).status == "exited"
        assert last_audit("hardship.establish").details == {"tier": "accidental", "returned": True}

    def test_a_file_established_after_a_home_visit_for_someone_who_had_exited_is_flagged(self, member, actors):
        cadre = actors["grassroots_cadre"]
        first = hardship_file_establish(actor=cadre, membership=member.membership, **household())
        hardship_file_exit(actor=cadre, file=first, reason="已脱困", transition_months=0)
        first = fresh(first)
        assert (first.status, first.transition_until) == ("exited", date(2025, 11, 3))
        again = hardship_file_establish(actor=cadre, membership=member.membership, **household(tier="relative"))
        assert (again.returned, again.previous_id) == (True, first.id)
        # A case while a file is open is not a return.
        assert apply(member, "hardship").returned_to_hardship is False

    def test_the_transition_lasts_zero_to_twelve_months(self, member, actors):
        file = hardship_file_establish(actor=actors["grassroots_cadre"], membership=member.membership, **household())
        for months in (13, -1, "六"):
            with nothing_changes(), pytest.raises(ValidationFailed) as refused:
                hardship_file_exit(
                    actor=actors["grassroots_cadre"], file=file, reason="已脱困", transition_months=months
                )
            assert refused.value.errors == {"transition_months": "过渡期应为 0 到 12 个月"}
        with nothing_changes(), pytest.raises(NotFound):
            hardship_file_exit(actor=actors["other_district_cadre"], file=file, reason="已脱困")
