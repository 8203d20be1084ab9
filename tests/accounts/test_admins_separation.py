"""The three administrators (三员) are separated: the system administrator manages cadre accounts and organisations
but never reads the audit trail; the security administrator manages administrator accounts, lockouts, passwords
and second factors; the audit administrator reads the trail and changes nothing. Nobody changes themselves."""

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from gonghui.accounts.models import User
from gonghui.accounts.services import (
    account_create,
    account_reset_password,
    account_reset_second_factor,
    account_set_active,
    account_unlock,
    account_update,
    role_choices_for,
)
from gonghui.audit.models import AuditEvent
from gonghui.audit.selectors import audit_event_list, audit_events_visible_to
from gonghui.common.errors import PermissionDenied
from gonghui.common.roles import Role
from gonghui.orgs.models import Organisation
from gonghui.orgs.services import org_update
from tests.conftest import PASSWORD

NEW_PASSWORD = "Xinmima#2026"


def _snapshot():
    """Everything an administrator could write, to show a refused call changed nothing."""
    return (
        list(User.objects.order_by("username").values_list("username", "role", "org_id", "is_active", "password")),
        list(Organisation.objects.order_by("path").values_list("code", "name", "path", "status", "contact_person")),
        AuditEvent.objects.count(),
        TOTPDevice.objects.count(),
    )


def _create(actor, tree, *, username: str, role: str, org: str = "SZ-GS"):
    return account_create(
        actor=actor, username=username, full_name="测试", org=tree[org], role=role, password=NEW_PASSWORD
    )


# ---------------------------------------------------------------- system administrator


def test_sysadmin_cannot_read_the_audit_trail(accounts, actors, login):
    client = login("sysadmin")

    assert client.get("/admin/audit/auditevent/").status_code == 403
    event = AuditEvent.objects.first()
    assert client.get(f"/admin/audit/auditevent/{event.id}/change/").status_code == 403
    with pytest.raises(PermissionDenied):
        audit_events_visible_to(actors["sysadmin"])
    with pytest.raises(PermissionDenied):
        audit_event_list(actor=actors["sysadmin"])


@pytest.mark.parametrize("name", ["secadmin", "city_cadre", "town_cadre", "grassroots_cadre"])
def test_nobody_but_the_auditor_reads_the_audit_trail(accounts, actors, login, name):
    assert login(name).get("/admin/audit/auditevent/").status_code == 403
    with pytest.raises(PermissionDenied):
        audit_events_visible_to(actors[name])


def test_sysadmin_creates_cadre_accounts(actors, tree):
    user = _create(actors["sysadmin"], tree, username="new_cadre", role=Role.UPPER_CADRE)

    assert (user.role, user.org_id, user.is_staff) == (Role.UPPER_CADRE, tree["SZ-GS"].id, True)
    event = AuditEvent.objects.get(action="account.create")
    assert (event.actor_label, event.object_id) == ("sysadmin", str(user.id))
    assert event.details == {"role": "upper_cadre", "org": str(tree["SZ-GS"].id)}
    assert role_choices_for(actors["sysadmin"]) == [
        ("grassroots_cadre", "基层工会干部"),
        ("upper_cadre", "上级工会干部"),
    ]


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN])
def test_sysadmin_cannot_create_administrator_accounts(actors, tree, role):
    before = _snapshot()

    with pytest.raises(PermissionDenied):
        _create(actors["sysadmin"], tree, username="new_admin", role=role)

    assert _snapshot() == before
    assert not User.objects.filter(username="new_admin").exists()


def test_sysadmin_cannot_create_administrator_accounts_through_the_form(tree, login):
    before = _snapshot()

    response = login("sysadmin").post(
        "/admin/accounts/user/add/",
        {
            "username": "new_auditor",
            "full_name": "新审计员",
            "role": "audit_admin",
            "org_code": "SZ",
            "password": NEW_PASSWORD,
        },
    )

    assert response.status_code == 200  # the form comes back: audit_admin is not among the sysadmin's choices
    assert "audit_admin" not in [value for value, _ in response.context["adminform"].form.fields["role"].choices]
    assert "role" in response.context["adminform"].form.errors
    assert _snapshot() == before


