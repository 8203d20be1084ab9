"""Shared fixtures: a small hand-built federation with one account per role at several levels.

The tree (codes):
    SZ 市总工会
    ├── SZ-GS 姑苏区总工会 (county)
    │   ├── SZ-GS-T01 街道总工会 (town)
    │   │   ├── SZ-GS-T01-C1 社区工会 (community)
    │   │   ├── SZ-GS-T01-12  基层工会 "12"  ← path-prefix trap pair
    │   │   └── SZ-GS-T01-123 基层工会 "123"
    │   └── SZ-GS-T02 街道总工会 (town)
    │       └── SZ-GS-T02-E1 基层工会
    └── SZ-WZ 吴中区总工会 (county)
        └── SZ-WZ-T01 镇总工会 (town)
            └── SZ-WZ-T01-E1 基层工会
"""

import io
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings

from gonghui.accounts.actors import actor_for_user
from gonghui.accounts.models import User
from gonghui.common.actor import system_actor
from gonghui.common.roles import Role
from gonghui.common.sms import MemorySmsSender
from gonghui.orgs.models import Organisation, OrgType
from gonghui.orgs.services import org_create

PASSWORD = "Test#Pass2026"


def pytest_collection_modifyitems(items):
    """Tests marked `long` run first (the sort is stable, so everything else keeps its order): under pytest-xdist the
    other worker takes the rest of the suite meanwhile, instead of one worker finishing a long test alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture(autouse=True)
def _fast_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.MEDIA_ROOT = str(settings.BASE_DIR / "var" / "test-media")
    # Sign-in codes land in MemorySmsSender.outbox; rate-limit counters start at zero in every test.
    settings.SMS_BACKEND = "gonghui.common.sms.MemorySmsSender"
    MemorySmsSender.outbox.clear()
    cache.clear()
    _reset_task_backends()
    yield
    _reset_task_backends()


@contextmanager
def built_once(media_root):
    """Set-up shared by a module's (or class's) tests, outside any test: the suite's fast settings (the autouse
    fixture above is function-scoped and cannot serve a wider fixture) inside a transaction that is rolled back at the
    end. Each test then runs in a savepoint of it: its own writes are undone after it, the shared data stays. It works
    alike on SQLite and PostgreSQL and under pytest-xdist (each worker has its own test database and builds its own
    copy); not for tests that flush the database (`transactional_db`, `live_server`)."""
    with (
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
            SMS_BACKEND="gonghui.common.sms.MemorySmsSender",
            MEDIA_ROOT=str(media_root),
        ),
        transaction.atomic(),
    ):
        cache.clear()
        MemorySmsSender.outbox.clear()
        _reset_task_backends()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            _reset_task_backends()
            cache.clear()


@pytest.fixture(scope="module")
def module_db(django_db_setup, django_db_blocker, tmp_path_factory):
    """Database access for a module-scoped fixture that builds data once for all the module's tests (see
    `built_once`): request it from that fixture. Tests still need `db` (or `pytestmark = pytest.mark.django_db`)."""
    with django_db_blocker.unblock(), built_once(tmp_path_factory.mktemp("media")):
        yield


def _reset_task_backends():
    """django-tasks caches its backends; drop the cache so the test settings' backend is used."""
    from asgiref.local import Local
    from django_tasks import task_backends

    task_backends.__dict__.pop("settings", None)
    task_backends._connections = Local(task_backends.thread_critical)


@pytest.fixture
def system():
    return system_actor("tests")


def _org(system, parent, name, code, org_type, region="320508"):
    return org_create(actor=system, parent=parent, name=name, code=code, org_type=org_type, region_code=region)


