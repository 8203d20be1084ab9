"""Passwords chosen by someone else are for one sign-in only, and the audit administrator's role takes two people.

An account created or reset by another person sets its own password at first sign-in; an administrator account
also enrols a new authenticator. Granting the audit administrator role (creating one, changing a role to it, or
resetting one's password) leaves it inactive until a system administrator approves, so the security
administrator alone can never end up reading the audit trail. A cadre's own password change goes through the
accounts service: validated, audited, the session kept."""

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from gonghui.accounts.actors import actor_for_user
from gonghui.accounts.models import User
from gonghui.accounts.services import (
    account_create,
    account_reset_password,
    account_reset_second_factor,
    account_role_approve,
    account_role_reject,
    account_update,
)
from gonghui.audit.models import AuditEvent
from gonghui.audit.selectors import audit_events_visible_to
from gonghui.common.errors import NotFound, PermissionDenied
from gonghui.common.roles import Role
from tests.conftest import PASSWORD

CHOSEN = "Anquan#Chosen2026"  # the password the security administrator picks
OWN = "Ziji#Mima2026x"  # the password the person sets


def _snapshot():
    return (
        list(
            User.objects.order_by("username").values_list(
                "username", "role", "is_active", "password", "must_change_password", "role_pending_approval"
            )
        ),
        list(AuditEvent.objects.order_by("at", "id").values_list("id", flat=True)),
        TOTPDevice.objects.count(),
    )


def _sign_in(username: str, password: str) -> tuple[Client, object]:
    client = Client()
    response = client.post("/admin/login/", {"username": username, "password": password, "next": "/admin/"})
    return client, response


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def _change_password(client: Client, old: str, new: str):
    return client.post("/admin/password_change/", {"old_password": old, "new_password1": new, "new_password2": new})


# ---------------------------------------------------------------- a cadre's own password change


