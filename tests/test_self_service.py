"""What a member does for themself in the portal, through the services: join (binding the account on the way),
withdraw an application, ask for and withdraw a transfer, look at their own numbers, ask for a correction that a
cadre then applies or rejects; the member's own selectors and the employer search. Every refusal is checked to
leave the registry, the portal accounts and the correction requests as they were."""

from datetime import date
from functools import partial

import pytest
from django.utils import timezone

from gonghui.audit.models import AuditEvent, AuditResult
from gonghui.audit.selectors import audit_events_visible_to
from gonghui.common.errors import CaseMovedOn, DomainError, NotFound, ValidationFailed
from gonghui.common.workdays import add_working_days
from gonghui.members.member_accounts import (
    WRONG_PAIR_MESSAGE,
    BindingRefused,
    member_account_bind,
    phone_code_send,
    phone_code_sign_in,
)
from gonghui.members.models import (
    ApplicationStatus,
    CorrectionRequest,
    CorrectionStatus,
    JoinApplication,
    MemberAccount,
    Membership,
    MembershipSource,
    MembershipStatus,
    Person,
    TransferStatus,
)
from gonghui.members.people import document_number_of, phone_of
from gonghui.members.selectors import (
    correction_get,
    corrections_pending,
    own_application_get,
    own_applications,
    own_corrections,
    own_memberships,
    own_person,
    own_transfer_get,
    own_transfers,
    unions_for_employer_search,
)
from gonghui.members.self_service import (
    member_application_withdraw,
    member_correction_request,
    member_join_apply,
    member_reveal_own,
    member_transfer_request,
    member_transfer_withdraw,
)
from gonghui.members.services import (
    correction_request_apply,
    correction_request_reject,
    join_application_approve,
    membership_leave,
    transfer_accept,
    transfer_release,
    transfer_request,
)
from tests.members.concurrency import race
from tests.conftest import is_postgres
from tests.members.factories import COMPLETE_PROFILE, enrol, registry_state, resident_id

E12 = "SZ-GS-T01-12"
E123 = "SZ-GS-T01-123"
WZE1 = "SZ-WZ-T01-E1"
PHONE = "13812341234"
OTHER_PHONE = "13912345678"
NEW_PHONE = "13700001111"
IP = "203.0.113.7"
BIRTH = date(1990, 5, 17)
CONSENT_MESSAGE = "请阅读并同意个人信息保护说明后提交"


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def sign_in(phone: str) -> MemberAccount:
    sent = phone_code_send(phone=phone, ip=IP)
    return phone_code_sign_in(phone=phone, code=sent.code, ip=IP)


def portal_state() -> dict:
    """The registry, the portal accounts and the correction requests, to prove a refused call changed nothing."""
    return {
        **registry_state(),
        "accounts": sorted(
            MemberAccount.objects.values_list("id", "person_id", "bound_at", "session_version", "password")
        ),
        "corrections": sorted(
            CorrectionRequest.objects.values_list(
                "id", "person_id", "org_id", "changes", "note", "status", "decided_by", "decision_reason"
            )
        ),
        "person_profiles": sorted(
            Person.objects.values_list("id", "education", "post", "ethnicity", "political_status", "phone_index")
        ),
    }


def without_audit(state: dict) -> dict:
    return {key: value for key, value in state.items() if key != "audit_events"}


def join(account, org, *, name, seq, consent=True, **extra):
    """An unbound worker's application: name, document and the complete profile."""
    fields = {**COMPLETE_PROFILE, **extra}
    return member_join_apply(
        account=account,
        org=org,
        consent=consent,
        ip=IP,
        doc_type="resident_id",
        doc_number=fields.pop("doc_number", resident_id(BIRTH, seq)),
        name=name,
        **fields,
    )


def events(action: str):
    return AuditEvent.objects.filter(action=action).order_by("at", "id")


class Member:
    """A person enrolled by their union, signed in on the portal and bound to the record."""

    def __init__(self, actor, org, *, name, seq, phone):
        self.number = resident_id(BIRTH, seq)
        self.membership = enrol(actor, org, name=name, number=self.number, phone=phone)
        self.person = self.membership.person
        self.phone = phone
        account = sign_in(phone)
        member_account_bind(account=account, name=name, doc_type="resident_id", doc_number=self.number, ip=IP)
        self.account = fresh(account)


@pytest.fixture
def member(tree, actors):
    """张三, a member of union "12" (SZ-GS-T01-12), bound to the account of PHONE."""
    return Member(actors["grassroots_cadre"], tree[E12], name="张三", seq=101, phone=PHONE)


