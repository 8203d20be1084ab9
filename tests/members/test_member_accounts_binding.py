"""Portal accounts: binding an account to the member record (refused binds leave exactly one "failed" line in the
audit trail), and two binds at the same moment (PostgreSQL)."""

from functools import partial

import pytest

from gonghui.audit.models import AuditEvent, AuditResult
from gonghui.audit.selectors import audit_events_visible_to
from gonghui.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.common.ratelimit import RateLimited
from gonghui.members.member_accounts import (
    BIND_TRIES_PER_HOUR,
    BOUND_ELSEWHERE_MESSAGE,
    PHONE_DIFFERS_MESSAGE,
    WRONG_PAIR_MESSAGE,
    BindingRefused,
    member_account_bind,
    member_account_unbind,
    phone_code_send,
    phone_code_sign_in,
)
from gonghui.members.models import MemberAccount
from gonghui.members.people import phone_index, phone_of
from tests.conftest import is_postgres
from tests.members.concurrency import race
from tests.members.factories import enrol, resident_id
from tests.members.member_account_factories import (
    BIRTH,
    CODE_REFUSED,
    E12,
    IP,
    OTHER_IP,
    OTHER_PHONE,
    PHONE,
    fresh,
    member_events,
    portal_state,
    sign_in,
    without_audit,
)

# ---------------------------------------------------------------- 4. binding


@pytest.fixture
def registered(tree, actors):
    """张三 registered by the union without a phone; 李四 with the login phone OTHER_PHONE; 王五 with another phone."""

    def person(name, seq, phone):
        membership = enrol(actors["grassroots_cadre"], tree[E12], name=name, seq=seq, phone=phone)
        return membership.person, resident_id(BIRTH, seq)

    return {
        "no_phone": person("张三", 101, None),
        "same_phone": person("李四", 102, OTHER_PHONE),
        "other_phone": person("王五", 103, "13600001234"),
    }


def bind(account, name, number, ip=IP):
    return member_account_bind(account=account, name=name, doc_type="resident_id", doc_number=number, ip=ip)


