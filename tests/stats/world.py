"""The frozen clock and the world the recount tests share: the federation after a seeded history (built once per
class)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from gonghui.accounts.actors import actor_for_user
from gonghui.accounts.models import User
from gonghui.common.actor import system_actor
from gonghui.orgs.models import (
    Organisation,
    OrgFigures,
    OrgType,
)
from gonghui.orgs.services import (
    org_create,
)
from tests.conftest import ROLE_ACCOUNTS
from tests.stats.history import History
from tests.stats.naive import SHANGHAI, TODAY, Registry

# ---------------------------------------------------------------- the clock


class Clock:
    """`timezone.now()` for the services: a settable Beijing day, one microsecond later on every call."""

    def __init__(self):
        self.set(TODAY)

    def set(self, day: date) -> None:
        self._now = datetime.combine(day, time(10), tzinfo=SHANGHAI)

    def now(self) -> datetime:
        self._now += timedelta(microseconds=1)
        return self._now.astimezone(UTC)


@pytest.fixture
def clock(monkeypatch):
    frozen = Clock()
    monkeypatch.setattr(timezone, "now", frozen.now)
    return frozen


# ---------------------------------------------------------------- the federation after the history

FEDERATION = [  # code, parent, name, type, region: the federation of tests/conftest.py
    ("SZ", None, "苏州市总工会", OrgType.CITY, "320500"),
    ("SZ-GS", "SZ", "姑苏区总工会", OrgType.COUNTY, "320508"),
    ("SZ-GS-T01", "SZ-GS", "双塔街道总工会", OrgType.TOWN, "320508"),
    ("SZ-GS-T01-C1", "SZ-GS-T01", "竹辉社区工会", OrgType.COMMUNITY, "320508"),
    ("SZ-GS-T01-12", "SZ-GS-T01", "十二号公司工会委员会", OrgType.GRASSROOTS, "320508"),
    ("SZ-GS-T02", "SZ-GS", "沧浪街道总工会", OrgType.TOWN, "320508"),
    ("SZ-GS-T02-E1", "SZ-GS-T02", "沧浪精工有限公司工会委员会", OrgType.GRASSROOTS, "320508"),
    ("SZ-WZ", "SZ", "吴中区总工会", OrgType.COUNTY, "320506"),
    ("SZ-WZ-T01", "SZ-WZ", "木渎镇总工会", OrgType.TOWN, "320506"),
    ("SZ-WZ-T01-E1", "SZ-WZ-T01", "木渎光电有限公司工会委员会", OrgType.GRASSROOTS, "320506"),
    ("SZ-GS-T01-123", "SZ-GS-T01", "一二三公司工会委员会", OrgType.GRASSROOTS, "320508"),
]


@dataclass
class World:
    registry: Registry
    actors: dict
    checked_at: datetime  # when the 准确率 check last ran


@pytest.fixture(scope="class")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The federation after the whole history, on 2026-05-20, with the 准确率 check just run. Built once for the
    class inside a transaction that is rolled back afterwards; each test runs in a savepoint of it."""
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))),
        pytest.MonkeyPatch.context() as patch,
        transaction.atomic(),
    ):
        clock = Clock()
        patch.setattr(timezone, "now", clock.now)
        system = system_actor("tests")
        clock.set(date(2024, 1, 2))
        for code, parent, name, org_type, region in FEDERATION:
            org_create(
                actor=system,
                parent=Organisation.objects.get(code=parent) if parent else None,
                name=name,
                code=code,
                org_type=org_type,
                region_code=region,
            )
        actors = {}
        for username, (role, code) in ROLE_ACCOUNTS.items():
            user = User(username=username, full_name=username, org=Organisation.objects.get(code=code), role=role)
            user.set_unusable_password()
            user.save()
            actors[username] = actor_for_user(user, ip="127.0.0.1")
        History(system, clock).play()
        yield World(
            registry=Registry(),
            actors=actors,
            checked_at=OrgFigures.objects.get(org__code="SZ").failing_checked_at,
        )
        transaction.set_rollback(True)
