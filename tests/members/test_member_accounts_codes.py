"""Portal accounts: signing in with a code sent by SMS. Every refusal leaves the accounts and the codes as they
were."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import override_settings
from django.utils import timezone

from gonghui.audit.models import AuditResult
from gonghui.common.crypto import blind_index, decrypt_text
from gonghui.common.errors import DomainError, ValidationFailed
from gonghui.common.sms import MemorySmsSender, SmsNotSent
from gonghui.members import member_accounts
from gonghui.members.member_accounts import (
    CODE_CONTEXT,
    CODE_MAX_ATTEMPTS,
    CODE_TTL_SECONDS,
    PHONE_CODE_INTERVAL_SECONDS,
    phone_code_send,
    phone_code_sign_in,
)
from gonghui.members.models import MemberAccount, PhoneCode
from gonghui.members.people import PHONE_CONTEXT, phone_index
from tests.members.member_account_factories import (
    CODE_REFUSED,
    IP,
    PHONE,
    code_text,
    fresh,
    member_events,
    portal_state,
    sign_in,
)


class FailingSmsSender:
    """A gateway that never accepts a message."""

    def send(self, *, phone: str, text: str) -> None:
        raise SmsNotSent("gateway down")


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