class TestBinding:
    def test_right_name_and_document_bind_and_record_the_login_phone_on_a_person_without_one(self, registered):
        person, number = registered["no_phone"]
        assert person.phone_index == ""
        account = sign_in(PHONE)

        bound = bind(account, "张三", number)

        account = fresh(account)
        assert bound.person_id == account.person_id == person.id
        assert account.bound_at is not None
        assert account.session_version == 0
        person = fresh(person)
        assert phone_of(person) == PHONE
        assert person.phone_index == phone_index(PHONE)
        assert person.phone_masked == "138****1234"
        event = member_events("member.bind").get()
        assert (event.actor_kind, event.actor_id, event.result) == ("member", account.id, AuditResult.SUCCESS)
        assert (event.object_type, event.object_id) == ("person", str(person.id))
        assert event.details == {"phone_recorded": True}

    def test_a_person_registered_with_the_login_phone_binds_without_change(self, registered):
        person, number = registered["same_phone"]
        account = sign_in(OTHER_PHONE)

        bind(account, "李四", number)

        assert fresh(account).person_id == person.id
        assert fresh(person).phone_enc == person.phone_enc  # nothing rewritten
        assert member_events("member.bind").get().details == {"phone_recorded": False}

    def test_wrong_name_and_unknown_number_get_the_identical_refusal(self, registered):
        person, number = registered["no_phone"]
        account = sign_in(PHONE)

        with pytest.raises(BindingRefused) as wrong_name:
            bind(account, "张四", number)
        with pytest.raises(BindingRefused) as unknown_number:
            bind(account, "张三", resident_id(BIRTH, 199))

        def answer(exc):
            return (type(exc), exc.errors, exc.message, exc.code, exc.status, str(exc))

        assert answer(wrong_name.value) == answer(unknown_number.value)
        assert wrong_name.value.errors == {"doc_number": WRONG_PAIR_MESSAGE}
        assert fresh(account).person_id is None

    def test_refused_binds_are_audited_failed_and_change_nothing_else(self, registered):
        person, number = registered["no_phone"]
        account = sign_in(PHONE)
        before = portal_state()

        for name, doc in (("张四", number), ("张三", resident_id(BIRTH, 199))):
            with pytest.raises(ValidationFailed):
                bind(account, name, doc)

        after = portal_state()
        assert without_audit(after) == without_audit(before)
        assert after["audit_events"] == before["audit_events"] + 2
        refused = list(member_events("member.bind"))
        assert [(e.result, e.details) for e in refused] == [(AuditResult.FAILED, {"reason": "wrong_pair"})] * 2
        assert {(e.actor_kind, e.actor_id, e.object_type, e.object_id, e.ip) for e in refused} == {
            ("member", account.id, "member_account", str(account.id), IP)
        }
        assert number not in str([(e.object_label, e.details) for e in refused])

    def test_a_person_already_bound_to_another_account_is_refused(self, registered):
        person, number = registered["no_phone"]
        bind(sign_in(PHONE), "张三", number)
        second = sign_in(OTHER_PHONE)
        before = portal_state()

        with pytest.raises(BindingRefused) as exc:
            bind(second, "张三", number)

        assert exc.value.errors == {"doc_number": BOUND_ELSEWHERE_MESSAGE}
        assert without_audit(portal_state()) == without_audit(before)
        assert member_events("member.bind").last().details == {"reason": "bound_elsewhere"}
        assert member_events("member.bind").last().result == AuditResult.FAILED
        assert MemberAccount.objects.get(person=person).phone_index == phone_index(PHONE)

    def test_a_person_whose_registered_phone_differs_is_refused(self, registered):
        person, number = registered["other_phone"]
        account = sign_in(PHONE)
        before = portal_state()

        with pytest.raises(BindingRefused) as exc:
            bind(account, "王五", number)

        assert exc.value.errors == {"doc_number": PHONE_DIFFERS_MESSAGE}
        assert without_audit(portal_state()) == without_audit(before)
        event = member_events("member.bind").get()
        assert (event.result, event.details) == (AuditResult.FAILED, {"reason": "phone_differs"})
        assert phone_of(fresh(person)) == "13600001234"

    @pytest.mark.parametrize(
        ("name", "number", "field", "message"),
        [
            ("", "registered", "name", "请填写姓名"),
            ("张三", "bad_check_digit", "doc_number", None),
            ("张三", "1234", "doc_number", None),
        ],
    )
    def test_missing_name_or_invalid_document_is_a_field_error(self, registered, name, number, field, message):
        valid = registered["no_phone"][1]
        numbers = {"registered": valid, "bad_check_digit": valid[:-1] + ("1" if valid[-1] == "0" else "0")}
        account = sign_in(PHONE)
        before = portal_state()

        with pytest.raises(ValidationFailed) as exc:
            bind(account, name, numbers.get(number, number))

        assert list(exc.value.errors) == [field]
        assert exc.value.errors[field] == (message or exc.value.errors[field])
        assert exc.value.errors[field] != WRONG_PAIR_MESSAGE
        assert portal_state() == before  # a malformed number is not a try against the registry: no audit line

    def test_bind_tries_are_limited_to_five_an_hour_per_account(self, registered, clock):
        person, number = registered["no_phone"]
        account = sign_in(PHONE)
        assert BIND_TRIES_PER_HOUR == 5
        for _ in range(BIND_TRIES_PER_HOUR):
            with pytest.raises(BindingRefused):
                bind(account, "张四", number)
        before = portal_state()

        with pytest.raises(RateLimited) as exc:
            bind(account, "张三", number, ip=OTHER_IP)

        assert exc.value.message == "核验次数过多，请一小时后再试"
        assert portal_state() == before
        assert fresh(account).person_id is None
        # Another account has its own count; this one may try again the next hour.
        bind(sign_in(OTHER_PHONE), "李四", registered["same_phone"][1])
        clock.advance(3600)
        bind(account, "张三", number)
        assert fresh(account).person_id == person.id

    def test_a_bound_account_cannot_bind_again(self, registered):
        account = sign_in(OTHER_PHONE)
        bind(account, "李四", registered["same_phone"][1])
        before = portal_state()

        with pytest.raises(DomainError) as exc:
            bind(fresh(account), "李四", registered["same_phone"][1])

        assert exc.value.code == "already_bound"
        assert portal_state() == before

    @pytest.mark.parametrize("username", ["grassroots_cadre", "district_cadre", "city_cadre"])
    def test_unbind_by_a_cadre_in_scope_ends_the_binding_and_every_session(self, registered, actors, tree, username):
        person, number = registered["no_phone"]
        account = sign_in(PHONE)
        bind(account, "张三", number)
        session_version = fresh(account).session_version

        assert member_account_unbind(actor=actors[username], person=person) == 1

        account = fresh(account)
        assert (account.person_id, account.bound_at) == (None, None)
        assert account.session_version == session_version + 1
        event = member_events("member.unbind").get()
        assert (event.actor_label, event.object_type, event.object_id) == (username, "person", str(person.id))
        assert event.object_org_path == tree[E12].path
        # Nothing left to unbind; the worker may bind again (the registry kept the phone).
        assert member_account_unbind(actor=actors[username], person=person) == 0
        bind(account, "张三", number)
        assert fresh(account).person_id == person.id

    def test_unbind_by_an_out_of_scope_cadre_is_not_found_and_changes_nothing(self, registered, actors):
        person, number = registered["no_phone"]
        account = sign_in(PHONE)
        bind(account, "张三", number)
        before = portal_state()

        with pytest.raises(NotFound):
            member_account_unbind(actor=actors["other_district_cadre"], person=person)
        with pytest.raises(PermissionDenied):
            member_account_unbind(actor=actors["auditor"], person=person)

        assert portal_state() == before
        assert fresh(account).person_id == person.id

    def test_member_sign_ins_and_refused_binds_are_readable_by_the_root_auditor(self, registered, actors):
        """An audit line no auditor can read is no audit: the city's audit administrator must see the portal's
        sign-ins and refused binds in the audit trail."""
        account = sign_in(PHONE)
        with pytest.raises(BindingRefused):
            bind(account, "张四", registered["no_phone"][1])

        visible = audit_events_visible_to(actors["auditor"])

        assert visible.filter(action="member.login", actor_id=account.id).count() == 1
        assert visible.filter(action="member.bind", result=AuditResult.FAILED).count() == 1