@pytest.fixture
def other_member(tree, actors):
    """李四, a member of union "123" (SZ-GS-T01-123), bound to the account of OTHER_PHONE."""
    return Member(actors["town_cadre"], tree[E123], name="李四", seq=102, phone=OTHER_PHONE)


# ---------------------------------------------------------------- 1. joining


class TestJoin:
    def test_unbound_account_joins_by_giving_name_document_and_profile(self, tree):
        account = sign_in(NEW_PHONE)
        number = resident_id(BIRTH, 201)

        application = join(account, tree[E12], name="赵六", seq=201, note="本人申请入会")

        application = fresh(application)
        assert application.status == ApplicationStatus.PENDING
        assert application.source == MembershipSource.ONLINE
        assert application.org_id == tree[E12].id
        assert application.submitted_by == "会员137****1111"
        assert application.consent_at is not None
        assert application.note == "本人申请入会"
        assert application.membership_id is None
        assert application.due_on == add_working_days(timezone.localdate(), 15)
        person = application.person
        assert person.name == "赵六"
        assert document_number_of(person) == number
        assert phone_of(person) == NEW_PHONE  # the verified login phone
        assert (person.education, person.work_unit) == ("bachelor", "十二号有限公司")
        account = fresh(account)
        assert account.person_id == person.id
        assert account.bound_at is not None
        assert Membership.objects.count() == 0
        member_trail = AuditEvent.objects.filter(actor_kind="member").exclude(action="member.login")
        assert sorted(member_trail.values_list("action", flat=True)) == [
            "join_application.submit",
            "member.bind",
            "person.create",
        ]
        assert member_trail.get(action="member.bind").details == {"phone_recorded": False}
        assert member_trail.get(action="join_application.submit").details == {
            "source": "online",
            "already_member_elsewhere": False,
        }

    def test_grassroots_cadre_approves_the_online_application_and_the_membership_is_active(self, tree, actors):
        account = sign_in(NEW_PHONE)
        application = join(account, tree[E12], name="赵六", seq=201)

        membership = join_application_approve(actor=actors["grassroots_cadre"], application=application)

        membership = fresh(membership)
        assert membership.status == MembershipStatus.ACTIVE
        assert membership.source == MembershipSource.ONLINE
        assert membership.org_id == tree[E12].id
        assert membership.person_id == fresh(account).person_id
        application = fresh(application)
        assert application.status == ApplicationStatus.APPROVED
        assert application.membership_id == membership.id
        assert own_memberships(account=fresh(account)) == [membership]

    def test_join_without_consent_is_refused_and_writes_nothing(self, tree):
        account = sign_in(NEW_PHONE)
        before = portal_state()

        with pytest.raises(ValidationFailed) as exc:
            join(account, tree[E12], name="赵六", seq=201, consent=False)

        assert exc.value.errors == {"consent": CONSENT_MESSAGE}
        assert portal_state() == before
        assert fresh(account).person_id is None

    def test_join_without_consent_on_an_existing_record_leaves_the_account_unbound(self, tree, actors):
        former = enrol(actors["grassroots_cadre"], tree[E12], name="赵六", seq=201)
        membership_leave(actor=actors["grassroots_cadre"], membership=former, reason="离职")
        account = sign_in(NEW_PHONE)
        before = portal_state()

        with pytest.raises(ValidationFailed) as exc:
            join(account, tree[E12], name="赵六", seq=201, consent=False)

        assert exc.value.errors == {"consent": CONSENT_MESSAGE}
        assert portal_state() == before  # the binding made on the way was rolled back with the application

    def test_unbound_account_with_an_existing_record_and_the_right_name_joins_as_that_record(self, tree, actors):
        former = enrol(actors["grassroots_cadre"], tree[E12], name="赵六", seq=201)
        membership_leave(actor=actors["grassroots_cadre"], membership=former, reason="离职")
        account = sign_in(NEW_PHONE)

        application = join(account, tree[E123], name="赵六", seq=201)

        assert Person.objects.count() == 1
        assert application.person_id == former.person_id
        assert fresh(account).person_id == former.person_id
        assert phone_of(fresh(former.person)) == NEW_PHONE  # the record had no phone: the login phone is recorded
        assert events("member.bind").get().details == {"phone_recorded": True}

    def test_existing_document_with_a_wrong_name_gets_the_binding_refusal_and_writes_nothing(self, tree, member):
        account = sign_in(NEW_PHONE)
        before = portal_state()

        with pytest.raises(BindingRefused) as joining:
            join(account, tree[E123], name="张四", seq=101)  # 张三's document
        with pytest.raises(BindingRefused) as binding:
            member_account_bind(account=account, name="张四", doc_type="resident_id", doc_number=member.number, ip=IP)

        def answer(exc):
            return (type(exc), exc.errors, exc.message, exc.code, str(exc))

        assert answer(joining.value) == answer(binding.value)
        assert joining.value.errors == {"doc_number": WRONG_PAIR_MESSAGE}
        after = portal_state()
        assert without_audit(after) == without_audit(before)
        assert after["audit_events"] == before["audit_events"] + 2
        refused = list(events("member.bind").filter(actor_id=account.id))
        assert [(e.result, e.details) for e in refused] == [(AuditResult.FAILED, {"reason": "wrong_pair"})] * 2

    def test_bound_member_already_holding_a_membership_is_told_to_transfer(self, tree, member):
        before = portal_state()

        with pytest.raises(DomainError) as exc:
            member_join_apply(account=member.account, org=tree[E123], consent=True, ip=IP)

        assert exc.value.code == "already_member"
        assert exc.value.message == "您已是“十二号公司工会委员会”的会员。如需转到其他工会，请申请会员接转"
        assert portal_state() == before

    def test_bound_worker_without_membership_applies_as_their_record(self, tree):
        account = sign_in(NEW_PHONE)
        first = join(account, tree[E12], name="赵六", seq=201)
        member_application_withdraw(account=fresh(account), application_id=str(first.id), ip=IP)

        again = member_join_apply(account=fresh(account), org=tree[E123], consent=True, note="换个工会", ip=IP)

        assert again.person_id == first.person_id
        assert (again.org_id, again.source, again.status) == (tree[E123].id, "online", ApplicationStatus.PENDING)
        assert Person.objects.count() == 1
        before = portal_state()
        with pytest.raises(DomainError) as exc:
            member_join_apply(account=fresh(account), org=tree[E12], consent=True, ip=IP)
        assert exc.value.code == "duplicate_application"
        assert portal_state() == before


