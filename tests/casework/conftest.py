"""Fixtures of the casework tests."""

import pytest
from django.utils import timezone

from gonghui.accounts.actors import actor_for_user
from gonghui.accounts.models import User
from gonghui.casework.care import campaign_create
from gonghui.casework.insurance import plan_create, plan_enrol_union
from gonghui.casework.models import InsuranceEnrolment
from gonghui.common.roles import Role
from tests.casework.approval_factories import T02
from tests.casework.factories import CAMPAIGN, E12, E123, GS, PLAN, T01, WZE1, Clock
from tests.conftest import PASSWORD
from tests.members.factories import Member


@pytest.fixture
def clock(monkeypatch):
    frozen = Clock()
    monkeypatch.setattr(timezone, "now", frozen.now)
    return frozen


@pytest.fixture
def media(settings, tmp_path):
    """Attachments are stored under a directory of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


# ---------------------------------------------------------------- people


@pytest.fixture
def member(tree, actors):
    """张三, member of union "12" (SZ-GS-T01-12), bound to a portal account."""
    return Member(actors["grassroots_cadre"], tree[E12], name="张三", seq=301, phone="13600000001")


@pytest.fixture
def other_member(tree, actors):
    """李四, member of union "123" (SZ-GS-T01-123), bound to a portal account."""
    return Member(actors["town_cadre"], tree[E123], name="李四", seq=302, phone="13600000002")


@pytest.fixture
def wz_member(tree, actors):
    """王五, member of 木渎光电 (SZ-WZ-T01-E1) in the other district, bound to a portal account."""
    return Member(actors["other_district_cadre"], tree[WZE1], name="王五", seq=303, phone="13600000003")


# ================================================================ 6. mutual insurance


@pytest.fixture
def plan(tree, actors):
    """A 2025 plan run by the 双塔 town federation: 100 元 a day for at most 10 days, half of the costs above
    500 元 up to 3000 元 a claim, 5000 元 a year."""
    return plan_create(actor=actors["town_cadre"], org=tree[T01], **dict(PLAN))


@pytest.fixture
def enrolment(plan, member, actors, tree):
    plan_enrol_union(actor=actors["grassroots_cadre"], plan=plan, union=tree[E12])
    return InsuranceEnrolment.objects.get(plan=plan, person=member.person)


@pytest.fixture
def campaign(tree, actors):
    return campaign_create(actor=actors["district_cadre"], org=tree[GS], **dict(CAMPAIGN))


@pytest.fixture
def sibling(tree):
    """A cadre of 沧浪街道 (SZ-GS-T02), the sibling of 双塔街道."""
    user = User(username="t02_cadre", full_name="t02_cadre", org=tree[T02], role=Role.UPPER_CADRE, is_staff=True)
    user.set_password(PASSWORD)
    user.save()
    return actor_for_user(user, ip="127.0.0.1")