def test_sysadmin_cannot_promote_a_cadre_to_administrator(accounts, actors, tree):
    before = _snapshot()

    with pytest.raises(PermissionDenied):
        account_update(
            actor=actors["sysadmin"],
            user=accounts["town_cadre"],
            full_name="town_cadre",
            org=tree["SZ-GS-T01"],
            role=Role.AUDIT_ADMIN,
        )

    assert _snapshot() == before


@pytest.mark.parametrize(
    "call",
    [
        lambda a, u: account_unlock(actor=a, user=u),
        lambda a, u: account_reset_second_factor(actor=a, user=u),
        lambda a, u: account_reset_password(actor=a, user=u, new_password=NEW_PASSWORD),
    ],
    ids=["unlock", "reset_totp", "reset_password"],
)
def test_sysadmin_has_no_security_functions(accounts, actors, call):
    TOTPDevice.objects.create(user=accounts["town_cadre"], name="身份验证器", confirmed=True)
    before = _snapshot()

    with pytest.raises(PermissionDenied):
        call(actors["sysadmin"], accounts["town_cadre"])

    assert _snapshot() == before


# ---------------------------------------------------------------- audit administrator


def test_auditor_reads_the_trail(accounts, login):
    response = login("auditor").get("/admin/audit/auditevent/")

    assert response.status_code == 200
    event = AuditEvent.objects.first()
    page = login("auditor").get(f"/admin/audit/auditevent/{event.id}/change/")
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert login("auditor").get("/admin/audit/auditevent/add/").status_code == 403


def test_auditor_cannot_change_the_trail_through_the_admin(accounts, login):
    event = AuditEvent.objects.order_by("at").first()
    before = _snapshot()

    response = login("auditor").post(f"/admin/audit/auditevent/{event.id}/change/", {"action": "x"})
    assert response.status_code == 403
    assert login("auditor").post(f"/admin/audit/auditevent/{event.id}/delete/", {"post": "yes"}).status_code == 403

    assert _snapshot() == before
    event.refresh_from_db()
    assert event.action == "org.create"


def test_auditor_cannot_add_or_change_organisations(accounts, tree, login):
    client = login("auditor")
    before = _snapshot()

    add = client.post(
        "/admin/orgs/organisation/add/",
        {
            "parent_code": "SZ",
            "name": "审计新建区总工会",
            "code": "SZ-XX",
            "org_type": "county",
            "region_code": "320507",
        },
    )
    change = client.post(
        f"/admin/orgs/organisation/{tree['SZ-GS'].id}/change/",
        {"name": "改名区总工会", "code": "SZ-GS", "org_type": "county", "region_code": "320508"},
    )
    dissolve = client.post(f"/admin/orgs/organisation/{tree['SZ-GS-T01-C1'].id}/dissolve/", {"reason": "审计"})
    export = client.post(f"/admin/orgs/organisation/{tree['SZ-GS'].id}/export/")

    assert (add.status_code, change.status_code, dissolve.status_code, export.status_code) == (403, 403, 403, 403)
    assert _snapshot() == before
    assert not Organisation.objects.filter(code="SZ-XX").exists()
    assert Organisation.objects.get(code="SZ-GS").name == "姑苏区总工会"
    # Reading is allowed.
    assert client.get(f"/admin/orgs/organisation/{tree['SZ-GS'].id}/change/").status_code == 200


def test_auditor_cannot_create_or_manage_accounts(accounts, actors, tree, login):
    client = login("auditor")
    before = _snapshot()

    assert client.get("/admin/accounts/user/").status_code == 403
    response = client.post(
        "/admin/accounts/user/add/",
        {"username": "sneaky", "full_name": "某人", "role": "upper_cadre", "org_code": "SZ", "password": NEW_PASSWORD},
    )
    assert response.status_code == 403
    for role in (Role.UPPER_CADRE, Role.AUDIT_ADMIN):
        with pytest.raises(PermissionDenied):
            _create(actors["auditor"], tree, username="sneaky", role=role)
    with pytest.raises(PermissionDenied):
        account_unlock(actor=actors["auditor"], user=accounts["town_cadre"])
    with pytest.raises(PermissionDenied):
        org_update(actor=actors["auditor"], org=tree["SZ-GS"], name="改名区总工会")

    assert _snapshot() == before
    assert role_choices_for(actors["auditor"]) == []