# ---------------------------------------------------------------- 2. withdrawing an application


class TestApplicationWithdraw:
    def test_member_withdraws_own_pending_application(self, tree):
        account = sign_in(NEW_PHONE)
        application = join(account, tree[E12], name="赵六", seq=201)

        withdrawn = member_application_withdraw(account=fresh(account), application_id=str(application.id), ip=IP)

        application = fresh(application)
        assert withdrawn.id == application.id
        assert application.status == ApplicationStatus.WITHDRAWN
        assert application.decided_by == "会员137****1111"
        assert application.decision_reason == "申请人撤回"
        assert application.decided_at is not None
        event = events("join_application.withdraw").get()
        assert (event.actor_kind, event.actor_id, event.object_id) == ("member", account.id, str(application.id))
        assert event.details == {"by": "applicant"}
        assert event.object_org_path == tree[E12].path

    def test_another_members_application_is_not_found_and_stays_pending(self, tree):
        mine = sign_in(NEW_PHONE)
        join(mine, tree[E12], name="赵六", seq=201)
        theirs = sign_in(OTHER_PHONE)
        their_application = join(theirs, tree[E12], name="钱七", seq=202)
        before = portal_state()

        for application_id in (str(their_application.id), their_application.id, "not-an-id"):
            with pytest.raises(NotFound):
                member_application_withdraw(account=fresh(mine), application_id=application_id, ip=IP)

        assert portal_state() == before
        assert fresh(their_application).status == ApplicationStatus.PENDING

    def test_unbound_account_has_no_application_to_withdraw(self, tree):
        application = join(sign_in(NEW_PHONE), tree[E12], name="赵六", seq=201)
        stranger = sign_in(OTHER_PHONE)
        before = portal_state()

        with pytest.raises(NotFound):
            member_application_withdraw(account=stranger, application_id=str(application.id), ip=IP)

        assert portal_state() == before

    def test_withdrawing_a_decided_application_raises_case_moved_on(self, tree, actors):
        account = sign_in(NEW_PHONE)
        application = join(account, tree[E12], name="赵六", seq=201)
        join_application_approve(actor=actors["grassroots_cadre"], application=application)
        before = portal_state()

        with pytest.raises(CaseMovedOn) as exc:
            member_application_withdraw(account=fresh(account), application_id=str(application.id), ip=IP)

        assert (exc.value.code, exc.value.status) == ("conflict", 409)
        assert "已通过" in exc.value.message
        assert portal_state() == before
        assert fresh(application).status == ApplicationStatus.APPROVED


