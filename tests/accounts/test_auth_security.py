"""Sign-in security: lockout after failed logins, the password policy, the TOTP second factor, the production
settings profile and the idle timeout."""

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from gonghui.accounts.models import User
from gonghui.accounts.services import account_create, account_unlock
from gonghui.audit.models import AuditEvent
from gonghui.common.errors import ValidationFailed
from gonghui.common.roles import Role
from gonghui.error_pages import FORBIDDEN
from tests.conftest import PASSWORD

BASE_DIR = Path(__file__).resolve().parents[2]
LOCKED_TEXT = "连续登录失败次数过多，该账号已被锁定"
TOO_COMMON = "这个密码太常见了。"
TOO_SIMPLE = "密码须包含小写字母、大写字母、数字、符号中的至少 3 类。"
WRONG_CODE = "动态验证码不正确或已过期，请重新输入"


def _post_login(client: Client, username: str, password: str):
    return client.post("/admin/login/", {"username": username, "password": password, "next": "/admin/"})


def _signed_in_as(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


# ---------------------------------------------------------------- lockout


def test_failed_login_writes_one_failed_audit_event(accounts):
    client = Client()
    response = _post_login(client, "town_cadre", "Wrong#Pass2026")

    assert response.status_code == 200
    assert _signed_in_as(client) is None
    events = list(AuditEvent.objects.filter(action="account.login"))
    assert len(events) == 1
    event = events[0]
    assert event.result == "failed"
    assert event.actor_kind == "anonymous"
    assert event.actor_label == "town_cadre"
    assert event.actor_id is None
    assert event.object_type == "account"
    assert event.object_label == "town_cadre"
    assert event.details == {}
    assert event.ip == "127.0.0.1"


def test_failed_login_is_readable_by_the_root_auditor(accounts, actors):
    from gonghui.audit.selectors import audit_events_visible_to

    _post_login(Client(), "town_cadre", "Wrong#Pass2026")
    failed = AuditEvent.objects.get(action="account.login", result="failed")

    assert list(audit_events_visible_to(actors["auditor"]).filter(action="account.login")) == [failed]
    # A district auditor reads its own subtree only; an anonymous attempt belongs to no organisation.
    assert not audit_events_visible_to(actors["district_auditor"]).filter(action="account.login").exists()


def test_successful_login_writes_one_success_event(accounts):
    client = Client()
    response = _post_login(client, "town_cadre", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert _signed_in_as(client) == str(accounts["town_cadre"].pk)
    event = AuditEvent.objects.get(action="account.login")
    assert event.result == "success"
    assert event.actor_kind == "user"
    assert event.actor_label == "town_cadre"
    assert event.actor_id == accounts["town_cadre"].id
    assert event.object_id == str(accounts["town_cadre"].id)
    assert event.details == {"second_factor": False}


def test_five_failures_lock_the_account_until_the_security_admin_unlocks(accounts, actors):
    user = accounts["town_cadre"]
    client = Client()
    statuses = [_post_login(client, "town_cadre", f"Wrong#Pass{i}").status_code for i in range(5)]
    # The fifth failure reaches AXES_FAILURE_LIMIT: that very answer is already the lockout page.
    assert statuses == [200, 200, 200, 200, 429]
    assert AccessAttempt.objects.get(username="town_cadre").failures_since_start == 5

    # The right password no longer helps.
    response = _post_login(client, "town_cadre", PASSWORD)
    assert response.status_code == 429
    assert LOCKED_TEXT in response.content.decode()
    assert _signed_in_as(client) is None
    assert AuditEvent.objects.filter(action="account.login", result="success").count() == 0
    assert AuditEvent.objects.filter(action="account.login", result="failed").count() == 6
    # A fresh client (another browser) is locked out too: the lockout is per account name.
    other = Client()
    assert _post_login(other, "town_cadre", PASSWORD).status_code == 429
    assert _signed_in_as(other) is None
    # Other accounts are unaffected.
    assert _post_login(Client(), "district_cadre", PASSWORD).status_code == 302

    removed = account_unlock(actor=actors["secadmin"], user=user)

    assert removed == 1
    assert not AccessAttempt.objects.filter(username="town_cadre").exists()
    unlock = AuditEvent.objects.get(action="account.unlock")
    assert unlock.actor_label == "secadmin"
    assert unlock.object_id == str(user.id)
    assert unlock.details == {"attempts_cleared": 1}

    response = _post_login(client, "town_cadre", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert _signed_in_as(client) == str(user.pk)
    assert client.get("/admin/").status_code == 200
    assert AuditEvent.objects.filter(action="account.login", result="success", actor_label="town_cadre").count() == 1


def test_unlock_through_the_back_office_action(accounts, login):
    client = Client()
    for i in range(5):
        _post_login(client, "grassroots_cadre", f"Wrong#Pass{i}")
    assert _post_login(client, "grassroots_cadre", PASSWORD).status_code == 429

    user = accounts["grassroots_cadre"]
    response = login("secadmin").post(f"/admin/accounts/user/{user.id}/unlock/")

    assert response.status_code == 302
    assert response["Location"] == f"/admin/accounts/user/{user.id}/change/"
    assert not AccessAttempt.objects.filter(username="grassroots_cadre").exists()
    assert _post_login(client, "grassroots_cadre", PASSWORD).status_code == 302
    assert _signed_in_as(client) == str(user.pk)


def test_only_the_security_admin_may_unlock(accounts, login):
    client = Client()
    for i in range(5):
        _post_login(client, "grassroots_cadre", f"Wrong#Pass{i}")
    user = accounts["grassroots_cadre"]
    events_before = AuditEvent.objects.count()

    response = login("sysadmin").post(f"/admin/accounts/user/{user.id}/unlock/", follow=True)

    # Not offered to the system administrator at all: the action answers the back office's 403 page.
    assert response.status_code == 403
    assert FORBIDDEN[0] in response.content.decode()
    assert AccessAttempt.objects.get(username="grassroots_cadre").failures_since_start == 5
    assert AuditEvent.objects.count() == events_before
    assert _post_login(client, "grassroots_cadre", PASSWORD).status_code == 429


# ---------------------------------------------------------------- password policy


def _create_with_password(actors, tree, password: str, username: str = "newcadre") -> User:
    return account_create(
        actor=actors["sysadmin"],
        username=username,
        full_name="新干部",
        org=tree["SZ-GS-T01"],
        role=Role.UPPER_CADRE,
        password=password,
    )


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("abcdefgh", f"{TOO_COMMON}；{TOO_SIMPLE}"),  # one class, and in the common-password list
        ("password1", f"{TOO_COMMON}；{TOO_SIMPLE}"),  # two classes
        ("Abcdefg1", TOO_COMMON),  # three classes: only the common-password list refuses it
        ("abc#efgh", TOO_SIMPLE),  # two classes, not common
        ("12345678", f"{TOO_COMMON}；密码只包含数字。；{TOO_SIMPLE}"),
        ("Ab#1", "密码长度太短，至少需要 8 个字符。"),
        ("Newcadre#1", "密码跟 用户名 太相似了。"),
    ],
)
def test_weak_passwords_are_refused_in_chinese(actors, tree, password, message):
    users_before = User.objects.count()
    events_before = AuditEvent.objects.count()

    with pytest.raises(ValidationFailed) as caught:
        _create_with_password(actors, tree, password)

    assert caught.value.errors == {"password": message}
    assert caught.value.message == message
    assert User.objects.count() == users_before
    assert AuditEvent.objects.count() == events_before


def test_character_class_validator_counts_classes():
    from django.core.exceptions import ValidationError

    from gonghui.accounts.passwords import CharacterClassValidator

    validator = CharacterClassValidator(min_classes=3)
    for password in ("abcdefgh", "password1", "ABCDEFG1", "abc#efgh", "12345678"):
        with pytest.raises(ValidationError) as caught:
            validator.validate(password)
        assert caught.value.messages == [TOO_SIMPLE]
        assert caught.value.code == "password_too_simple"
    for password in ("Abcdefg1", "abcdef#1", "ABCDEF#g", "Ab#1", "中文密码Aa1"):
        assert validator.validate(password) is None
    assert validator.get_help_text() == TOO_SIMPLE
    assert CharacterClassValidator(min_classes=4)._classes("Abcdefg1") == 3


def test_strong_password_creates_the_account(actors, tree):
    user = _create_with_password(actors, tree, "Shuangta#2026")

    assert user.check_password("Shuangta#2026")
    assert user.org_id == tree["SZ-GS-T01"].id
    assert user.role == Role.UPPER_CADRE
    assert Client().post("/admin/login/", {"username": "newcadre", "password": "Shuangta#2026"}).status_code == 302


# ---------------------------------------------------------------- TOTP second factor


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def test_required_second_factor_sends_a_cadre_without_device_to_setup(settings, accounts, login):
    settings.OTP_REQUIRED = True
    client = login("town_cadre")

    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/security/otp/setup/?next=/admin/"
    # Every other back-office page is closed too, and so is the API session.
    assert client.get("/admin/orgs/organisation/")["Location"].startswith("/admin/security/otp/setup/")
    assert client.get("/api/v1/me").status_code == 401

    page = client.get("/admin/security/otp/setup/")
    assert page.status_code == 200
    assert "本系统要求干部账号启用两步验证" in page.content.decode()
    device = TOTPDevice.objects.get(user=accounts["town_cadre"])
    assert device.confirmed is False
    assert base64.b32encode(device.bin_key).decode() in page.content.decode()

    response = client.post("/admin/security/otp/setup/", {"token": _code(device)})

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.get("/admin/").status_code == 200
    assert client.get("/api/v1/me").status_code == 200
    enrol = AuditEvent.objects.get(action="account.enrol_totp")
    assert enrol.actor_label == "town_cadre"
    assert enrol.object_id == str(accounts["town_cadre"].id)


def test_setup_with_a_wrong_code_shows_the_error_and_confirms_nothing(settings, accounts, login):
    settings.OTP_REQUIRED = True
    client = login("town_cadre")
    client.get("/admin/security/otp/setup/")
    device = TOTPDevice.objects.get(user=accounts["town_cadre"])
    wrong = f"{(int(_code(device)) + 1) % 10**6:06d}"

    response = client.post("/admin/security/otp/setup/", {"token": wrong})

    assert response.status_code == 200
    assert WRONG_CODE in response.content.decode()
    device.refresh_from_db()
    assert device.confirmed is False
    assert not AuditEvent.objects.filter(action="account.enrol_totp").exists()
    assert client.get("/admin/")["Location"] == "/admin/security/otp/setup/?next=/admin/"


def test_not_required_and_no_device_means_no_second_step(settings, login):
    settings.OTP_REQUIRED = False
    assert login("town_cadre").get("/admin/").status_code == 200


def _with_confirmed_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="身份验证器", confirmed=True)