# ---------------------------------------------------------------- 5. at the same moment (PostgreSQL)


@pytest.mark.skipif(not is_postgres(), reason="row locks and concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
class TestConcurrency:
    def test_one_code_used_twice_at_once_signs_in_once(self):
        for round_ in range(3):
            phone = f"1370000{round_:04d}"
            sent = phone_code_send(phone=phone, ip=IP)
            results = race(*[partial(phone_code_sign_in, phone=phone, code=sent.code, ip=IP) for _ in "ab"])

            winners = [r for r in results if isinstance(r, MemberAccount)]
            losers = [r for r in results if not isinstance(r, MemberAccount)]
            assert len(winners) == 1, results
            assert len(losers) == 1 and isinstance(losers[0], ValidationFailed), results
            assert losers[0].errors == {"code": CODE_REFUSED}
            assert MemberAccount.objects.filter(phone_index=phone_index(phone)).count() == 1
            assert AuditEvent.objects.filter(action="member.login", actor_id=winners[0].id).count() == 1

    def test_two_accounts_bind_the_same_person_at_once(self, tree, actors):
        for round_ in range(3):
            number = resident_id(BIRTH, 150 + round_ * 2)
            person = enrol(actors["grassroots_cadre"], tree[E12], name="张三", number=number).person
            first, second = sign_in(f"1370000{round_:04d}"), sign_in(f"1360000{round_:04d}")
            results = race(partial(bind, first, "张三", number), partial(bind, second, "张三", number))

            winners = [r for r in results if isinstance(r, MemberAccount)]
            losers = [r for r in results if not isinstance(r, MemberAccount)]
            assert len(winners) == 1, results
            assert len(losers) == 1 and isinstance(losers[0], BindingRefused), results
            assert losers[0].errors == {"doc_number": BOUND_ELSEWHERE_MESSAGE}
            assert MemberAccount.objects.get(person=person).id == winners[0].id
            assert fresh(person).phone_index == winners[0].phone_index
            assert MemberAccount.objects.get(pk=losers_account(first, second, winners[0])).person_id is None


def losers_account(first, second, winner):
    return second.pk if winner.pk == first.pk else first.pk