# ---------------------------------------------------------------- 3. transfers


class TestTransfer:
    def test_member_transfer_request_is_completed_by_release_and_accept(self, tree, actors, member):
        transfer = member_transfer_request(account=member.account, to_org=tree[WZE1], reason="工作调动", ip=IP)

        transfer = fresh(transfer)
        assert transfer.requested_by_member is True
        assert transfer.requested_by == "会员138****1234"
        assert (transfer.person_id, transfer.membership_id) == (member.person.id, member.membership.id)
        assert (transfer.from_org_id, transfer.to_org_id) == (tree[E12].id, tree[WZE1].id)
        assert transfer.common_parent_id == tree["SZ"].id
        assert transfer.status == TransferStatus.PENDING_RELEASE
        assert transfer.reason == "工作调动"
        requested = events("transfer.request").get()
        assert (requested.actor_kind, requested.actor_id) == ("member", member.account.id)
        assert requested.details == {"from": E12, "to": WZE1, "by_member": True}

        transfer_release(actor=actors["grassroots_cadre"], transfer=transfer)
        new = transfer_accept(actor=actors["other_district_cadre"], transfer=fresh(transfer))

        transfer = fresh(transfer)
        assert transfer.status == TransferStatus.COMPLETED
        assert transfer.new_membership_id == new.id
        old = fresh(member.membership)
        assert old.status == MembershipStatus.TRANSFERRED_OUT
        new = fresh(new)
        assert (new.org_id, new.status, new.source) == (tree[WZE1].id, "active", MembershipSource.TRANSFER_IN)
        assert new.previous_id == old.id
        assert new.joined_on == old.joined_on
        assert own_transfers(account=member.account) == [transfer]

    @pytest.mark.parametrize("released", [False, True], ids=["pending_release", "pending_accept"])
    def test_member_withdraws_own_open_transfer(self, tree, actors, member, released):
        transfer = member_transfer_request(account=member.account, to_org=tree[E123], reason="工作调动", ip=IP)
        if released:
            transfer_release(actor=actors["grassroots_cadre"], transfer=transfer)

        member_transfer_withdraw(account=member.account, transfer_id=str(transfer.id), ip=IP)

        transfer = fresh(transfer)
        assert transfer.status == TransferStatus.WITHDRAWN
        assert transfer.decided_by == "会员138****1234"
        assert transfer.decided_at is not None
        assert transfer.new_membership_id is None
        assert fresh(member.membership).status == MembershipStatus.ACTIVE
        event = events("transfer.withdraw").get()
        assert (event.actor_kind, event.details, event.object_org_path) == ("member", {"by": "member"}, tree[E12].path)

    def test_member_cannot_withdraw_another_members_transfer(self, tree, member, other_member):
        theirs = member_transfer_request(account=other_member.account, to_org=tree[E12], reason="工作调动", ip=IP)
        before = portal_state()

        with pytest.raises(NotFound):
            member_transfer_withdraw(account=member.account, transfer_id=str(theirs.id), ip=IP)

        assert portal_state() == before
        assert fresh(theirs).status == TransferStatus.PENDING_RELEASE

    def test_member_cannot_withdraw_a_transfer_opened_by_a_cadre(self, tree, actors, member):
        opened = transfer_request(
            actor=actors["grassroots_cadre"], membership=member.membership, to_org=tree[E123], reason="单位调整"
        )
        assert opened.requested_by_member is False
        before = portal_state()

        with pytest.raises(DomainError) as exc:
            member_transfer_withdraw(account=member.account, transfer_id=str(opened.id), ip=IP)

        assert exc.value.code == "not_own_request"
        assert exc.value.message == "该接转由工会发起，如需撤回请联系所在工会"
        assert portal_state() == before

    def test_a_completed_transfer_cannot_be_withdrawn(self, tree, actors, member):
        transfer = member_transfer_request(account=member.account, to_org=tree[E123], reason="工作调动", ip=IP)
        transfer_release(actor=actors["grassroots_cadre"], transfer=transfer)
        transfer_accept(actor=actors["town_cadre"], transfer=fresh(transfer))
        before = portal_state()

        with pytest.raises(CaseMovedOn):
            member_transfer_withdraw(account=member.account, transfer_id=str(transfer.id), ip=IP)

        assert portal_state() == before

    def test_transfer_request_refusals_change_nothing(self, tree, member):
        unbound_account = sign_in(NEW_PHONE)
        before = portal_state()

        with pytest.raises(ValidationFailed) as no_reason:
            member_transfer_request(account=member.account, to_org=tree[E123], reason="  ", ip=IP)
        with pytest.raises(ValidationFailed) as same_union:
            member_transfer_request(account=member.account, to_org=tree[E12], reason="工作调动", ip=IP)
        with pytest.raises(ValidationFailed) as not_grassroots:
            member_transfer_request(account=member.account, to_org=tree["SZ-GS-T01"], reason="工作调动", ip=IP)
        with pytest.raises(DomainError) as unbound:
            member_transfer_request(account=unbound_account, to_org=tree[E123], reason="工作调动", ip=IP)

        assert no_reason.value.errors == {"reason": "请填写接转原因"}
        assert same_union.value.errors == {"to_org": "转入工会与当前所在工会相同"}
        assert list(not_grassroots.value.errors) == ["to_org"]
        assert unbound.value.code == "not_bound"
        assert portal_state() == before

    def test_a_second_open_transfer_is_refused(self, tree, member):
        member_transfer_request(account=member.account, to_org=tree[E123], reason="工作调动", ip=IP)
        before = portal_state()

        with pytest.raises(DomainError) as exc:
            member_transfer_request(account=member.account, to_org=tree[WZE1], reason="工作调动", ip=IP)

        assert exc.value.code == "duplicate_transfer"
        assert portal_state() == before

    def test_a_worker_who_is_not_a_member_cannot_ask_for_a_transfer(self, tree):
        account = sign_in(NEW_PHONE)
        join(account, tree[E12], name="赵六", seq=201)  # pending, not yet a member
        before = portal_state()

        with pytest.raises(DomainError) as exc:
            member_transfer_request(account=fresh(account), to_org=tree[E123], reason="工作调动", ip=IP)

        assert exc.value.code == "not_member"
        assert portal_state() == before


