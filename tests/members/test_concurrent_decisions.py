"""Member registry workflows: concurrent decisions (PostgreSQL)."""

import contextlib
import threading
from functools import partial

import pytest

from gonghui.audit.models import AuditEvent
from gonghui.common.errors import CaseMovedOn, DomainError
from gonghui.members.models import (
    ApplicationStatus,
    JoinApplication,
    Membership,
    MembershipStatus,
    Person,
    TransferRequest,
    TransferStatus,
)
from gonghui.members.services import (
    applications,
    join_application_approve,
    join_application_withdraw,
    membership_leave,
    transfer_accept,
    transfer_refuse,
    transfer_release,
    transfer_request,
)
from tests.conftest import is_postgres
from tests.members.concurrency import race
from tests.members.factories import enrol, resident_id
from tests.members.workflow_factories import BIRTH, E12, E123, WZE1, card_for, fresh, submit

# ---------------------------------------------------------------- 7. concurrency (PostgreSQL)


def split(results, winner_type):
    winners = [r for r in results if isinstance(r, winner_type)]
    losers = [r for r in results if not isinstance(r, winner_type)]
    return winners, losers


needs_postgres = pytest.mark.skipif(
    not is_postgres(), reason="row locks (SELECT ... FOR UPDATE) and concurrent writers need PostgreSQL"
)


