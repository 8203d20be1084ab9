"""Portal accounts: brute force and limits on codes, and the password."""

import pytest
from django.contrib.auth.hashers import check_password

from gonghui.audit.models import AuditEvent
from gonghui.common.errors import DomainError, ValidationFailed
from gonghui.common.ratelimit import RateLimited
from gonghui.common.sms import MemorySmsSender
from gonghui.members.member_accounts import (
    CODE_MAX_ATTEMPTS,
    IP_CHECKS_PER_HOUR,
    IP_CODES_PER_HOUR,
    PASSWORD_TRIES_PER_WINDOW,
    PASSWORD_WINDOW_SECONDS,
    PHONE_CODE_INTERVAL_SECONDS,
    PHONE_CODES_PER_DAY,
    member_password_set,
    member_password_sign_in,
    phone_code_send,
    phone_code_sign_in,
)
from gonghui.members.models import MemberAccount, PhoneCode
from tests.members.member_account_factories import (
    CODE_REFUSED,
    IP,
    OTHER_IP,
    OTHER_PHONE,
    PHONE,
    STRONG_PASSWORD,
    WRONG_PASSWORD,
    code_text,
    fresh,
    member_events,
    portal_state,
    sign_in,
    wrong,
)

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