@pytest.fixture
def tree(db, system):
    """The federation above, as a dict code -> Organisation."""
    root = _org(system, None, "苏州市总工会", "SZ", OrgType.CITY, "320500")
    gs = _org(system, root, "姑苏区总工会", "SZ-GS", OrgType.COUNTY)
    t1 = _org(system, gs, "双塔街道总工会", "SZ-GS-T01", OrgType.TOWN)
    c1 = _org(system, t1, "竹辉社区工会", "SZ-GS-T01-C1", OrgType.COMMUNITY)
    e12 = _org(system, t1, "十二号公司工会委员会", "SZ-GS-T01-12", OrgType.GRASSROOTS)
    t2 = _org(system, gs, "沧浪街道总工会", "SZ-GS-T02", OrgType.TOWN)
    t2e1 = _org(system, t2, "沧浪精工有限公司工会委员会", "SZ-GS-T02-E1", OrgType.GRASSROOTS)
    wz = _org(system, root, "吴中区总工会", "SZ-WZ", OrgType.COUNTY, "320506")
    wzt1 = _org(system, wz, "木渎镇总工会", "SZ-WZ-T01", OrgType.TOWN, "320506")
    wze1 = _org(system, wzt1, "木渎光电有限公司工会委员会", "SZ-WZ-T01-E1", OrgType.GRASSROOTS, "320506")
    # "12" and "123" differ only by a suffix: a bare string prefix on codes or paths would confuse them.
    e123 = _org(system, t1, "一二三公司工会委员会", "SZ-GS-T01-123", OrgType.GRASSROOTS)
    orgs = [root, gs, t1, c1, e12, t2, t2e1, wz, wzt1, wze1, e123]
    return {o.code: Organisation.objects.get(id=o.id) for o in orgs}


ROLE_ACCOUNTS = {
    # username: (role, org code)
    "city_cadre": (Role.UPPER_CADRE, "SZ"),
    "district_cadre": (Role.UPPER_CADRE, "SZ-GS"),
    "town_cadre": (Role.UPPER_CADRE, "SZ-GS-T01"),
    "grassroots_cadre": (Role.GRASSROOTS_CADRE, "SZ-GS-T01-12"),
    "other_district_cadre": (Role.UPPER_CADRE, "SZ-WZ"),
    "sysadmin": (Role.SYSTEM_ADMIN, "SZ"),
    "secadmin": (Role.SECURITY_ADMIN, "SZ"),
    "auditor": (Role.AUDIT_ADMIN, "SZ"),
    "district_auditor": (Role.AUDIT_ADMIN, "SZ-GS"),
}


@pytest.fixture
def accounts(tree):
    """username -> User, one per entry of ROLE_ACCOUNTS, all with password PASSWORD."""
    users = {}
    for username, (role, code) in ROLE_ACCOUNTS.items():
        user = User(username=username, full_name=username, org=tree[code], role=role, is_staff=True)
        user.set_password(PASSWORD)
        user.save()
        users[username] = user
    return users


@pytest.fixture
def actors(accounts):
    """username -> Actor built exactly as the interfaces build it."""
    return {name: actor_for_user(user, ip="127.0.0.1") for name, user in accounts.items()}


@pytest.fixture
def login(accounts):
    """login("town_cadre") -> a Django test Client signed in to the back office as that account."""

    def make(username: str) -> Client:
        client = Client()
        client.force_login(accounts[username])
        return client

    return make


def valid_uscc(body17: str) -> str:
    from stdnum.cn import uscc

    return body17 + uscc.calc_check_digit(body17 + "0")


@pytest.fixture
def employer_set(tree, system):
    from gonghui.orgs.services import employer_create

    return {
        "covered": employer_create(
            actor=system,
            name="十二号有限公司",
            uscc=valid_uscc("91320508MA1W0001A"),
            employee_count=80,
            industry="C",
            town_org=tree["SZ-GS-T01"],
            covering_union=tree["SZ-GS-T01-12"],
        ),
        "uncovered": employer_create(
            actor=system,
            name="双塔物流有限公司",
            uscc=valid_uscc("91320508MA1W0002B"),
            employee_count=150,
            industry="G",
            town_org=tree["SZ-GS-T01"],
        ),
        "wuzhong": employer_create(
            actor=system,
            name="木渎光电有限公司",
            uscc=valid_uscc("91320506MA1W0003C"),
            employee_count=300,
            industry="C",
            town_org=tree["SZ-WZ-T01"],
            covering_union=tree["SZ-WZ-T01-E1"],
        ),
    }


def is_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def create_token(*args: str) -> tuple[str, str]:
    """Run create_api_token with these arguments; (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()
