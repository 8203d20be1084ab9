"""Member portal sign-in through the services: one-time SMS codes (single use, expiry, retirement, brute-force cut-off,
send and check limits, keyed hash only), the optional password, and binding the login phone to a registry record
(and a cadre ending that binding). Refused calls are checked to leave the registry, the accounts and the codes as
they were; refused binds leave exactly one "failed" line in the audit trail."""

from datetime import UTC, date, datetime, timedelta
from functools import partial
from types import SimpleNamespace

import pytest
from django.contrib.auth.hashers import check_password
from django.test import override_settings
from django.utils import timezone

from gonghui.audit.models import AuditEvent, AuditResult
from gonghui.audit.selectors import audit_events_visible_to
from gonghui.common import ratelimit
from gonghui.common.crypto import blind_index, decrypt_text
from gonghui.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.common.ratelimit import RateLimited
from gonghui.common.sms import MemorySmsSender, SmsNotSent
from gonghui.members import member_accounts
from gonghui.members.member_accounts import (
    BIND_TRIES_PER_HOUR,
    BOUND_ELSEWHERE_MESSAGE,
    CODE_CONTEXT,
    CODE_MAX_ATTEMPTS,
    CODE_TTL_SECONDS,
    IP_CHECKS_PER_HOUR,
    IP_CODES_PER_HOUR,
    PASSWORD_TRIES_PER_WINDOW,
    PASSWORD_WINDOW_SECONDS,
    PHONE_CODE_INTERVAL_SECONDS,
    PHONE_CODES_PER_DAY,
    PHONE_DIFFERS_MESSAGE,
    WRONG_PAIR_MESSAGE,
    BindingRefused,
    member_account_bind,
    member_account_unbind,
    member_password_set,
    member_password_sign_in,
    phone_code_send,
    phone_code_sign_in,
)
from gonghui.members.models import MemberAccount, PhoneCode
from gonghui.members.people import PHONE_CONTEXT, phone_index, phone_of
from tests.members.concurrency import race
from tests.conftest import is_postgres
from tests.members.factories import enrol, registry_state, resident_id

PHONE = "13812341234"
OTHER_PHONE = "13912345678"
IP = "203.0.113.7"
OTHER_IP = "198.51.100.9"
STRONG_PASSWORD = "Portal#Pass2026"
E12 = "SZ-GS-T01-12"
BIRTH = date(1990, 5, 17)
# A rate-limit clock that starts on a day boundary (and so on a minute, quarter-hour and hour boundary) plus one hour.
DAY_START = 1_800_000_000 // 86400 * 86400
CODE_REFUSED = "验证码错误或已过期，请重新获取"
WRONG_PASSWORD = {"password": "手机号或密码错误"}


class FailingSmsSender:
    """A gateway that never accepts a message."""

    def send(self, *, phone: str, text: str) -> None:
        raise SmsNotSent("gateway down")


class Clock:
    """Stands in for the `time` module inside gonghui.common.ratelimit and for `timezone.now` in the sign-in module
    (whose per-phone limits count the stored codes by their time)."""

    def __init__(self, start: float):
        self.now = start

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def aware_now(self) -> datetime:
        return datetime.fromtimestamp(self.now, tz=UTC)


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


def code_text(code: str) -> str:
    return f"您的登录验证码为{code}，5分钟内有效。请勿告诉他人。"


def wrong(code: str) -> str:
    """Another six-digit code."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


def sign_in(phone: str = PHONE, ip: str = IP) -> MemberAccount:
    sent = phone_code_send(phone=phone, ip=ip)
    return phone_code_sign_in(phone=phone, code=sent.code, ip=ip)


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def portal_state() -> dict:
    """The registry plus the portal's own tables, to prove a refused call changed nothing."""
    return {
        **registry_state(),
        "accounts": sorted(
            MemberAccount.objects.values_list(
                "id",
                "phone_index",
                "person_id",
                "password",
                "is_active",
                "session_version",
                "bound_at",
                "last_login_at",
            )
        ),
        "codes": sorted(
            PhoneCode.objects.values_list("id", "phone_index", "code_hash", "expires_at", "attempts", "used_at")
        ),
    }