@needs_postgres
@pytest.mark.django_db(transaction=True)
class TestConcurrency:
    def test_two_cadres_approve_the_same_application(self, tree, actors):
        for round_ in range(3):
            application = submit(actors["grassroots_cadre"], tree[E12], name="李四", seq=100 + round_ * 2)
            copies = [JoinApplication.objects.select_related("org", "person").get(pk=application.pk) for _ in "ab"]
            results = race(
                partial(join_application_approve, actor=actors["grassroots_cadre"], application=copies[0]),
                partial(join_application_approve, actor=actors["town_cadre"], application=copies[1]),
            )
            winners, losers = split(results, Membership)
            assert len(winners) == 1, results
            assert len(losers) == 1 and isinstance(losers[0], CaseMovedOn), results
            assert Membership.objects.filter(person_id=application.person_id).count() == 1
            assert fresh(application).status == ApplicationStatus.APPROVED
            assert fresh(application).membership_id == winners[0].id
            assert (
                AuditEvent.objects.filter(action="join_application.approve", object_id=str(application.pk)).count() == 1
            )

    def test_two_target_cadres_accept_the_same_transfer(self, tree, actors):
        for round_ in range(3):
            membership = enrol(actors["other_district_cadre"], tree[WZE1], name="王五", seq=110 + round_ * 2)
            transfer = transfer_request(
                actor=actors["other_district_cadre"], membership=membership, to_org=tree[E12], reason="调动"
            )
            transfer_release(actor=actors["other_district_cadre"], transfer=transfer)
            copies = [TransferRequest.objects.select_related("from_org", "to_org").get(pk=transfer.pk) for _ in "ab"]
            results = race(
                partial(transfer_accept, actor=actors["grassroots_cadre"], transfer=copies[0]),
                partial(transfer_accept, actor=actors["town_cadre"], transfer=copies[1]),
            )
            winners, losers = split(results, Membership)
            assert len(winners) == 1, results
            assert len(losers) == 1 and isinstance(losers[0], CaseMovedOn), results
            rows = Membership.objects.filter(person_id=membership.person_id)
            assert rows.count() == 2
            assert rows.filter(status="active").get().id == winners[0].id
            assert rows.filter(status="transferred_out").get().id == membership.id
            assert fresh(transfer).status == TransferStatus.COMPLETED
            assert fresh(transfer).new_membership_id == winners[0].id
            assert AuditEvent.objects.filter(action="transfer.accept", object_id=str(transfer.pk)).count() == 1

    def test_two_cadres_enrol_the_same_new_person(self, tree, actors):
        number = resident_id(BIRTH, 121)
        results = race(
            lambda: enrol(actors["grassroots_cadre"], tree[E12], name="张三", number=number),
            lambda: enrol(actors["town_cadre"], tree[E123], name="张三", number=number),
        )
        winners, losers = split(results, Membership)
        assert len(winners) == 1, results
        assert len(losers) == 1 and isinstance(losers[0], DomainError), results
        assert losers[0].code == "already_member"
        assert Person.objects.count() == 1
        assert Membership.objects.count() == 1

    def test_two_cadres_reenrol_a_known_person(self, tree, actors):
        number = resident_id(BIRTH, 123)
        first = enrol(actors["grassroots_cadre"], tree[E12], name="张三", number=number)
        membership_leave(actor=actors["grassroots_cadre"], membership=first, reason="离职")
        results = race(
            lambda: enrol(actors["grassroots_cadre"], tree[E12], name="张三", number=number),
            lambda: enrol(actors["town_cadre"], tree[E123], name="张三", number=number),
        )
        winners, losers = split(results, Membership)
        assert len(winners) == 1, results
        assert len(losers) == 1 and isinstance(losers[0], DomainError), results
        assert losers[0].code == "already_member"
        assert Membership.objects.filter(status="active").count() == 1
        assert Membership.objects.count() == 2

    def test_different_people_enrolled_at_once_get_distinct_serials(self, tree, actors):
        results = race(
            lambda: enrol(actors["grassroots_cadre"], tree[E12], name="张三", seq=131),
            lambda: enrol(actors["town_cadre"], tree[E123], name="李四", seq=133),
        )
        assert all(isinstance(r, Membership) for r in results), results
        assert sorted(r.card_number for r in results) == [card_for("320508", 1), card_for("320508", 2)]

    def test_accept_and_refuse_at_once(self, tree, actors):
        membership = enrol(actors["other_district_cadre"], tree[WZE1], name="王五", seq=141)
        transfer = transfer_request(
            actor=actors["other_district_cadre"], membership=membership, to_org=tree[E12], reason="调动"
        )
        transfer_release(actor=actors["other_district_cadre"], transfer=transfer)
        copies = [TransferRequest.objects.get(pk=transfer.pk) for _ in "ab"]
        results = race(
            lambda: transfer_accept(actor=actors["grassroots_cadre"], transfer=copies[0]),
            lambda: transfer_refuse(actor=actors["town_cadre"], transfer=copies[1], reason="不接收"),
        )
        assert sum(isinstance(r, CaseMovedOn) for r in results) == 1, results
        transfer = fresh(transfer)
        if isinstance(results[0], Membership):
            assert transfer.status == TransferStatus.COMPLETED
            assert Membership.objects.filter(person_id=membership.person_id, status="active").get().org_id == (
                tree[E12].id
            )
        else:
            assert isinstance(results[1], TransferRequest), results
            assert transfer.status == TransferStatus.REFUSED
            assert fresh(membership).status == MembershipStatus.ACTIVE
            assert Membership.objects.filter(person_id=membership.person_id).count() == 1

    def test_two_cadres_submit_for_the_same_known_person(self, tree, actors, monkeypatch):
        """Both pass the "no pending application to this union" check before either inserts: the loser must be told
        the application exists (a DomainError), not hit the database constraint as an unhandled IntegrityError."""
        number = resident_id(BIRTH, 151)
        withdrawn = submit(actors["grassroots_cadre"], tree[E12], doc_number=number)
        join_application_withdraw(actor=actors["grassroots_cadre"], application=withdrawn)

        both_checked = threading.Barrier(2)
        original = applications.add_working_days

        def after_the_check(start, days):  # called right after the duplicate check, right before the insert
            # A locking implementation keeps the second caller out until the first commits: the wait times out.
            with contextlib.suppress(threading.BrokenBarrierError):
                both_checked.wait(timeout=3)
            return original(start, days)

        monkeypatch.setattr(applications, "add_working_days", after_the_check)
        results = race(
            lambda: submit(actors["grassroots_cadre"], tree[E12], doc_number=number),
            lambda: submit(actors["town_cadre"], tree[E12], doc_number=number),
        )
        winners, losers = split(results, JoinApplication)
        assert len(winners) == 1, results
        assert JoinApplication.objects.filter(status="pending").count() == 1
        assert len(losers) == 1
        assert isinstance(losers[0], DomainError), f"expected DomainError, got {losers[0]!r}"
        assert (losers[0].code, losers[0].message) == (
            "duplicate_application",
            "该人员已有一份向本会提交的待审核入会申请，请直接审核该申请",
        )