# ---------------------------------------------------------------- security administrator


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN])
def test_security_admin_creates_administrator_accounts(actors, tree, role):
    user = _create(actors["secadmin"], tree, username="new_admin", role=role, org="SZ")

    assert (user.role, user.org_id) == (role, tree["SZ"].id)
    event = AuditEvent.objects.get(action="account.create")
    assert (event.actor_label, event.object_id, event.details["role"]) == ("secadmin", str(user.id), role.value)


@pytest.mark.parametrize("role", [Role.UPPER_CADRE, Role.GRASSROOTS_CADRE])
def test_security_admin_cannot_create_cadre_accounts(actors, tree, role):
    before = _snapshot()

    with pytest.raises(PermissionDenied):
        _create(actors["secadmin"], tree, username="new_cadre", role=role)

    assert _snapshot() == before
    assert role_choices_for(actors["secadmin"]) == [
        ("system_admin", "系统管理员"),
        ("security_admin", "安全管理员"),
        ("audit_admin", "审计管理员"),
    ]


def test_security_admin_unlocks_resets_second_factor_and_password(accounts, actors):
    target = accounts["town_cadre"]
    client = Client()
    for i in range(5):
        client.post("/admin/login/", {"username": "town_cadre", "password": f"Wrong#{i}"})
    TOTPDevice.objects.create(user=target, name="身份验证器", confirmed=True)
    secadmin = actors["secadmin"]

    assert account_unlock(actor=secadmin, user=target) == 1
    assert not AccessAttempt.objects.filter(username="town_cadre").exists()
    assert account_reset_second_factor(actor=secadmin, user=target) == 1
    assert not TOTPDevice.objects.filter(user=target).exists()
    account_reset_password(actor=secadmin, user=target, new_password=NEW_PASSWORD)
    target.refresh_from_db()
    assert target.check_password(NEW_PASSWORD)
    assert not target.check_password(PASSWORD)

    events = list(
        AuditEvent.objects.filter(actor_label="secadmin").order_by("at").values_list("action", "object_id", "details")
    )
    assert events == [
        ("account.unlock", str(target.id), {"attempts_cleared": 1}),
        ("account.reset_totp", str(target.id), {"devices_removed": 1}),
        ("account.reset_password", str(target.id), {}),
    ]


def test_security_admin_cannot_change_a_cadre_role_or_organisation(accounts, actors, tree):
    before = _snapshot()

    with pytest.raises(PermissionDenied):
        account_update(
            actor=actors["secadmin"],
            user=accounts["town_cadre"],
            full_name="town_cadre",
            org=tree["SZ-GS-T02"],
            role=Role.UPPER_CADRE,
        )

    assert _snapshot() == before


def test_security_admin_cannot_edit_organisations(accounts, actors, tree, login):
    before = _snapshot()

    with pytest.raises(PermissionDenied):
        org_update(actor=actors["secadmin"], org=tree["SZ-GS"], name="改名区总工会")
    response = login("secadmin").post(
        f"/admin/orgs/organisation/{tree['SZ-GS'].id}/change/",
        {"name": "改名区总工会", "code": "SZ-GS", "org_type": "county", "region_code": "320508"},
    )

    assert response.status_code == 403
    assert _snapshot() == before


# ---------------------------------------------------------------- nobody changes themselves