# ---------------------------------------------------------------- 4. own numbers


class TestRevealOwn:
    def test_reveal_own_returns_the_full_numbers_and_is_audited(self, member):
        assert member_reveal_own(account=member.account, field="doc_number", ip=IP) == member.number
        assert member_reveal_own(account=member.account, field="phone", ip=IP) == PHONE

        revealed = list(events("person.reveal_own"))
        assert [e.details for e in revealed] == [{"field": "doc_number"}, {"field": "phone"}]
        for event in revealed:
            assert (event.actor_kind, event.actor_id, event.ip) == ("member", member.account.id, IP)
            assert (event.object_type, event.object_id, event.object_label) == ("person", str(member.person.id), "张*")
            assert member.number not in str(event.details) and PHONE not in str(event.details)

    def test_reveal_own_is_refused_for_an_unbound_account(self, db):
        account = sign_in(NEW_PHONE)
        before = portal_state()

        with pytest.raises(DomainError) as exc:
            member_reveal_own(account=account, field="doc_number", ip=IP)

        assert exc.value.code == "not_bound"
        assert portal_state() == before

    def test_reveal_own_of_another_field_is_refused(self, member):
        before = portal_state()

        with pytest.raises(ValidationFailed) as exc:
            member_reveal_own(account=member.account, field="name", ip=IP)

        assert exc.value.errors == {"field": "只能查看证件号码或手机号码"}
        assert portal_state() == before

    def test_reveal_own_is_readable_by_the_auditors_of_the_members_union(self, tree, actors, member):
        """Audited like any look at a personal number: a cadre's reveal carries the union's path, so the auditors
        of that union (and of the city) read it. The member's own reveal must be readable too."""
        member_reveal_own(account=member.account, field="doc_number", ip=IP)
        event = events("person.reveal_own").get()

        for auditor in ("auditor", "district_auditor"):
            assert audit_events_visible_to(actors[auditor]).filter(pk=event.pk).exists(), auditor


# ---------------------------------------------------------------- 5. corrections


