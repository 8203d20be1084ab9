"""The member portal's pages through the test client: sign-in, binding, joining by a union's link, the card, transfers,
my data; and the security properties the portal must hold (own data only, OTP brute force cut off, CSRF)."""

import re
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from gonghui.audit.models import AuditEvent
from gonghui.common.sms import MemorySmsSender
from gonghui.members.cards import card_token_verify
from gonghui.members.member_accounts import CODE_MAX_ATTEMPTS
from gonghui.members.models import (
    ApplicationStatus,
    CorrectionRequest,
    JoinApplication,
    MemberAccount,
    Membership,
    Person,
    TransferRequest,
    TransferStatus,
)
from gonghui.members.services import join_application_approve, transfer_accept, transfer_release
from tests.members.factories import enrol, registry_state, resident_id
from tests.portal.factories import (
    NEW_WORKER_ID,
    OTHER_PHONE,
    PHONE,
    _apply,
    _last_code,
    _without_csrf,
    sign_in,
)

# ---------------------------------------------------------------- sign-in


@pytest.mark.django_db
def test_sign_in_with_code_creates_one_account_and_lands_on_binding():
    client = Client()
    response = sign_in(client)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:bind"))
    assert MemberAccount.objects.count() == 1
    account = MemberAccount.objects.get()
    assert account.phone_masked == "139****5678"
    assert client.session["portal_account"] == str(account.id)
    home = client.get(reverse("portal:home"))
    assert "139****5678" in home.content.decode()


@pytest.mark.django_db
def test_demo_mode_shows_the_code_on_the_page_and_only_then(settings):
    client = Client()
    settings.DEMO_MODE = False
    page = client.post(reverse("portal:login"), {"phone": PHONE, "action": "send"}).content.decode()
    assert "验证码已发送至 139****5678" in page
    assert 'data-testid="demo-code"' not in page
    assert _last_code(PHONE) not in page

    settings.DEMO_MODE = True
    page = client.post(reverse("portal:login"), {"phone": OTHER_PHONE, "action": "send"}).content.decode()
    assert f"演示环境：验证码为 <strong>{_last_code(OTHER_PHONE)}</strong>" in page