def test_confirmed_device_must_be_used_even_when_not_required(settings, accounts, login):
    settings.OTP_REQUIRED = False
    device = _with_confirmed_device(accounts["district_cadre"])
    client = login("district_cadre")

    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/security/otp/verify/?next=/admin/"
    assert client.get("/api/v1/me").status_code == 401

    response = client.post("/admin/security/otp/verify/", {"token": _code(device), "next": "/admin/"})

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    login_event = AuditEvent.objects.get(action="account.login")
    assert login_event.actor_label == "district_cadre"
    assert login_event.details == {"second_factor": True}


def test_verify_with_a_wrong_code_shows_the_error(settings, accounts, login):
    settings.OTP_REQUIRED = False
    device = _with_confirmed_device(accounts["district_cadre"])
    client = login("district_cadre")
    wrong = f"{(int(_code(device)) + 1) % 10**6:06d}"

    response = client.post("/admin/security/otp/verify/", {"token": wrong, "next": "/admin/"})

    assert response.status_code == 200
    assert WRONG_CODE in response.content.decode()
    assert client.get("/admin/")["Location"] == "/admin/security/otp/verify/?next=/admin/"
    assert not AuditEvent.objects.filter(action="account.login").exists()


def test_verify_refuses_an_offsite_next(settings, accounts, login):
    device = _with_confirmed_device(accounts["district_cadre"])
    client = login("district_cadre")

    response = client.post("/admin/security/otp/verify/", {"token": _code(device), "next": "https://evil.example/"})

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_full_sign_in_with_password_then_code(settings, accounts):
    settings.OTP_REQUIRED = True
    device = _with_confirmed_device(accounts["town_cadre"])
    client = Client()

    response = _post_login(client, "town_cadre", PASSWORD)
    assert response.status_code == 302
    assert client.get("/admin/")["Location"] == "/admin/security/otp/verify/?next=/admin/"

    assert client.post("/admin/security/otp/verify/", {"token": _code(device)}).status_code == 302
    assert client.get("/admin/").status_code == 200
    logins = list(AuditEvent.objects.filter(action="account.login").order_by("at").values_list("details", flat=True))
    assert logins == [{"second_factor": False}, {"second_factor": True}]