def test_own_password_change_goes_through_the_service(accounts, login):
    client = login("town_cadre")
    before = AuditEvent.objects.count()

    page = client.get("/admin/password_change/")
    assert page.status_code == 200
    assert "原密码" in page.content.decode()
    response = _change_password(client, PASSWORD, OWN)

    assert response.status_code == 302
    user = User.objects.get(username="town_cadre")
    assert user.check_password(OWN)
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.get(action="account.change_password")
    assert (event.actor_label, event.object_id, event.result) == ("town_cadre", str(user.id), "success")
    # The session survives its own password change.
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    ("old", "new1", "new2", "message"),
    [
        ("Wrong#Pass2026", OWN, OWN, "原密码不正确"),
        (PASSWORD, "short", "short", "密码长度太短"),
        (PASSWORD, OWN, OWN + "x", "两次输入的新密码不一致"),
    ],
)
def test_a_refused_own_password_change_changes_nothing(accounts, login, old, new1, new2, message):
    client = login("town_cadre")
    before = _snapshot()

    response = client.post(
        "/admin/password_change/", {"old_password": old, "new_password1": new1, "new_password2": new2}
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert _snapshot() == before
    assert User.objects.get(username="town_cadre").check_password(PASSWORD)


# ---------------------------------------------------------------- first sign-in after someone else chose the password


def test_a_cadre_created_by_the_system_admin_sets_its_own_password_first(actors, tree):
    user = account_create(
        actor=actors["sysadmin"], username="newcadre", full_name="新干部", org=tree["SZ-GS"],
        role=Role.UPPER_CADRE, password=CHOSEN,
    )  # fmt: skip
    assert (user.must_change_password, user.second_factor_enrolment_required, user.role_pending_approval) == (
        True,
        False,
        False,
    )

    client, response = _sign_in("newcadre", CHOSEN)
    assert response.status_code == 302
    # Every back-office page, and the API, waits for the new password.
    for url in ("/admin/", "/admin/orgs/organisation/", "/admin/security/otp/setup/"):
        answer = client.get(url)
        assert answer.status_code == 302, url
        assert answer["Location"] == f"/admin/password_change/?next={url}"
    assert actor_for_user(User.objects.get(username="newcadre")).perms == frozenset()

    assert _change_password(client, CHOSEN, OWN).status_code == 302

    user.refresh_from_db()
    assert user.must_change_password is False
    assert user.check_password(OWN)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/orgs/organisation/").status_code == 200
    change = AuditEvent.objects.get(action="account.change_password")
    assert change.actor_label == "newcadre"
    assert change.details == {"first_sign_in": True}


def test_accounts_made_by_the_system_itself_are_not_forced(tree, system):
    """The seed and the operator's create_account command act as the system: nobody else chose the password."""
    user = account_create(
        actor=system, username="seeded", full_name="演示", org=tree["SZ"], role=Role.AUDIT_ADMIN, password=CHOSEN
    )
    assert (user.must_change_password, user.second_factor_enrolment_required, user.role_pending_approval) == (
        False,
        False,
        False,
    )
    client, _ = _sign_in("seeded", CHOSEN)
    assert client.get("/admin/").status_code == 200


def test_a_reset_password_must_be_replaced_at_next_sign_in(accounts, actors):
    account_reset_password(actor=actors["secadmin"], user=accounts["district_cadre"], new_password=CHOSEN)

    user = User.objects.get(username="district_cadre")
    assert (user.must_change_password, user.second_factor_enrolment_required) == (True, False)
    client, _ = _sign_in("district_cadre", CHOSEN)
    assert client.get("/admin/")["Location"] == "/admin/password_change/?next=/admin/"
    # The new password must differ from the one chosen by somebody else.
    refused = _change_password(client, CHOSEN, CHOSEN)
    assert refused.status_code == 200
    assert "新密码不能与原密码相同" in refused.content.decode()
    assert User.objects.get(username="district_cadre").must_change_password is True


def test_an_administrator_reset_also_enrols_a_new_authenticator(accounts, actors):
    old_device = TOTPDevice.objects.create(user=accounts["sysadmin"], name="旧手机", confirmed=True)

    account_reset_password(actor=actors["secadmin"], user=accounts["sysadmin"], new_password=CHOSEN)

    user = User.objects.get(username="sysadmin")
    assert (user.must_change_password, user.second_factor_enrolment_required) == (True, True)
    assert not TOTPDevice.objects.filter(id=old_device.id).exists()
    reset = AuditEvent.objects.get(action="account.reset_password")
    assert reset.details == {"devices_removed": 1}

    client, _ = _sign_in("sysadmin", CHOSEN)
    assert client.get("/admin/")["Location"] == "/admin/password_change/?next=/admin/"
    assert _change_password(client, CHOSEN, OWN).status_code == 302
    assert client.get("/admin/")["Location"] == "/admin/security/otp/setup/?next=/admin/"
    assert client.get("/admin/security/otp/setup/").status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.post("/admin/security/otp/setup/", {"token": _code(device)}).status_code == 302
    user.refresh_from_db()
    assert user.second_factor_enrolment_required is False
    assert client.get("/admin/").status_code == 200


# ---------------------------------------------------------------- the audit administrator role takes two people


def _create_auditor(actors, tree, username="new_auditor"):
    return account_create(
        actor=actors["secadmin"], username=username, full_name="新审计员", org=tree["SZ"], role=Role.AUDIT_ADMIN,
        password=CHOSEN,
    )  # fmt: skip


def test_security_admin_alone_cannot_read_the_trail_through_a_new_auditor(accounts, actors, tree):
    user = _create_auditor(actors, tree)
    assert (user.must_change_password, user.second_factor_enrolment_required, user.role_pending_approval) == (
        True,
        True,
        True,
    )
    created = AuditEvent.objects.get(action="account.create", object_id=str(user.id))
    assert created.details == {"role": "audit_admin", "org": str(tree["SZ"].id), "pending_approval": True}

    # The security administrator signs in with the password it chose...
    client, response = _sign_in("new_auditor", CHOSEN)
    assert response.status_code == 302
    assert client.get("/admin/audit/auditevent/")["Location"] == (
        "/admin/password_change/?next=/admin/audit/auditevent/"
    )
    # ...must set a new password and enrol an authenticator...
    assert _change_password(client, CHOSEN, OWN).status_code == 302
    assert client.get("/admin/audit/auditevent/")["Location"].startswith("/admin/security/otp/setup/")
    assert client.get("/admin/security/otp/setup/").status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.post("/admin/security/otp/setup/", {"token": _code(device)}).status_code == 302
    # ...and even then the role is not active: the trail stays closed until a system administrator approves.
    assert client.get("/admin/audit/auditevent/").status_code == 403
    assert client.get("/api/v1/me").status_code == 403
    assert "正在等待系统管理员审批" in client.get("/admin/").content.decode()
    with pytest.raises(PermissionDenied):
        audit_events_visible_to(actor_for_user(User.objects.get(id=user.id)))

    account_role_approve(actor=actors["sysadmin"], user=user)

    assert User.objects.get(id=user.id).role_pending_approval is False
    assert client.get("/admin/audit/auditevent/").status_code == 200
    approval = AuditEvent.objects.get(action="account.approve_role")
    assert (approval.actor_label, approval.object_id, approval.details) == (
        "sysadmin",
        str(user.id),
        {"role": "audit_admin"},
    )


def test_resetting_the_auditor_suspends_the_role_until_approved(accounts, actors):
    auditor = accounts["auditor"]
    assert actor_for_user(auditor).can("audit.view")

    account_reset_password(actor=actors["secadmin"], user=auditor, new_password=CHOSEN)

    auditor.refresh_from_db()
    assert (auditor.must_change_password, auditor.second_factor_enrolment_required) == (True, True)
    assert auditor.role_pending_approval is True
    assert auditor.role == Role.AUDIT_ADMIN
    auditor.must_change_password = False  # even once the password is its own, the role waits for approval
    assert actor_for_user(auditor).perms == frozenset()


def test_changing_a_role_to_auditor_waits_for_approval_and_a_rejection_restores_it(accounts, actors, tree):
    target = accounts["sysadmin"]
    second_sysadmin = User(
        username="sysadmin2", full_name="二号", org=tree["SZ"], role=Role.SYSTEM_ADMIN, is_staff=True
    )
    second_sysadmin.set_password(PASSWORD)
    second_sysadmin.save()

    account_update(
        actor=actors["secadmin"], user=target, full_name=target.full_name, org=tree["SZ"], role="audit_admin"
    )

    target.refresh_from_db()
    assert (target.role, target.role_pending_approval, target.role_before_request) == (
        Role.AUDIT_ADMIN,
        True,
        Role.SYSTEM_ADMIN,
    )
    assert actor_for_user(target).perms == frozenset()

    account_role_reject(actor=actor_for_user(second_sysadmin), user=target, reason="未经审计委员会同意")

    target.refresh_from_db()
    assert (target.role, target.role_pending_approval, target.is_active) == (Role.SYSTEM_ADMIN, False, True)
    rejected = AuditEvent.objects.get(action="account.reject_role")
    assert rejected.details == {"role": "audit_admin", "reason": "未经审计委员会同意", "restored_role": "system_admin"}


def test_rejecting_a_new_auditor_deactivates_the_account(accounts, actors, tree):
    user = _create_auditor(actors, tree)

    account_role_reject(actor=actors["sysadmin"], user=user, reason="人选未定")

    user.refresh_from_db()
    assert (user.is_active, user.role_pending_approval) == (False, False)


@pytest.mark.parametrize("approver", ["secadmin", "auditor", "city_cadre", "new_auditor"])
def test_only_a_system_administrator_approves_and_refusals_change_nothing(accounts, actors, tree, approver):
    user = _create_auditor(actors, tree)
    actor = actor_for_user(user) if approver == "new_auditor" else actors[approver]
    before = _snapshot()

    with pytest.raises((PermissionDenied, NotFound)):
        account_role_approve(actor=actor, user=user)
    with pytest.raises((PermissionDenied, NotFound)):
        account_role_reject(actor=actor, user=user, reason="理由")

    assert _snapshot() == before


def test_approving_needs_a_pending_request(accounts, actors):
    before = _snapshot()
    with pytest.raises(Exception, match="没有待审批的角色授权"):
        account_role_approve(actor=actors["sysadmin"], user=accounts["auditor"])
    assert _snapshot() == before


def test_the_existing_auditors_and_the_system_admin_see_the_pending_grant(accounts, actors, tree, login):
    _create_auditor(actors, tree)

    for name in ("auditor", "sysadmin"):
        page = login(name).get("/admin/").content.decode()
        assert "待审批的审计管理员授权" in page, name
        assert "new_auditor" in page, name
    assert "待审批的审计管理员授权" not in login("town_cadre").get("/admin/").content.decode()


def test_approval_through_the_back_office_confirms_first(accounts, actors, tree, login):
    user = _create_auditor(actors, tree)
    client = login("sysadmin")
    url = f"/admin/accounts/user/{user.id}/approve-role/"
    before = _snapshot()

    listing = client.get("/admin/accounts/user/").content.decode()
    assert "角色待审批" in listing
    page = client.get(url)

    assert page.status_code == 200
    assert "审批角色授权" in page.content.decode()
    assert _snapshot() == before
    response = client.post(url, {"decision": "approve", "reason": ""})
    assert response.status_code == 302
    assert User.objects.get(id=user.id).role_pending_approval is False


def test_an_administrator_whose_authenticator_was_reset_enrols_a_new_one(accounts, actors, settings):
    settings.OTP_REQUIRED = False  # the demo profile: cadres may go without; administrators reset by another may not
    TOTPDevice.objects.create(user=accounts["sysadmin"], name="旧手机", confirmed=True)
    TOTPDevice.objects.create(user=accounts["town_cadre"], name="旧手机", confirmed=True)

    account_reset_second_factor(actor=actors["secadmin"], user=accounts["sysadmin"])
    account_reset_second_factor(actor=actors["secadmin"], user=accounts["town_cadre"])

    assert User.objects.get(username="sysadmin").second_factor_enrolment_required is True
    assert User.objects.get(username="town_cadre").second_factor_enrolment_required is False
    client, _ = _sign_in("sysadmin", PASSWORD)
    assert client.get("/admin/")["Location"] == "/admin/security/otp/setup/?next=/admin/"