@pytest.mark.django_db
def test_otp_brute_force_is_cut_off_and_the_right_code_then_fails_too():
    client = Client()
    client.post(reverse("portal:login"), {"phone": PHONE, "action": "send"})
    code = _last_code(PHONE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    pages = [
        client.post(reverse("portal:login"), {"phone": PHONE, "code": wrong}).content.decode()
        for _ in range(CODE_MAX_ATTEMPTS)
    ]

    assert "还可以再试4次" in pages[0]
    assert "验证码错误次数过多，请重新获取验证码" in pages[-1]
    late = client.post(reverse("portal:login"), {"phone": PHONE, "code": code})
    assert late.status_code == 200
    assert "验证码错误或已过期" in late.content.decode()
    assert MemberAccount.objects.count() == 0
    assert "portal_account" not in client.session


@pytest.mark.django_db
def test_a_second_code_request_within_a_minute_is_refused_and_sends_nothing():
    client = Client()
    client.post(reverse("portal:login"), {"phone": PHONE, "action": "send"})
    page = client.post(reverse("portal:login"), {"phone": PHONE, "action": "send"}).content.decode()

    assert "验证码已发送，请60秒后再重新获取" in page
    assert len(MemorySmsSender.outbox) == 1


@pytest.mark.django_db
def test_bad_phone_gets_a_chinese_message_and_no_code():
    page = Client().post(reverse("portal:login"), {"phone": "12345", "action": "send"}).content.decode()

    assert "手机号码不正确" in page or "请填写11位手机号码" in page
    assert MemorySmsSender.outbox == []


@pytest.mark.django_db
def test_password_sign_in_after_setting_one_and_other_sessions_end():
    first, second = Client(), Client()
    sign_in(first)
    sign_in(second)
    response = first.post(reverse("portal:me_password"), {"password": "Gongren#2026", "password2": "Gongren#2026"})
    assert "密码已设置" in response.content.decode()

    assert first.get(reverse("portal:me")).status_code == 200  # this session stays
    assert second.get(reverse("portal:me")).status_code == 302  # the other one ended

    third = Client()
    wrong = third.post(reverse("portal:login_password"), {"phone": PHONE, "password": "nope"})
    assert "手机号或密码错误" in wrong.content.decode()
    right = third.post(reverse("portal:login_password"), {"phone": PHONE, "password": "Gongren#2026"})
    assert right.status_code == 302
    assert third.get(reverse("portal:me")).status_code == 200


@pytest.mark.django_db
def test_logout_needs_post_and_ends_the_member_session():
    client = Client()
    sign_in(client)
    assert client.get(reverse("portal:logout")).status_code == 405
    client.post(reverse("portal:logout"))
    assert "portal_account" not in client.session
    assert client.get(reverse("portal:card")).status_code == 302


# ---------------------------------------------------------------- binding


@pytest.mark.django_db
def test_binding_with_the_right_pair_opens_the_card(system, union):
    membership = enrol(system, union, name="王会员", seq=7, phone=PHONE)
    client = Client()
    sign_in(client)
    response = client.post(
        reverse("portal:bind"),
        {"name": "王会员", "doc_type": "resident_id", "doc_number": resident_id(date(1990, 5, 17), 7)},
    )

    assert response.status_code == 302
    assert MemberAccount.objects.get().person_id == membership.person_id
    card = client.get(reverse("portal:card")).content.decode()
    assert membership.card_number in card
    assert '<dd data-testid="card-name">王会员</dd>' in card  # her own card: her full name
    assert "<svg" in card


@pytest.mark.django_db
def test_binding_a_wrong_name_and_an_unknown_number_answer_the_same(system, union):
    enrol(system, union, name="王会员", seq=7, phone=PHONE)
    client = Client()
    sign_in(client)
    before = registry_state()
    wrong_name = client.post(
        reverse("portal:bind"),
        {"name": "王别人", "doc_type": "resident_id", "doc_number": resident_id(date(1990, 5, 17), 7)},
    ).content.decode()
    unknown = client.post(
        reverse("portal:bind"),
        {"name": "王会员", "doc_type": "resident_id", "doc_number": resident_id(date(1990, 5, 17), 8)},
    ).content.decode()

    def message(page):
        return re.search(r'<p class="err" role="alert">([^<]+)</p>', page).group(1)

    assert message(wrong_name) == message(unknown)
    assert MemberAccount.objects.get().person_id is None
    after = registry_state()
    assert after.pop("audit_events") == before.pop("audit_events") + 2  # the refusals are audited ...
    assert after == before  # ... and nothing else changed
    assert AuditEvent.objects.filter(action="member.bind", result="failed").count() == 2


# ---------------------------------------------------------------- joining by the union's link


@pytest.mark.django_db
def test_join_link_asks_to_sign_in_and_comes_back(union):
    client = Client()
    landing = client.get(reverse("portal:join_union", args=[union.id])).content.decode()
    assert union.name in landing
    assert "登录后申请入会" in landing

    response = sign_in(client, next_url=reverse("portal:join_union", args=[union.id]))
    assert response["Location"] == reverse("portal:join_union", args=[union.id])
    form = client.get(response["Location"]).content.decode()
    assert "个人信息保护说明" in form


@pytest.mark.django_db
def test_join_without_consent_is_refused_and_writes_nothing(union):
    client = Client()
    sign_in(client)
    before = registry_state()
    page = _apply(client, union, consent="").content.decode()

    assert "请阅读并同意个人信息保护说明后提交" in page
    assert registry_state() == before


@pytest.mark.django_db
def test_join_form_requires_what_the_registry_needs(union):
    client = Client()
    sign_in(client)
    page = _apply(client, union, work_unit="", education="").content.decode()

    assert "请填写工作单位" in page
    assert "请选择学历" in page
    assert JoinApplication.objects.count() == 0


@pytest.mark.django_db
def test_join_apply_then_approval_then_card(union, actors):
    client = Client()
    sign_in(client)
    response = _apply(client, union)
    application = JoinApplication.objects.get()
    assert response["Location"] == reverse("portal:application", args=[application.id])
    assert application.source == "online"
    assert application.consent_at is not None
    progress = client.get(response["Location"]).content.decode()
    assert "审核中" in progress and f"工会将在 {application.due_on:%Y-%m-%d} 前审核" in progress

    membership = join_application_approve(actor=actors["grassroots_cadre"], application=application)
    progress = client.get(response["Location"]).content.decode()
    assert "已通过" in progress and membership.card_number in progress
    card = client.get(reverse("portal:card")).content.decode()
    assert membership.card_number in card


@pytest.mark.django_db
def test_rejection_reason_shows_in_the_timeline(union, actors):
    from gonghui.members.services import join_application_reject

    client = Client()
    sign_in(client)
    _apply(client, union)
    application = JoinApplication.objects.get()
    join_application_reject(actor=actors["grassroots_cadre"], application=application, reason="非本单位职工")

    page = client.get(reverse("portal:application", args=[application.id])).content.decode()
    assert "未通过" in page and "理由：非本单位职工" in page


@pytest.mark.django_db
def test_live_validation_uses_the_registry_messages():
    client = Client()
    bad_check_digit = NEW_WORKER_ID[:-1] + ("0" if NEW_WORKER_ID[-1] != "0" else "1")
    answer = client.post(
        reverse("portal:join_check"), {"field": "doc_number", "doc_type": "resident_id", "doc_number": bad_check_digit}
    )
    assert answer.status_code == 200
    assert answer.content.decode() == "居民身份证号码校验位不正确，请核对是否有输错的数字"
    sci = client.post(
        reverse("portal:join_check"), {"field": "doc_number", "doc_type": "resident_id", "doc_number": "3.20506E+17"}
    )
    assert "科学计数法" in sci.content.decode()
    ok = client.post(
        reverse("portal:join_check"), {"field": "doc_number", "doc_type": "resident_id", "doc_number": NEW_WORKER_ID}
    )
    assert ok.content.decode() == ""


@pytest.mark.django_db
def test_find_union_by_name_and_by_employer(union, employer_set):
    client = Client()
    by_name = client.get(reverse("portal:join_find"), {"q": "十二号"}).content.decode()
    assert union.name in by_name
    employer = employer_set["covered"]
    by_employer = client.get(reverse("portal:join_find"), {"q": employer.name[:4], "by": "employer"}).content.decode()
    assert employer.covering_union.name in by_employer
    nothing = client.get(reverse("portal:join_find"), {"q": "不存在的工会名"}).content.decode()
    assert "没有找到匹配的基层工会" in nothing


@pytest.mark.django_db
def test_join_link_of_a_non_grassroots_org_is_a_404(tree):
    response = Client().get(reverse("portal:join_union", args=[tree["SZ-GS"].id]))
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


# ---------------------------------------------------------------- transfers


@pytest.mark.django_db
def test_transfer_end_to_end(system, tree, union, actors):
    membership = enrol(system, union, name="王会员", seq=7, phone=PHONE)
    client = Client()
    sign_in(client)
    client.post(
        reverse("portal:bind"),
        {"name": "王会员", "doc_type": "resident_id", "doc_number": resident_id(date(1990, 5, 17), 7)},
    )
    target = tree["SZ-WZ-T01-E1"]
    scanned = client.get(reverse("portal:join_union", args=[target.id])).content.decode()
    assert "申请转入本会" in scanned

    response = client.post(reverse("portal:transfer_to", args=[target.id]), {"reason": "已到新单位工作"})
    transfer = TransferRequest.objects.get()
    assert response["Location"] == reverse("portal:transfer_detail", args=[transfer.id])
    assert transfer.requested_by_member and transfer.from_org_id == union.id and transfer.to_org_id == target.id

    transfer_release(actor=actors["grassroots_cadre"], transfer=transfer)
    new = transfer_accept(actor=actors["other_district_cadre"], transfer=TransferRequest.objects.get())
    page = client.get(response["Location"]).content.decode()
    assert "接转完成" in page and new.card_number in page
    card = client.get(reverse("portal:card")).content.decode()
    assert new.card_number in card and membership.card_number not in card


@pytest.mark.django_db
def test_transfer_without_a_reason_is_refused_and_writes_nothing(system, tree, union):
    enrol(system, union, name="王会员", seq=7, phone=PHONE)
    client = Client()
    sign_in(client)
    client.post(
        reverse("portal:bind"),
        {"name": "王会员", "doc_type": "resident_id", "doc_number": resident_id(date(1990, 5, 17), 7)},
    )
    before = registry_state()
    page = client.post(reverse("portal:transfer_to", args=[tree["SZ-WZ-T01-E1"].id]), {"reason": " "}).content.decode()

    assert "请填写接转原因" in page
    assert registry_state() == before


# ---------------------------------------------------------------- my data


@pytest.mark.django_db
def test_my_data_is_masked_until_tapped_and_the_reveal_is_audited(system, union):
    enrol(system, union, name="王会员", seq=7, phone=PHONE)
    number = resident_id(date(1990, 5, 17), 7)
    client = Client()
    sign_in(client)
    client.post(reverse("portal:bind"), {"name": "王会员", "doc_type": "resident_id", "doc_number": number})
    page = client.get(reverse("portal:me")).content.decode()
    assert number not in page and PHONE not in page
    assert "3205**********" in page

    revealed = client.post(reverse("portal:me_reveal", args=["doc_number"]))
    assert revealed.content.decode() == number
    assert AuditEvent.objects.filter(action="person.reveal_own", details__field="doc_number").count() == 1


@pytest.mark.django_db
def test_correction_request_goes_to_the_union(system, union):
    enrol(system, union, name="王会员", seq=7, phone=PHONE)
    client = Client()
    sign_in(client)
    client.post(
        reverse("portal:bind"),
        {"name": "王会员", "doc_type": "resident_id", "doc_number": resident_id(date(1990, 5, 17), 7)},
    )
    form = {
        "name": "王会员",
        "ethnicity": "汉族",
        "education": "postgraduate",
        "employment_form": "standard",
        "work_unit": "十二号有限公司",
    }
    response = client.post(reverse("portal:me_correct"), form)

    assert response.status_code == 302
    correction = CorrectionRequest.objects.get()
    assert correction.changes == {"education": "postgraduate"}
    assert correction.org_id == union.id
    same = client.post(reverse("portal:me_correct"), form).content.decode()
    assert "待处理的更正申请" in same


# ---------------------------------------------------------------- security


@pytest.mark.django_db
def test_one_member_cannot_reach_another_members_records_by_id(system, tree, union, actors):
    enrol(system, union, name="王会员", seq=7, phone=PHONE)
    owner = Client()
    sign_in(owner)
    owner.post(
        reverse("portal:bind"),
        {"name": "王会员", "doc_type": "resident_id", "doc_number": resident_id(date(1990, 5, 17), 7)},
    )
    owner.post(reverse("portal:transfer_to", args=[tree["SZ-WZ-T01-E1"].id]), {"reason": "已到新单位工作"})
    transfer = TransferRequest.objects.get()
    applicant = Client()
    sign_in(applicant, OTHER_PHONE)
    _apply(applicant, tree["SZ-GS-T02-E1"])
    application = JoinApplication.objects.get()

    intruder = Client()
    sign_in(intruder, "13700002222")
    before = registry_state()
    for url in (
        reverse("portal:application", args=[application.id]),
        reverse("portal:transfer_detail", args=[transfer.id]),
    ):
        assert intruder.get(url).status_code == 404
        assert intruder.post(url).status_code == 404  # withdrawing someone else's case
    missing = intruder.get(reverse("portal:application", args=["00000000-0000-0000-0000-000000000000"]))
    other = intruder.get(reverse("portal:application", args=[application.id]))
    # someone else's id looks exactly like a missing one (the per-response CSRF mask aside)
    assert _without_csrf(missing.content) == _without_csrf(other.content)
    assert registry_state() == before
    assert JoinApplication.objects.get().status == ApplicationStatus.PENDING
    assert TransferRequest.objects.get().status == TransferStatus.PENDING_RELEASE


@pytest.mark.django_db
def test_csrf_holds_on_portal_forms(union):
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("portal:login"))
    refused = client.post(reverse("portal:login"), {"phone": PHONE, "action": "send"})
    assert refused.status_code == 403
    assert "页面已过期" in refused.content.decode()
    assert MemorySmsSender.outbox == []

    token = client.cookies["csrftoken"].value
    accepted = client.post(reverse("portal:login"), {"phone": PHONE, "action": "send", "csrfmiddlewaretoken": token})
    assert accepted.status_code == 200
    assert len(MemorySmsSender.outbox) == 1