# ---------------------------------------------------------------- production profile


def _b64_key(size: int = 32) -> str:
    return base64.urlsafe_b64encode(os.urandom(size)).decode()


def _production_env(**values: str) -> dict[str, str]:
    """A clean environment: nothing of the developer's shell (keys, DATABASE_URL, GONGHUI_*) leaks in."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", str(BASE_DIR)), "LANG": "C.UTF-8"}
    env["DJANGO_SETTINGS_MODULE"] = "gonghui.settings_production"
    env.update(values)
    return env


def _valid_production_env() -> dict[str, str]:
    return _production_env(
        SECRET_KEY=secrets.token_urlsafe(48),
        FIELD_ENCRYPTION_KEY=_b64_key(),
        BLIND_INDEX_KEY=_b64_key(),
        ALLOWED_HOSTS="gonghui.example.cn",
        PORTAL_BASE_URL="https://gonghui.example.cn",
        SMS_GATEWAY_URL="https://sms.example.cn/send",
        SMS_GATEWAY_KEY_ID="gonghui",
        SMS_GATEWAY_SECRET=secrets.token_urlsafe(32),
    )


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)


def test_production_profile_passes_check_deploy():
    env = _valid_production_env()
    assert len(env["SECRET_KEY"]) >= 50

    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_profile_values():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.OTP_REQUIRED, s.DEBUG, s.DEMO_MODE, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.X_FRAME_OPTIONS, s.ALLOWED_HOSTS, "
        "s.SESSION_SAVE_EVERY_REQUEST, s.SESSION_COOKIE_AGE)"
    )
    result = _run(["-c", code], _valid_production_env())

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True False False True True True 31536000 DENY ['gonghui.example.cn'] True 1800"


def test_production_profile_without_secret_key_fails_fast():
    env = _valid_production_env()
    del env["SECRET_KEY"]
    # The local development .env is not read by the production profile, even when it exists.
    result = _run(["-c", "import gonghui.settings_production"], env)

    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured: Environment variable SECRET_KEY is required." in result.stderr


@pytest.mark.parametrize("missing", ["FIELD_ENCRYPTION_KEY", "BLIND_INDEX_KEY"])
def test_production_profile_without_a_key_fails_fast(missing):
    env = _valid_production_env()
    del env[missing]

    result = _run(["-c", "import gonghui.settings_production"], env)

    assert result.returncode != 0
    assert f"ImproperlyConfigured: Environment variable {missing} is required." in result.stderr


def test_production_profile_with_a_short_field_key_fails_fast():
    env = _valid_production_env()
    env["FIELD_ENCRYPTION_KEY"] = _b64_key(16)

    result = _run(["-c", "import gonghui.settings_production"], env)

    assert result.returncode != 0
    assert "ImproperlyConfigured: FIELD_ENCRYPTION_KEY must decode to exactly 32 bytes, got 16." in result.stderr


def test_production_profile_with_a_non_base64_field_key_fails_fast():
    env = _valid_production_env()
    env["FIELD_ENCRYPTION_KEY"] = "not-a-key"

    result = _run(["-c", "import gonghui.settings_production"], env)

    assert result.returncode != 0
    assert "ImproperlyConfigured: FIELD_ENCRYPTION_KEY must" in result.stderr


def test_production_profile_with_a_short_secret_key_fails_fast():
    env = _valid_production_env()
    env["SECRET_KEY"] = "too-short"

    result = _run(["-c", "import gonghui.settings_production"], env)

    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be at least 32 characters long." in result.stderr


def test_production_profile_with_equal_keys_fails_fast():
    env = _valid_production_env()
    env["BLIND_INDEX_KEY"] = env["FIELD_ENCRYPTION_KEY"]

    result = _run(["-c", "import gonghui.settings_production"], env)

    assert result.returncode != 0
    assert "ImproperlyConfigured: FIELD_ENCRYPTION_KEY and BLIND_INDEX_KEY must be different keys." in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "ture", "DEBUG must be true or false, got 'ture'."),
        ("SECURE_SSL_REDIRECT", "maybe", "SECURE_SSL_REDIRECT must be true or false, got 'maybe'."),
        ("SESSION_IDLE_MINUTES", "30m", "SESSION_IDLE_MINUTES must be a whole number, got '30m'."),
        ("SESSION_IDLE_MINUTES", "2", "SESSION_IDLE_MINUTES must be between 5 and 1440."),
        ("AXES_FAILURE_LIMIT", "five", "AXES_FAILURE_LIMIT must be a whole number, got 'five'."),
        ("DATABASE_URL", "mysql://root@localhost/gonghui", "DATABASE_URL must point at PostgreSQL"),
    ],
)
def test_bad_setting_values_fail_fast(name, value, message):
    env = _valid_production_env()
    env[name] = value

    result = _run(["-c", "import gonghui.settings_production"], env)

    assert result.returncode != 0
    assert f"ImproperlyConfigured: {message}" in result.stderr


def test_production_profile_requires_explicit_allowed_hosts():
    env = _valid_production_env()
    del env["ALLOWED_HOSTS"]

    result = _run(["-c", "import gonghui.settings_production"], env)

    assert result.returncode != 0
    assert "ImproperlyConfigured: ALLOWED_HOSTS is required in production" in result.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SMS_BACKEND": "gonghui.common.sms.ConsoleSmsSender"}, "SMS_BACKEND must name a real SMS gateway"),
        ({"SMS_BACKEND": "gonghui.common.sms.MemorySmsSender"}, "SMS_BACKEND must name a real SMS gateway"),
        ({"SMS_GATEWAY_URL": ""}, "SMS_GATEWAY_URL, SMS_GATEWAY_KEY_ID and SMS_GATEWAY_SECRET are required"),
        ({"SMS_GATEWAY_SECRET": ""}, "SMS_GATEWAY_URL, SMS_GATEWAY_KEY_ID and SMS_GATEWAY_SECRET are required"),
        ({"PORTAL_BASE_URL": ""}, "PORTAL_BASE_URL (https://...) is required in production"),
        ({"PORTAL_BASE_URL": "http://gonghui.example.cn"}, "PORTAL_BASE_URL (https://...) is required in production"),
    ],
)
def test_production_profile_refuses_a_missing_sms_gateway_or_portal_address(change, message):
    env = {**_valid_production_env(), **change}

    result = _run(["-c", "import gonghui.settings_production"], env)

    assert result.returncode != 0
    assert f"ImproperlyConfigured: {message}" in result.stderr


def test_production_profile_accepts_a_vendor_sms_class():
    env = {**_valid_production_env(), "SMS_BACKEND": "myvendor.sms.AliyunSender", "SMS_GATEWAY_URL": ""}
    code = "import django; django.setup(); from django.conf import settings as s; print(s.SMS_BACKEND)"

    result = _run(["-c", code], env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "myvendor.sms.AliyunSender"


# ---------------------------------------------------------------- idle timeout


def test_idle_timeout_settings():
    assert django_settings.SESSION_SAVE_EVERY_REQUEST is True
    assert django_settings.SESSION_COOKIE_AGE == django_settings.SESSION_IDLE_MINUTES * 60
    assert django_settings.SESSION_IDLE_MINUTES == 30
    assert django_settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True


def test_every_request_renews_the_idle_timeout(login):
    client = login("town_cadre")
    client.get("/admin/")
    first = client.session.get_expiry_date()
    client.get("/admin/")
    second = client.session.get_expiry_date()

    assert second > first
    assert client.session.get_expiry_age() <= django_settings.SESSION_IDLE_MINUTES * 60


def test_a_session_idle_longer_than_the_timeout_is_signed_out(login):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client = login("town_cadre")
    assert client.get("/admin/").status_code == 200
    # 31 minutes of silence: the stored session expired a minute ago.
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