class TestCorrection:
    @pytest.mark.parametrize(
        ("changes", "errors"),
        [
            ({"education": "phd"}, {"education": "学历的取值不正确"}),
            ({"ethnicity": "火星族", "post": "技术员"}, {"ethnicity": "民族的取值不正确"}),
            ({"skill_level": "grade9"}, {"skill_level": "技能等级的取值不正确"}),
            ({"name": "张3"}, {"name": "姓名中不能有数字"}),
        ],
    )
    def test_correction_is_validated_with_the_registrys_rules(self, member, changes, errors):
        before = portal_state()

        with pytest.raises(ValidationFailed) as exc:
            member_correction_request(account=member.account, changes=changes, ip=IP)

        assert exc.value.errors == errors
        assert portal_state() == before

    @pytest.mark.parametrize(
        "changes",
        [
            {"education": "bachelor", "work_unit": "十二号有限公司"},
            {"education": "ｂａｃｈｅｌｏｒ"},  # full width, normalised to the same value
            {"doc_number": "320508199005171234", "phone": "13000000000"},  # not correctable here
            {},
        ],
    )
    def test_a_correction_without_change_is_refused(self, member, changes):
        before = portal_state()

        with pytest.raises(ValidationFailed) as exc:
            member_correction_request(account=member.account, changes=changes, ip=IP)

        assert exc.value.errors == {"changes": "填写的内容与现有资料相同，没有需要更正的内容"}
        assert portal_state() == before

    def test_a_valid_correction_is_recorded_for_the_members_union(self, tree, member):
        correction = member_correction_request(
            account=member.account,
            changes={
                "education": "postgraduate",
                "post": "技术员",
                "work_unit": "十二号有限公司",
                "phone": "13000000000",
            },
            note="已取得硕士学位",
            ip=IP,
        )

        correction = fresh(correction)
        assert correction.changes == {"education": "postgraduate", "post": "技术员"}
        assert (correction.person_id, correction.org_id) == (member.person.id, tree[E12].id)
        assert (correction.status, correction.note) == (CorrectionStatus.PENDING, "已取得硕士学位")
        assert fresh(member.person).education == "bachelor"  # nothing applied yet
        event = events("correction.submit").get()
        assert (event.actor_kind, event.object_id, event.object_org_path) == (
            "member",
            str(correction.id),
            tree[E12].path,
        )
        assert event.details == {"fields": ["education", "post"]}

    def test_only_one_pending_correction_at_a_time(self, member):
        member_correction_request(account=member.account, changes={"post": "技术员"}, ip=IP)
        before = portal_state()

        with pytest.raises(DomainError) as exc:
            member_correction_request(account=member.account, changes={"education": "postgraduate"}, ip=IP)

        assert exc.value.code == "duplicate_correction"
        assert portal_state() == before

    def test_unbound_or_non_member_accounts_cannot_ask_for_a_correction(self, tree):
        unbound = sign_in(NEW_PHONE)
        with pytest.raises(DomainError) as not_bound:
            member_correction_request(account=unbound, changes={"post": "技术员"}, ip=IP)
        join(unbound, tree[E12], name="赵六", seq=201)
        before = portal_state()

        with pytest.raises(DomainError) as not_member:
            member_correction_request(account=fresh(unbound), changes={"post": "技术员"}, ip=IP)

        assert (not_bound.value.code, not_member.value.code) == ("not_bound", "not_member")
        assert portal_state() == before

    @pytest.mark.parametrize("username", ["grassroots_cadre", "town_cadre", "city_cadre"])
    def test_cadre_in_scope_applies_the_correction_and_closes_it(self, member, actors, username):
        correction = member_correction_request(
            account=member.account, changes={"education": "postgraduate", "post": "技术员"}, ip=IP
        )
        actor = actors[username]
        assert list(corrections_pending(actor=actor)) == [correction]
        found = correction_get(actor=actor, correction_id=str(correction.id))

        person = correction_request_apply(actor=actor, correction=found, comment="已核实学位证")

        person = fresh(person)
        assert (person.education, person.post) == ("postgraduate", "技术员")
        correction = fresh(correction)
        assert correction.status == CorrectionStatus.APPLIED
        assert (correction.decided_by, correction.decision_reason) == (username, "已核实学位证")
        assert correction.decided_at is not None
        assert list(corrections_pending(actor=actor)) == []
        corrected = events("person.correct").get()
        assert corrected.details == {"changes": {"education": ["bachelor", "postgraduate"], "post": ["", "技术员"]}}
        applied = events("correction.apply").get()
        assert (applied.actor_label, applied.details) == (
            username,
            {"fields": ["education", "post"], "reason": "已核实学位证"},
        )
        # Closed: the member may ask again, and the same request cannot be applied twice.
        before = portal_state()
        with pytest.raises(CaseMovedOn):
            correction_request_apply(actor=actor, correction=correction)
        assert portal_state() == before
        member_correction_request(account=member.account, changes={"post": "工程师"}, ip=IP)

    def test_rejecting_a_correction_needs_a_reason(self, member, actors):
        correction = member_correction_request(account=member.account, changes={"post": "技术员"}, ip=IP)
        before = portal_state()

        with pytest.raises(ValidationFailed) as exc:
            correction_request_reject(actor=actors["grassroots_cadre"], correction=correction, reason="  ")

        assert exc.value.errors == {"reason": "请填写不予更正的理由"}
        assert portal_state() == before

        correction_request_reject(actor=actors["grassroots_cadre"], correction=correction, reason="无证明材料")

        correction = fresh(correction)
        assert (correction.status, correction.decision_reason) == (CorrectionStatus.REJECTED, "无证明材料")
        assert fresh(member.person).post == ""
        assert events("correction.reject").get().details == {"fields": ["post"], "reason": "无证明材料"}

    @pytest.mark.parametrize("username", ["other_district_cadre", "grassroots_cadre"])
    def test_out_of_scope_cadre_cannot_see_or_decide_the_correction(self, member, other_member, actors, username):
        # other_district_cadre is in another district; grassroots_cadre of "12" must not reach union "123".
        target = member if username == "other_district_cadre" else other_member
        correction = member_correction_request(account=target.account, changes={"post": "技术员"}, ip=IP)
        actor = actors[username]
        before = portal_state()

        with pytest.raises(NotFound):
            correction_get(actor=actor, correction_id=str(correction.id))
        with pytest.raises(NotFound):
            correction_request_apply(actor=actor, correction=correction)
        with pytest.raises(NotFound):
            correction_request_reject(actor=actor, correction=correction, reason="不予更正")

        assert correction not in corrections_pending(actor=actor)
        assert portal_state() == before
        assert fresh(correction).status == CorrectionStatus.PENDING
        assert fresh(target.person).post == ""