@pytest.mark.django_db
def test_member_session_does_not_open_the_back_office():
    client = Client()
    sign_in(client)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db
def test_pages_that_need_a_member_send_visitors_to_sign_in():
    client = Client()
    for name in (
        "portal:card",
        "portal:transfer",
        "portal:applications",
        "portal:me",
        "portal:me_correct",
        "portal:bind",
    ):
        response = client.get(reverse(name))
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("portal:login") + "?next=")


@pytest.mark.django_db
def test_card_qr_token_verifies(system, union, actors):
    membership = enrol(system, union, name="王会员", seq=7, phone=PHONE)
    client = Client()
    sign_in(client)
    client.post(
        reverse("portal:bind"),
        {"name": "王会员", "doc_type": "resident_id", "doc_number": resident_id(date(1990, 5, 17), 7)},
    )
    fragment = client.get(reverse("portal:card_qr")).content.decode()
    assert "<svg" in fragment
    from gonghui.members.cards import card_token_issue

    check = card_token_verify(actor=actors["grassroots_cadre"], token=card_token_issue(membership))
    assert check.valid and check.card_number == membership.card_number


@pytest.mark.django_db
def test_open_redirect_is_refused():
    client = Client()
    response = sign_in(client, next_url="https://evil.example/")
    assert response["Location"].startswith(reverse("portal:bind"))
    assert "evil" not in response["Location"]


@pytest.mark.django_db
def test_unbound_worker_applying_binds_to_the_new_record(union):
    client = Client()
    sign_in(client)
    _apply(client, union)
    account = MemberAccount.objects.get()
    person = Person.objects.get()
    assert account.person_id == person.id
    assert person.phone_masked == "139****5678"
    assert Membership.objects.count() == 0
