"""No back-office link can change anything: every action that writes answers GET with a confirmation page (what
will happen, a 确认 button in a POST form with the CSRF token, a 取消 link), refuses a POST without the CSRF token,
and acts only on a POST that carries it. A page elsewhere that links to such an address therefore only shows the
confirmation page in the victim's session (SameSite=Lax sends the cookie on a top-level navigation)."""

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from gonghui.accounts.models import ApiToken, User
from gonghui.accounts.services import api_token_create
from gonghui.audit.models import AuditEvent
from gonghui.jobs.models import JobRun


def _snapshot():
    """Every table these actions write, to show a GET or a refused POST changed nothing."""
    return (
        list(User.objects.order_by("username").values_list("username", "is_active", "password", "role")),
        list(AccessAttempt.objects.order_by("username").values_list("username", "failures_since_start")),
        list(TOTPDevice.objects.order_by("id").values_list("id", "confirmed")),
        list(ApiToken.objects.order_by("id").values_list("id", "revoked_at")),
        JobRun.objects.count(),
        list(AuditEvent.objects.order_by("at", "id").values_list("id", flat=True)),
    )


@dataclass
class Case:
    name: str
    username: str
    url: Callable  # (accounts, tree, token) -> str
    done: Callable  # (accounts, tree, token) -> bool, true once the action took effect
    confirm_text: str
    cancel_url: Callable
    data: Callable = lambda accounts, tree, token: {}


def _user_url(name: str, suffix: str):
    return lambda accounts, tree, token: f"/admin/accounts/user/{accounts[name].id}/{suffix}/"


def _user_page(name: str):
    return lambda accounts, tree, token: f"/admin/accounts/user/{accounts[name].id}/change/"


CASES = [
    Case(
        "unlock",
        "secadmin",
        _user_url("grassroots_cadre", "unlock"),
        lambda accounts, tree, token: not AccessAttempt.objects.filter(username="grassroots_cadre").exists(),
        "解除登录锁定",
        _user_page("grassroots_cadre"),
    ),
    Case(
        "reset second factor",
        "secadmin",
        _user_url("district_cadre", "reset-otp"),
        lambda accounts, tree, token: not TOTPDevice.objects.filter(user=accounts["district_cadre"]).exists(),
        "重置两步验证",
        _user_page("district_cadre"),
    ),
    Case(
        "deactivate",
        "sysadmin",
        _user_url("grassroots_cadre", "toggle-active"),
        lambda accounts, tree, token: not User.objects.get(username="grassroots_cadre").is_active,
        "停用账号",
        _user_page("grassroots_cadre"),
    ),
    Case(
        "revoke token",
        "sysadmin",
        lambda accounts, tree, token: f"/admin/accounts/apitoken/{token.id}/revoke/",
        lambda accounts, tree, token: ApiToken.objects.get(id=token.id).revoked_at is not None,
        "吊销令牌",
        lambda accounts, tree, token: f"/admin/accounts/apitoken/{token.id}/change/",
    ),
    Case(
        "queue roster export",
        "town_cadre",
        lambda accounts, tree, token: f"/admin/orgs/organisation/{tree['SZ-GS-T01'].id}/export/",
        lambda accounts, tree, token: JobRun.objects.filter(kind="org_roster_export").exists(),
        "导出组织名册",
        lambda accounts, tree, token: f"/admin/orgs/organisation/{tree['SZ-GS-T01'].id}/change/",
    ),
]


@pytest.fixture
def world(accounts, tree, actors):
    AccessAttempt.objects.create(
        username="grassroots_cadre", ip_address="127.0.0.1", user_agent="test", failures_since_start=5
    )
    TOTPDevice.objects.create(user=accounts["district_cadre"], name="身份验证器", confirmed=True)
    token, _raw = api_token_create(actor=actors["sysadmin"], org=tree["SZ-GS"], name="人事系统")
    return accounts, tree, token


def _csrf_client(user: User) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def _csrf_token(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_get_shows_a_confirmation_and_changes_nothing(world, case):
    accounts, tree, token = world
    client = _csrf_client(accounts[case.username])
    before = _snapshot()
    url = case.url(*world)

    response = client.get(url)

    assert response.status_code == 200
    page = response.content.decode()
    assert case.confirm_text in page
    form = re.search(r'<form method="post" action="([^"]*)"[^>]*>(.*?)</form>', page, re.S)
    assert form is not None and form.group(1) == url
    assert 'name="csrfmiddlewaretoken"' in form.group(2)
    assert ">确认</button>" in form.group(2)
    assert f'href="{case.cancel_url(*world)}"' in page
    assert ">取消</a>" in page
    assert _snapshot() == before
    assert not case.done(*world)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_post_without_the_csrf_token_is_refused_and_changes_nothing(world, case):
    accounts, tree, token = world
    client = _csrf_client(accounts[case.username])
    before = _snapshot()

    response = client.post(case.url(*world), case.data(*world))

    assert response.status_code == 403
    assert _snapshot() == before
    assert not case.done(*world)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_post_with_the_csrf_token_acts_once_and_is_audited(world, case, django_capture_on_commit_callbacks):
    accounts, tree, token = world
    client = _csrf_client(accounts[case.username])
    url = case.url(*world)
    csrf = _csrf_token(client.get(url).content.decode())
    events_before = AuditEvent.objects.count()
    started = timezone.now()

    # A queued export runs after the commit; its audit row is written when the file is made.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"csrfmiddlewaretoken": csrf, **case.data(*world)})

    assert response.status_code == 302
    assert case.done(*world)
    new_events = AuditEvent.objects.filter(at__gte=started)
    assert AuditEvent.objects.count() == events_before + 1
    assert new_events.get().actor_label == case.username


def test_member_export_answers_get_with_405_and_queues_nothing(world):
    accounts, tree, token = world
    client = _csrf_client(accounts["town_cadre"])
    before = _snapshot()

    response = client.get(f"/admin/registry/export/?org={tree['SZ-GS-T01'].id}&fmt=xlsx")

    assert response.status_code == 405
    assert _snapshot() == before