def without_audit(state: dict) -> dict:
    return {key: value for key, value in state.items() if key != "audit_events"}


def member_events(action: str):
    return AuditEvent.objects.filter(action=action).order_by("at", "id")


# ---------------------------------------------------------------- 1. codes


class TestCodeSignIn:
    def test_code_is_sent_by_sms_and_signs_in_once_creating_one_masked_account(self, db):
        sent = phone_code_send(phone=PHONE, ip=IP)

        assert len(sent.code) == 6 and sent.code.isdigit()
        assert MemorySmsSender.outbox == [(PHONE, code_text(sent.code))]
        assert sent.phone_masked == "138****1234"
        row = PhoneCode.objects.get()
        assert row.phone_index == phone_index(PHONE)
        assert row.expires_at == sent.expires_at
        assert row.expires_at - row.created_at == timedelta(seconds=CODE_TTL_SECONDS)
        assert (row.attempts, row.used_at, row.ip) == (0, None, IP)
        assert MemberAccount.objects.count() == 0

        account = phone_code_sign_in(phone=PHONE, code=sent.code, ip=IP)

        assert MemberAccount.objects.count() == 1
        account = MemberAccount.objects.get()
        assert account.phone_masked == "138****1234"
        assert account.phone_index == phone_index(PHONE)
        assert decrypt_text(account.phone_enc, context=PHONE_CONTEXT) == PHONE
        assert PHONE.encode() not in bytes(account.phone_enc)
        assert account.person_id is None
        assert account.password == ""
        assert account.session_version == 0
        assert account.is_active
        assert account.last_login_at is not None
        assert fresh(row).used_at is not None
        login = member_events("member.login").get()
        assert (login.actor_kind, login.actor_id, login.actor_label) == ("member", account.id, "会员138****1234")
        assert (login.object_type, login.object_id, login.ip) == ("member_account", str(account.id), IP)
        assert login.details == {"method": "sms_code"}
        assert login.result == AuditResult.SUCCESS

    def test_the_same_code_cannot_be_used_twice(self, db):
        sent = phone_code_send(phone=PHONE, ip=IP)
        account = phone_code_sign_in(phone=PHONE, code=sent.code, ip=IP)
        before = portal_state()

        with pytest.raises(ValidationFailed) as exc:
            phone_code_sign_in(phone=PHONE, code=sent.code, ip=IP)

        assert exc.value.errors == {"code": CODE_REFUSED}
        assert portal_state() == before
        assert MemberAccount.objects.get() == account

    def test_signing_in_again_with_a_new_code_reuses_the_account(self, db, clock):
        first = sign_in()
        clock.advance(PHONE_CODE_INTERVAL_SECONDS)

        second = sign_in()

        assert second.id == first.id
        assert MemberAccount.objects.count() == 1
        assert member_events("member.login").count() == 2

    def test_an_expired_code_is_refused(self, db, monkeypatch):
        sent = phone_code_send(phone=PHONE, ip=IP)
        later = timezone.now() + timedelta(seconds=CODE_TTL_SECONDS + 1)
        monkeypatch.setattr(timezone, "now", lambda: later)
        before = portal_state()

        with pytest.raises(ValidationFailed) as exc:
            phone_code_sign_in(phone=PHONE, code=sent.code, ip=IP)

        assert exc.value.errors == {"code": CODE_REFUSED}
        assert portal_state() == before
        assert MemberAccount.objects.count() == 0

    def test_a_code_still_works_just_before_it_expires(self, db, monkeypatch):
        sent = phone_code_send(phone=PHONE, ip=IP)
        almost = PhoneCode.objects.get().expires_at - timedelta(seconds=1)
        monkeypatch.setattr(timezone, "now", lambda: almost)

        account = phone_code_sign_in(phone=PHONE, code=sent.code, ip=IP)

        assert MemberAccount.objects.get().id == account.id

    def test_sending_a_new_code_retires_the_old_one(self, db, clock, monkeypatch):
        digits = iter("111111222222")
        monkeypatch.setattr(member_accounts, "secrets", SimpleNamespace(choice=lambda _alphabet: next(digits)))
        old = phone_code_send(phone=PHONE, ip=IP)
        clock.advance(PHONE_CODE_INTERVAL_SECONDS)
        new = phone_code_send(phone=PHONE, ip=IP)

        assert (old.code, new.code) == ("111111", "222222")
        old_row, new_row = PhoneCode.objects.order_by("created_at", "id")
        assert old_row.used_at is not None  # retired when the new one was drawn
        assert new_row.used_at is None
        assert MemorySmsSender.outbox == [(PHONE, code_text("111111")), (PHONE, code_text("222222"))]

        with pytest.raises(ValidationFailed) as exc:
            phone_code_sign_in(phone=PHONE, code=old.code, ip=IP)

        # The old code is only a wrong try against the current one.
        assert exc.value.errors == {"code": f"验证码错误，还可以再试{CODE_MAX_ATTEMPTS - 1}次"}
        assert MemberAccount.objects.count() == 0
        account = phone_code_sign_in(phone=PHONE, code=new.code, ip=IP)
        assert MemberAccount.objects.get().id == account.id

    def test_only_a_keyed_hash_of_the_code_is_stored(self, db):
        sent = phone_code_send(phone=PHONE, ip=IP)
        row = PhoneCode.objects.values().get()

        text_columns = [row["phone_index"], row["code_hash"], row["ip"]]
        assert all(sent.code not in value and PHONE not in value for value in text_columns)
        index = phone_index(PHONE)
        assert row["code_hash"] == blind_index(f"{index}:{sent.code}", context=CODE_CONTEXT)
        # Keyed: the same code and phone give another hash under another key, so the hash cannot be looked up.
        with override_settings(BLIND_INDEX_KEY=b"another key, another hash........"):
            assert blind_index(f"{index}:{sent.code}", context=CODE_CONTEXT) != row["code_hash"]

    @pytest.mark.parametrize(
        ("phone", "message"),
        [
            ("12345", "手机号码不正确，应为11位中国大陆手机号"),
            ("23812341234", "手机号码不正确，应为11位中国大陆手机号"),
            ("", "手机号码不正确，应为11位中国大陆手机号"),
            ("051265241234", "请填写11位手机号码（不接受固定电话）"),
        ],
    )
    def test_wrong_phone_format_gives_the_chinese_field_error_and_writes_no_code(self, db, phone, message):
        before = portal_state()

        with pytest.raises(ValidationFailed) as sending:
            phone_code_send(phone=phone, ip=IP)
        with pytest.raises(ValidationFailed) as checking:
            phone_code_sign_in(phone=phone, code="123456", ip=IP)

        assert sending.value.errors == {"phone": message}
        assert checking.value.errors == {"phone": message}
        assert MemorySmsSender.outbox == []
        assert PhoneCode.objects.count() == 0
        assert portal_state() == before

    def test_full_width_digits_are_the_same_phone(self, db):
        sent = phone_code_send(phone="１３８１２３４１２３４", ip=IP)

        account = phone_code_sign_in(phone=PHONE, code=sent.code, ip=IP)

        assert MemorySmsSender.outbox == [(PHONE, code_text(sent.code))]
        assert account.phone_index == phone_index(PHONE)

    def test_sms_failure_raises_and_leaves_no_code_row(self, db, settings):
        settings.SMS_BACKEND = f"{__name__}.FailingSmsSender"
        before = portal_state()

        with pytest.raises(DomainError) as exc:
            phone_code_send(phone=PHONE, ip=IP)

        assert exc.value.message == "短信发送失败，请稍后再试"
        assert exc.value.code == "sms_not_sent"
        assert PhoneCode.objects.count() == 0
        assert MemorySmsSender.outbox == []
        assert portal_state() == before

    def test_sms_failure_keeps_the_earlier_code_usable(self, db, settings, clock):
        sent = phone_code_send(phone=PHONE, ip=IP)
        clock.advance(PHONE_CODE_INTERVAL_SECONDS)
        settings.SMS_BACKEND = f"{__name__}.FailingSmsSender"

        with pytest.raises(DomainError) as exc:
            phone_code_send(phone=PHONE, ip=IP)

        assert exc.value.code == "sms_not_sent"
        row = PhoneCode.objects.get()  # the new row is rolled back, and so is the retirement of the old one
        assert row.used_at is None
        account = phone_code_sign_in(phone=PHONE, code=sent.code, ip=IP)
        assert MemberAccount.objects.get().id == account.id