# ---------------------------------------------------------------- 6. the member's own selectors


class TestOwnSelectors:
    @pytest.fixture
    def two_workers(self, tree, actors):
        """Two workers who joined online, were approved, and each asked for a correction and a transfer."""
        made = {}
        for key, phone, org, cadre, name, seq, target in (
            ("a", PHONE, E12, "grassroots_cadre", "张三", 101, E123),
            ("b", OTHER_PHONE, E123, "town_cadre", "李四", 102, E12),
        ):
            account = sign_in(phone)
            application = join(account, tree[org], name=name, seq=seq)
            membership = join_application_approve(actor=actors[cadre], application=application)
            account = fresh(account)
            correction = member_correction_request(account=account, changes={"post": "技术员"}, ip=IP)
            transfer = member_transfer_request(account=account, to_org=tree[target], reason="工作调动", ip=IP)
            made[key] = {
                "account": account,
                "person": account.person,
                "application": fresh(application),
                "membership": fresh(membership),
                "correction": correction,
                "transfer": fresh(transfer),
            }
        return made

    def test_own_selectors_return_only_the_members_own_records(self, two_workers):
        for me, them in (("a", "b"), ("b", "a")):
            mine, theirs = two_workers[me], two_workers[them]
            account = mine["account"]

            assert own_person(account=account) == mine["person"]
            assert own_memberships(account=account) == [mine["membership"]]
            assert own_applications(account=account) == [mine["application"]]
            assert own_transfers(account=account) == [mine["transfer"]]
            assert own_corrections(account=account) == [mine["correction"]]
            assert (
                own_application_get(account=account, application_id=str(mine["application"].id)) == mine["application"]
            )
            assert own_transfer_get(account=account, transfer_id=str(mine["transfer"].id)) == mine["transfer"]
            with pytest.raises(NotFound):
                own_application_get(account=account, application_id=str(theirs["application"].id))
            with pytest.raises(NotFound):
                own_transfer_get(account=account, transfer_id=str(theirs["transfer"].id))

    def test_own_selectors_of_an_unbound_account_are_empty(self, two_workers):
        account = sign_in(NEW_PHONE)

        assert own_person(account=account) is None
        assert own_memberships(account=account) == []
        assert own_applications(account=account) == []
        assert own_transfers(account=account) == []
        assert own_corrections(account=account) == []
        for worker in two_workers.values():
            with pytest.raises(NotFound):
                own_application_get(account=account, application_id=str(worker["application"].id))
            with pytest.raises(NotFound):
                own_transfer_get(account=account, transfer_id=str(worker["transfer"].id))


# ---------------------------------------------------------------- 7. finding a union by employer