@pytest.mark.parametrize("name", ["sysadmin", "secadmin", "auditor", "district_auditor"])
@pytest.mark.parametrize("change", ["role", "org"])
def test_nobody_changes_their_own_role_or_organisation(accounts, actors, tree, name, change):
    user = accounts[name]
    role = Role.SECURITY_ADMIN if user.role != Role.SECURITY_ADMIN else Role.SYSTEM_ADMIN
    org = tree["SZ-GS"] if user.org.code != "SZ-GS" else tree["SZ-GS-T01"]
    before = _snapshot()

    with pytest.raises(PermissionDenied):
        account_update(
            actor=actors[name],
            user=user,
            full_name=user.full_name,
            org=org if change == "org" else user.org,
            role=role if change == "role" else user.role,
        )

    assert _snapshot() == before


def test_security_admin_refusal_on_self_names_the_rule(accounts, actors, tree):
    with pytest.raises(PermissionDenied) as caught:
        account_update(
            actor=actors["secadmin"],
            user=accounts["secadmin"],
            full_name="secadmin",
            org=tree["SZ"],
            role=Role.AUDIT_ADMIN,
        )
    assert caught.value.message == "不能修改自己的角色、所属组织或安全设置，请由其他管理员办理"


@pytest.mark.parametrize(
    "call",
    [
        lambda a, u: account_reset_second_factor(actor=a, user=u),
        lambda a, u: account_reset_password(actor=a, user=u, new_password=NEW_PASSWORD),
        lambda a, u: account_set_active(actor=a, user=u, active=False),
    ],
    ids=["reset_totp", "reset_password", "deactivate"],
)
def test_security_admin_cannot_apply_security_functions_to_self(accounts, actors, call):
    TOTPDevice.objects.create(user=accounts["secadmin"], name="身份验证器", confirmed=True)
    before = _snapshot()

    with pytest.raises(PermissionDenied) as caught:
        call(actors["secadmin"], accounts["secadmin"])

    assert caught.value.message == "不能修改自己的角色、所属组织或安全设置，请由其他管理员办理"
    assert _snapshot() == before


def test_sysadmin_cannot_deactivate_self_or_an_administrator(accounts, actors):
    before = _snapshot()

    for target in ("sysadmin", "auditor", "secadmin"):
        with pytest.raises(PermissionDenied):
            account_set_active(actor=actors["sysadmin"], user=accounts[target], active=False)

    assert _snapshot() == before


def test_self_change_through_the_back_office_form_changes_nothing(accounts, tree, login):
    user = accounts["secadmin"]
    before = _snapshot()

    response = login("secadmin").post(
        f"/admin/accounts/user/{user.id}/change/",
        {"full_name": "secadmin", "role": "audit_admin", "org_code": "SZ"},
        follow=True,
    )

    assert response.status_code == 200
    assert "不能修改自己的角色、所属组织或安全设置，请由其他管理员办理" in response.content.decode()
    assert _snapshot() == before
    user.refresh_from_db()
    assert user.role == Role.SECURITY_ADMIN


# ---------------------------------------------------------------- a district auditor's scope