# ---------------------------------------------------------------- 2. brute force and limits


class TestCodeLimits:
    def test_wrong_codes_are_counted_although_each_call_raises(self, db):
        sent = phone_code_send(phone=PHONE, ip=IP)

        with pytest.raises(ValidationFailed) as first:
            phone_code_sign_in(phone=PHONE, code=wrong(sent.code), ip=IP)
        assert first.value.errors == {"code": "验证码错误，还可以再试4次"}
        assert PhoneCode.objects.get().attempts == 1

        with pytest.raises(ValidationFailed) as second:
            phone_code_sign_in(phone=PHONE, code="12345", ip=IP)  # too short: still a wrong try
        assert second.value.errors == {"code": "验证码错误，还可以再试3次"}
        row = PhoneCode.objects.get()
        assert (row.attempts, row.used_at) == (2, None)
        assert MemberAccount.objects.count() == 0

        # The code itself still works after a few wrong tries.
        phone_code_sign_in(phone=PHONE, code=sent.code, ip=IP)
        assert MemberAccount.objects.count() == 1

    def test_after_max_wrong_codes_the_right_code_no_longer_works(self, db, clock):
        sent = phone_code_send(phone=PHONE, ip=IP)
        messages = []
        for _ in range(CODE_MAX_ATTEMPTS):
            with pytest.raises(ValidationFailed) as exc:
                phone_code_sign_in(phone=PHONE, code=wrong(sent.code), ip=IP)
            messages.append(exc.value.errors["code"])

        assert CODE_MAX_ATTEMPTS == 5
        assert messages == [
            "验证码错误，还可以再试4次",
            "验证码错误，还可以再试3次",
            "验证码错误，还可以再试2次",
            "验证码错误，还可以再试1次",
            "验证码错误次数过多，请重新获取验证码",
        ]
        row = PhoneCode.objects.get()
        assert row.attempts == CODE_MAX_ATTEMPTS
        assert row.used_at is not None

        with pytest.raises(ValidationFailed) as exc:
            phone_code_sign_in(phone=PHONE, code=sent.code, ip=IP)

        assert exc.value.errors == {"code": CODE_REFUSED}
        assert MemberAccount.objects.count() == 0
        assert not AuditEvent.objects.filter(action="member.login").exists()
        # A new code is the way back in.
        clock.advance(PHONE_CODE_INTERVAL_SECONDS)
        sign_in()
        assert MemberAccount.objects.count() == 1

    def test_a_phone_gets_one_code_a_minute(self, db, clock):
        sent = phone_code_send(phone=PHONE, ip=IP)
        clock.advance(PHONE_CODE_INTERVAL_SECONDS - 1)
        before = portal_state()

        with pytest.raises(RateLimited) as exc:
            phone_code_send(phone=PHONE, ip=OTHER_IP)

        assert exc.value.message == "验证码已发送，请60秒后再重新获取"
        assert (exc.value.code, exc.value.status) == ("rate_limited", 429)
        assert portal_state() == before
        assert MemorySmsSender.outbox == [(PHONE, code_text(sent.code))]
        # Another phone is not held up, and this one may have a new code a minute later.
        phone_code_send(phone=OTHER_PHONE, ip=IP)
        clock.advance(1)
        phone_code_send(phone=PHONE, ip=IP)
        assert PhoneCode.objects.count() == 3

    def test_a_phone_gets_at_most_ten_codes_a_day(self, db, clock):
        assert PHONE_CODES_PER_DAY == 10
        for _ in range(PHONE_CODES_PER_DAY):
            phone_code_send(phone=PHONE, ip=IP)
            clock.advance(PHONE_CODE_INTERVAL_SECONDS + 1)
        before = portal_state()

        with pytest.raises(RateLimited) as exc:
            phone_code_send(phone=PHONE, ip=OTHER_IP)

        assert exc.value.message == "该手机号24小时内获取验证码次数已达上限，请稍后再试"
        assert portal_state() == before
        assert len(MemorySmsSender.outbox) == PHONE_CODES_PER_DAY
        phone_code_send(phone=OTHER_PHONE, ip=IP)  # another phone has its own count
        clock.advance(86400)
        phone_code_send(phone=PHONE, ip=IP)  # 24 hours after the earliest of the ten
        assert len(MemorySmsSender.outbox) == PHONE_CODES_PER_DAY + 2

    def test_an_ip_address_gets_at_most_thirty_codes_an_hour(self, db, clock):
        assert IP_CODES_PER_HOUR == 30
        for i in range(IP_CODES_PER_HOUR):
            phone_code_send(phone=f"1380000{i:04d}", ip=IP)
        before = portal_state()

        with pytest.raises(RateLimited) as exc:
            phone_code_send(phone=PHONE, ip=IP)

        assert exc.value.message == "获取验证码过于频繁，请稍后再试"
        assert portal_state() == before
        assert len(MemorySmsSender.outbox) == IP_CODES_PER_HOUR
        phone_code_send(phone=PHONE, ip=OTHER_IP)  # another address, and the phone was not counted
        clock.advance(3600)
        phone_code_send(phone=OTHER_PHONE, ip=IP)  # the next hour
        assert len(MemorySmsSender.outbox) == IP_CODES_PER_HOUR + 2

    def test_an_ip_address_gets_at_most_sixty_code_checks_an_hour(self, db, clock):
        sent = phone_code_send(phone=PHONE, ip=IP)
        assert IP_CHECKS_PER_HOUR == 60
        for _ in range(IP_CHECKS_PER_HOUR):
            with pytest.raises(ValidationFailed):
                phone_code_sign_in(phone=OTHER_PHONE, code="000000", ip=IP)  # no code was sent to this phone
        before = portal_state()

        with pytest.raises(RateLimited) as exc:
            phone_code_sign_in(phone=PHONE, code=sent.code, ip=IP)

        assert exc.value.message == "尝试次数过多，请稍后再试"
        assert portal_state() == before  # the code was neither used nor counted
        account = phone_code_sign_in(phone=PHONE, code=sent.code, ip=OTHER_IP)
        assert MemberAccount.objects.get().id == account.id