class TestEmployerSearch:
    def test_unions_for_employer_search_finds_the_covering_union(self, tree, employer_set):
        assert unions_for_employer_search(query="十二号") == [tree[E12]]
        assert unions_for_employer_search(query="  十二号有限公司 ") == [tree[E12]]
        assert unions_for_employer_search(query="木渎光电") == [tree[WZE1]]
        assert set(unions_for_employer_search(query="有限公司")) == {tree[E12], tree[WZE1]}
        assert unions_for_employer_search(query="有限公司", limit=1)[0] in {tree[E12], tree[WZE1]}
        assert len(unions_for_employer_search(query="有限公司", limit=1)) == 1

    def test_an_uncovered_employer_or_a_short_query_finds_nothing(self, tree, employer_set):
        assert unions_for_employer_search(query="双塔物流") == []  # no union covers it
        assert unions_for_employer_search(query="十") == []
        assert unions_for_employer_search(query="") == []
        assert unions_for_employer_search(query="不存在的公司") == []


# ---------------------------------------------------------------- 8. messages


def test_case_moved_on_messages_do_not_double_the_status_prefix(tree, actors, member):
    """The status labels already begin with 已 (已通过, 已完成, 已更正): "该申请已已通过" is not Chinese."""
    account = sign_in(NEW_PHONE)
    application = join(account, tree[E123], name="赵六", seq=201)
    join_application_approve(actor=actors["town_cadre"], application=application)
    transfer = member_transfer_request(account=member.account, to_org=tree[E123], reason="工作调动", ip=IP)
    transfer_release(actor=actors["grassroots_cadre"], transfer=transfer)
    transfer_accept(actor=actors["town_cadre"], transfer=fresh(transfer))
    correction = member_correction_request(account=fresh(account), changes={"post": "技术员"}, ip=IP)
    correction_request_apply(actor=actors["town_cadre"], correction=correction)

    messages = []
    with pytest.raises(CaseMovedOn) as exc:
        member_application_withdraw(account=fresh(account), application_id=str(application.id), ip=IP)
    messages.append(exc.value.message)
    with pytest.raises(CaseMovedOn) as exc:
        member_transfer_withdraw(account=member.account, transfer_id=str(transfer.id), ip=IP)
    messages.append(exc.value.message)
    with pytest.raises(CaseMovedOn) as exc:
        correction_request_reject(actor=actors["town_cadre"], correction=correction, reason="重复")
    messages.append(exc.value.message)

    assert [("已已" in m) for m in messages] == [False, False, False], messages


# ---------------------------------------------------------------- 9. at the same moment (PostgreSQL)


@pytest.mark.skipif(not is_postgres(), reason="row locks and concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
class TestConcurrency:
    def test_two_withdrawals_of_one_application_at_once(self, tree):
        account = sign_in(NEW_PHONE)
        application = join(account, tree[E12], name="赵六", seq=201)
        account = fresh(account)

        results = race(
            *[partial(member_application_withdraw, account=account, application_id=str(application.id)) for _ in "ab"]
        )

        winners = [r for r in results if isinstance(r, JoinApplication)]
        losers = [r for r in results if not isinstance(r, JoinApplication)]
        assert len(winners) == 1, results
        assert len(losers) == 1 and isinstance(losers[0], CaseMovedOn), results
        assert events("join_application.withdraw").count() == 1

    def test_two_correction_requests_at_once_leave_one_pending_and_a_clear_refusal(self, tree, actors):
        for round_ in range(3):
            member = Member(
                actors["grassroots_cadre"], tree[E12], name="张三", seq=150 + round_ * 2, phone=f"1370000{round_:04d}"
            )
            results = race(
                partial(member_correction_request, account=member.account, changes={"post": "技术员"}, ip=IP),
                partial(member_correction_request, account=member.account, changes={"education": "college"}, ip=IP),
            )

            winners = [r for r in results if isinstance(r, CorrectionRequest)]
            losers = [r for r in results if not isinstance(r, CorrectionRequest)]
            assert len(winners) == 1, results
            assert CorrectionRequest.objects.filter(person=member.person, status="pending").count() == 1
            # The loser is told why, as when the two requests come one after the other; not a database error.
            assert len(losers) == 1 and isinstance(losers[0], DomainError), results
            assert losers[0].code == "duplicate_correction"


def test_an_online_application_must_give_what_a_complete_record_needs(tree):
    account = sign_in(NEW_PHONE)
    before = registry_state()

    with pytest.raises(ValidationFailed) as exc:
        join(account, tree[E12], name="李新", seq=5, work_unit="", education="")

    assert exc.value.errors == {"education": "请选择学历", "work_unit": "请填写工作单位"}
    assert registry_state() == before
