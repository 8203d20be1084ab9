"""Fixtures of the member-registry tests: the registry world of the access tests and its clients, two members bound
on the portal, the SMS outbox of what is committed, and a clock for the rate limits."""

from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from gonghui.common import ratelimit
from gonghui.common.sms import MemorySmsSender
from gonghui.members import member_accounts
from gonghui.members.services import declared_total_record, join_application_submit, member_enrol, transfer_request
from gonghui.orgs.models import OrgType
from gonghui.orgs.services import org_create
from tests.members.access_world import APPLICANTS, DECLARED, MEMBERS, T2E2, TRANSFERS, _person_fields, resident_id
from tests.members.factories import Member
from tests.members.member_account_factories import DAY_START, Clock
from tests.members.self_service_factories import E12, E123, OTHER_PHONE, PHONE


@pytest.fixture
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def reg(tree, accounts, system):
    """The registry: members in SZ-GS-T01-12, -123, SZ-GS-T02-E1 and SZ-WZ-T01-E1 (profiles left incomplete, so
    every record is on the rectification list), three pending join applications, four open transfers and declared
    totals."""
    tree = {
        **tree,
        T2E2: org_create(
            actor=system,
            parent=tree["SZ-GS-T02"],
            name="沧浪电子有限公司工会委员会",
            code=T2E2,
            org_type=OrgType.GRASSROOTS,
            region_code="320508",
        ),
    }
    members = {
        key: member_enrol(actor=system, org=tree[spec[1]], **_person_fields(spec)) for key, spec in MEMBERS.items()
    }
    applications = {
        key: join_application_submit(actor=system, org=tree[spec[1]], **_person_fields(spec))
        for key, spec in APPLICANTS.items()
    }
    transfers = {
        key: transfer_request(actor=system, membership=members[key], to_org=tree[to], reason="工作调动")
        for key, to in TRANSFERS.items()
    }
    declared = {code: declared_total_record(actor=system, org=tree[code], total=n) for code, n in DECLARED.items()}
    return SimpleNamespace(
        system=system,
        tree=tree,
        accounts=accounts,
        members=members,
        applications=applications,
        transfers=transfers,
        declared=declared,
        number={k: resident_id(s[2], s[3]) for k, s in {**MEMBERS, **APPLICANTS}.items()},
        phone={k: s[4] for k, s in {**MEMBERS, **APPLICANTS}.items()},
        name={k: s[0] for k, s in {**MEMBERS, **APPLICANTS}.items()},
    )


@pytest.fixture
def client_for(accounts):
    """client_for("town_cadre") -> a signed-in client that answers server errors as pages (500) instead of raising;
    client_for(None) -> an anonymous client."""

    def make(username: str | None, *, csrf: bool = False) -> Client:
        client = Client(enforce_csrf_checks=csrf, raise_request_exception=False)
        if username:
            client.force_login(accounts[username])
        return client

    return make


@pytest.fixture
def member(tree, actors):
    """张三, a member of union "12" (SZ-GS-T01-12), bound to the account of PHONE."""
    return Member(actors["grassroots_cadre"], tree[E12], name="张三", seq=101, phone=PHONE)


@pytest.fixture
def other_member(tree, actors):
    """李四, a member of union "123" (SZ-GS-T01-123), bound to the account of OTHER_PHONE."""
    return Member(actors["town_cadre"], tree[E123], name="李四", seq=102, phone=OTHER_PHONE)


@pytest.fixture
def sms(django_capture_on_commit_callbacks):
    """Run the commit callbacks of what happens inside (as a real commit would) and start with an empty outbox."""

    class Capture:
        def __enter__(self):
            MemorySmsSender.outbox.clear()
            self._capture = django_capture_on_commit_callbacks(execute=True)
            self._capture.__enter__()
            return MemorySmsSender.outbox

        def __exit__(self, *exc):
            return self._capture.__exit__(*exc)

    return Capture


@pytest.fixture
def clock(monkeypatch):
    frozen = Clock(DAY_START + 3600)
    monkeypatch.setattr(ratelimit, "time", frozen)
    monkeypatch.setattr(
        member_accounts,
        "timezone",
        SimpleNamespace(now=frozen.aware_now, localdate=timezone.localdate),
    )
    return frozen