# ---------------------------------------------------------------- 3. password


class TestPassword:
    @pytest.mark.parametrize("password", ["12345678", "Ab1#", "password", "abcdefgh1", "portal2026"])
    def test_a_weak_password_is_refused_on_the_password_field(self, db, password):
        account = sign_in()
        before = portal_state()

        with pytest.raises(ValidationFailed) as exc:
            member_password_set(account=account, password=password, ip=IP)

        assert list(exc.value.errors) == ["password"]
        assert exc.value.errors["password"]
        assert portal_state() == before

    def test_setting_a_password_stores_a_hash_and_bumps_session_version(self, db):
        account = sign_in()

        member_password_set(account=account, password=STRONG_PASSWORD, ip=IP)

        account = fresh(account)
        assert account.session_version == 1
        assert account.password != STRONG_PASSWORD
        assert STRONG_PASSWORD not in account.password
        assert check_password(STRONG_PASSWORD, account.password)
        event = member_events("member.password_set").get()
        assert (event.actor_kind, event.object_id, event.ip) == ("member", str(account.id), IP)
        assert STRONG_PASSWORD not in str(event.details)

        member_password_set(account=account, password="Another#Pass2027", ip=IP)

        assert fresh(account).session_version == 2
        assert member_events("member.password_change").count() == 1

    def test_signing_in_with_the_password(self, db):
        account = sign_in()
        member_password_set(account=account, password=STRONG_PASSWORD, ip=IP)
        MemberAccount.objects.filter(pk=account.pk).update(last_login_at=None)

        signed_in = member_password_sign_in(phone=PHONE, password=STRONG_PASSWORD, ip=OTHER_IP)

        assert signed_in.id == account.id
        assert fresh(account).last_login_at is not None
        assert MemberAccount.objects.count() == 1
        assert list(member_events("member.login").values_list("details", flat=True)) == [
            {"method": "sms_code"},
            {"method": "password"},
        ]

    def test_a_wrong_password_gets_the_same_answer_for_unknown_and_known_phones(self, db, clock):
        with_password = sign_in(PHONE)
        member_password_set(account=with_password, password=STRONG_PASSWORD, ip=IP)
        sign_in(OTHER_PHONE)  # an account without a password
        unknown = "13700001111"
        before = portal_state()

        answers = []
        for phone, password in ((PHONE, "Wrong#Pass2026"), (OTHER_PHONE, STRONG_PASSWORD), (unknown, STRONG_PASSWORD)):
            with pytest.raises(ValidationFailed) as exc:
                member_password_sign_in(phone=phone, password=password, ip=IP)
            answers.append((type(exc.value), exc.value.errors, exc.value.message, exc.value.code))

        assert answers == [(ValidationFailed, WRONG_PASSWORD, "手机号或密码错误", "validation_failed")] * 3
        assert portal_state() == before  # no account for the unknown phone, no sign-in recorded

    @pytest.mark.parametrize("registered", [True, False], ids=["known_phone", "unknown_phone"])
    def test_five_password_tries_per_fifteen_minutes_per_phone(self, db, clock, registered):
        if registered:
            account = sign_in()
            member_password_set(account=account, password=STRONG_PASSWORD, ip=IP)
        assert (PASSWORD_TRIES_PER_WINDOW, PASSWORD_WINDOW_SECONDS) == (5, 900)
        for _ in range(PASSWORD_TRIES_PER_WINDOW):
            with pytest.raises(ValidationFailed) as exc:
                member_password_sign_in(phone=PHONE, password="Wrong#Pass2026", ip=IP)
            assert exc.value.errors == WRONG_PASSWORD
        before = portal_state()

        with pytest.raises(DomainError) as exc:
            member_password_sign_in(phone=PHONE, password=STRONG_PASSWORD, ip=OTHER_IP)

        # The same answer whether or not the phone has an account.
        assert exc.value.message == "密码错误次数过多，请15分钟后再试，或使用短信验证码登录"
        assert exc.value.code == "rate_limited"
        assert portal_state() == before
        clock.advance(PASSWORD_WINDOW_SECONDS)
        if registered:
            assert member_password_sign_in(phone=PHONE, password=STRONG_PASSWORD, ip=IP).id == account.id
        else:
            with pytest.raises(ValidationFailed) as exc:
                member_password_sign_in(phone=PHONE, password=STRONG_PASSWORD, ip=IP)
            assert exc.value.errors == WRONG_PASSWORD


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