def test_district_auditor_sees_events_by_or_about_its_subtree_only(accounts, actors, tree, system):
    baseline = set(AuditEvent.objects.values_list("id", flat=True))
    # Made by an actor inside SZ-GS, about SZ-GS.
    org_update(actor=actors["district_cadre"], org=tree["SZ-GS-T02"], contact_person="区里改")
    # Made from above (the city), about an organisation in SZ-GS.
    org_update(actor=actors["city_cadre"], org=tree["SZ-GS-T01"], contact_person="市里改")
    # Made by the town cadre (inside SZ-GS) about its own union.
    org_update(actor=actors["town_cadre"], org=tree["SZ-GS-T01-12"], contact_person="镇里改")
    # Made in Wuzhong about Wuzhong: not the Gusu auditor's business.
    org_update(actor=actors["other_district_cadre"], org=tree["SZ-WZ-T01"], contact_person="吴中改")
    # Made by the city about Wuzhong.
    org_update(actor=actors["city_cadre"], org=tree["SZ-WZ"], contact_person="市里改吴中")
    # Made by the city about the city itself.
    org_update(actor=actors["city_cadre"], org=tree["SZ"], contact_person="市里改市总")

    def new_events(actor):
        return sorted(
            (e.actor_label, e.object_label)
            for e in audit_events_visible_to(actor).exclude(id__in=baseline).filter(action="org.update")
        )

    assert new_events(actors["district_auditor"]) == sorted(
        [
            ("city_cadre", "双塔街道总工会（SZ-GS-T01）"),
            ("district_cadre", "沧浪街道总工会（SZ-GS-T02）"),
            ("town_cadre", "十二号公司工会委员会（SZ-GS-T01-12）"),
        ]
    )
    assert new_events(actors["auditor"]) == sorted(
        [
            ("city_cadre", "吴中区总工会（SZ-WZ）"),
            ("city_cadre", "双塔街道总工会（SZ-GS-T01）"),
            ("city_cadre", "苏州市总工会（SZ）"),
            ("district_cadre", "沧浪街道总工会（SZ-GS-T02）"),
            ("other_district_cadre", "木渎镇总工会（SZ-WZ-T01）"),
            ("town_cadre", "十二号公司工会委员会（SZ-GS-T01-12）"),
        ]
    )
    # The fixture's creations (platform actor) are seen by the district auditor only for SZ-GS's organisations.
    created = sorted(
        e.object_label for e in audit_events_visible_to(actors["district_auditor"]).filter(action="org.create")
    )
    assert created == sorted(
        f"{tree[code].name}（{code}）"
        for code in ("SZ-GS", "SZ-GS-T01", "SZ-GS-T01-C1", "SZ-GS-T01-12", "SZ-GS-T01-123", "SZ-GS-T02", "SZ-GS-T02-E1")
    )
    # Account events about SZ-WZ cadres' accounts or done by them stay out of sight.
    assert not audit_events_visible_to(actors["district_auditor"]).filter(actor_label="other_district_cadre").exists()


def test_district_auditor_does_not_see_platform_events(accounts, actors, tree, system):
    from gonghui.orgs.services import OrgSpec, org_tree_bulk_create

    org_tree_bulk_create(
        actor=system,
        specs=[
            OrgSpec(
                parent_code="SZ-GS-T02",
                name="批量基层工会",
                code="SZ-GS-T02-E9",
                org_type="grassroots",
                region_code="320508",
            )
        ],
    )
    bulk = AuditEvent.objects.get(action="org.bulk_create")

    assert not audit_events_visible_to(actors["district_auditor"]).filter(id=bulk.id).exists()
    assert audit_events_visible_to(actors["auditor"]).filter(id=bulk.id).exists()


def test_district_auditor_list_page_is_scoped(accounts, actors, tree, login):
    org_update(actor=actors["other_district_cadre"], org=tree["SZ-WZ-T01"], contact_person="吴中改")
    org_update(actor=actors["district_cadre"], org=tree["SZ-GS-T02"], contact_person="区里改")
    wz_event = AuditEvent.objects.get(actor_label="other_district_cadre")
    gs_event = AuditEvent.objects.get(actor_label="district_cadre")
    client = login("district_auditor")

    listing = client.get("/admin/audit/auditevent/?action__exact=org.update")
    assert listing.status_code == 200
    assert [e.id for e in listing.context["cl"].result_list] == [gs_event.id]
    assert client.get(f"/admin/audit/auditevent/{gs_event.id}/change/").status_code == 200
    assert client.get(f"/admin/audit/auditevent/{wz_event.id}/change/").status_code == 404


def test_a_taken_user_name_is_refused_in_any_case_and_nothing_is_written(tree, actors, login):
    from gonghui.common.errors import ValidationFailed

    users_before, events_before = User.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        account_create(
            actor=actors["sysadmin"],
            username="Town_Cadre",
            full_name="重名",
            org=tree["SZ-GS"],
            role=Role.UPPER_CADRE,
            password=PASSWORD,
        )
    assert exc.value.errors == {"username": "该用户名已被使用"}

    response = login("sysadmin").post(
        "/admin/accounts/user/add/",
        {
            "username": "TOWN_CADRE",
            "full_name": "重名",
            "role": Role.UPPER_CADRE,
            "org_code": "SZ-GS",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "该用户名已被使用" in response.content.decode()
    assert (User.objects.count(), AuditEvent.objects.count()) == (users_before, events_before)
