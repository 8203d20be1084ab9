"""The audit trail: every service write records exactly one event with the actor copied as plain values; details
never carry personal numbers or secrets; rows can be neither changed nor removed."""

import pytest
from django.db import DatabaseError, connection, transaction
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from gonghui.accounts.services import (
    account_change_own_password,
    account_create,
    account_reset_password,
    account_reset_second_factor,
    account_set_active,
    account_unlock,
    account_update,
    api_token_create,
    api_token_revoke,
    record_login,
    totp_device_confirm,
)
from gonghui.audit.models import AuditEvent, AuditImmutable
from gonghui.audit.services import audit_record
from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError, PermissionDenied
from gonghui.common.roles import Role
from gonghui.orgs.models import Employer, Organisation
from gonghui.orgs.services import (
    OrgSpec,
    employer_bulk_create,
    employer_create,
    employer_update,
    org_create,
    org_dissolve,
    org_merge,
    org_move,
    org_tree_bulk_create,
    org_update,
)
from tests.conftest import PASSWORD, is_postgres, valid_uscc

NEW_PASSWORD = "Xinmima#2026"


class NewEvents:
    """The events written inside a `with` block."""

    def __init__(self):
        self.events: list[AuditEvent] = []

    def __enter__(self):
        self._before = set(AuditEvent.objects.values_list("id", flat=True))
        return self

    def __exit__(self, *exc):
        self.events = list(AuditEvent.objects.exclude(id__in=self._before).order_by("at"))
        return False

    @property
    def one(self) -> AuditEvent:
        assert len(self.events) == 1, [e.action for e in self.events]
        return self.events[0]


def assert_event(event: AuditEvent, actor: Actor, **expected):
    """The actor's values are copied verbatim; `expected` names the object and details."""
    assert event.actor_kind == actor.kind
    assert event.actor_id == actor.id
    assert event.actor_label == actor.label
    assert event.actor_role == actor.role
    assert event.actor_org_id == actor.org_id
    assert event.actor_org_path == actor.scope_path
    assert event.ip == actor.ip
    assert event.result == "success"
    actual = {name: getattr(event, name) for name in expected}
    assert actual == expected


# ---------------------------------------------------------------- organisations


def test_org_create(actors, tree):
    actor = actors["district_cadre"]
    with NewEvents() as new:
        org = org_create(
            actor=actor,
            parent=tree["SZ-GS"],
            name="平江街道总工会",
            code="SZ-GS-T03",
            org_type="town",
            region_code="320508",
        )
    assert actor.scope_path == tree["SZ-GS"].path
    assert_event(
        new.one,
        actor,
        action="org.create",
        object_type="organisation",
        object_id=str(org.id),
        object_label="平江街道总工会（SZ-GS-T03）",
        object_org_path=org.path,
        details={"parent": str(tree["SZ-GS"].id), "code": "SZ-GS-T03", "type": "town"},
    )


def test_root_org_create_by_the_platform(db, system):
    with NewEvents() as new:
        root = org_create(
            actor=system, parent=None, name="苏州市总工会", code="SZ", org_type="city", region_code="320500"
        )
    assert_event(
        new.one,
        system,
        action="org.create",
        object_type="organisation",
        object_id=str(root.id),
        object_org_path=root.path,
        details={"parent": None, "code": "SZ", "type": "city"},
    )
    assert new.one.actor_org_path == ""
    assert new.one.actor_label == "tests"


def test_org_update(actors, tree):
    actor = actors["town_cadre"]
    with NewEvents() as new:
        org_update(actor=actor, org=tree["SZ-GS-T01"], contact_person="王红", address="双塔街道1号")
    assert_event(
        new.one,
        actor,
        action="org.update",
        object_type="organisation",
        object_id=str(tree["SZ-GS-T01"].id),
        object_label="双塔街道总工会（SZ-GS-T01）",
        object_org_path=tree["SZ-GS-T01"].path,
        details={"changes": {"contact_person": ["", "王红"], "address": ["", "双塔街道1号"]}},
    )


def test_org_update_keeps_only_a_masked_phone_in_the_trail(actors, tree):
    actor = actors["town_cadre"]
    with NewEvents() as new:
        org_update(actor=actor, org=tree["SZ-GS-T01"], contact_phone="13812345678")
    assert new.one.details == {"changes": {"contact_phone": ["", "138****5678"]}}
    with NewEvents() as new:
        org_update(actor=actor, org=tree["SZ-GS-T01"], contact_phone="13987654321")
    assert new.one.details == {"changes": {"contact_phone": ["138****5678", "139****4321"]}}
    assert not AuditEvent.objects.filter(details__icontains="13812345678").exists()
    assert Organisation.objects.get(code="SZ-GS-T01").contact_phone == "13987654321"


def test_org_update_without_changes_writes_nothing(actors, tree):
    with NewEvents() as new:
        org_update(actor=actors["town_cadre"], org=tree["SZ-GS-T01"], name="双塔街道总工会")
    assert new.events == []


def test_org_move(actors, tree):
    actor = actors["district_cadre"]
    community = tree["SZ-GS-T01-C1"]
    with NewEvents() as new:
        moved = org_move(actor=actor, org=community, new_parent=tree["SZ-GS-T02"])
    assert moved.path.startswith(tree["SZ-GS-T02"].path)
    assert_event(
        new.one,
        actor,
        action="org.move",
        object_type="organisation",
        object_id=str(community.id),
        object_org_path=moved.path,
        details={
            "from_parent": str(tree["SZ-GS-T01"].id),
            "to_parent": str(tree["SZ-GS-T02"].id),
            "old_path": community.path,
            "new_path": moved.path,
            "descendants_moved": 0,
        },
    )


def test_org_dissolve(actors, tree):
    actor = actors["town_cadre"]
    with NewEvents() as new:
        org_dissolve(actor=actor, org=tree["SZ-GS-T01-C1"], reason="社区撤并")
    assert_event(
        new.one,
        actor,
        action="org.dissolve",
        object_type="organisation",
        object_id=str(tree["SZ-GS-T01-C1"].id),
        object_org_path=tree["SZ-GS-T01-C1"].path,
        details={"reason": "社区撤并"},
    )


def test_org_merge(actors, tree, employer_set):
    actor = actors["town_cadre"]
    with NewEvents() as new:
        org_merge(actor=actor, org=tree["SZ-GS-T01-12"], into=tree["SZ-GS-T01-123"], reason="企业合并")
    assert_event(
        new.one,
        actor,
        action="org.merge",
        object_type="organisation",
        object_id=str(tree["SZ-GS-T01-12"].id),
        object_label="十二号公司工会委员会（SZ-GS-T01-12）",
        object_org_path=tree["SZ-GS-T01-12"].path,
        details={
            "into": str(tree["SZ-GS-T01-123"].id),
            "reason": "企业合并",
            "children_moved": 0,
            "employers_moved": 1,
        },
    )


def test_org_tree_bulk_create_is_one_event(actors, tree):
    actor = actors["district_cadre"]
    specs = [
        OrgSpec(
            parent_code="SZ-GS-T02",
            name="批量一号工会",
            code="SZ-GS-T02-E8",
            org_type="grassroots",
            region_code="320508",
        ),
        OrgSpec(
            parent_code="SZ-GS-T02",
            name="批量二号工会",
            code="SZ-GS-T02-E9",
            org_type="grassroots",
            region_code="320508",
        ),
    ]
    with NewEvents() as new:
        assert org_tree_bulk_create(actor=actor, specs=specs) == 2
    assert_event(
        new.one,
        actor,
        action="org.bulk_create",
        object_type="organisation",
        object_id="",
        object_label="批量创建 2 个组织",
        details={"count": 2, "parents": ["SZ-GS-T02"]},
    )


def test_refused_org_writes_record_nothing(actors, tree):
    with NewEvents() as new:
        with pytest.raises(PermissionDenied):
            org_dissolve(actor=actors["town_cadre"], org=tree["SZ-GS-T01"], reason="本级")
        with pytest.raises(DomainError):
            org_dissolve(actor=actors["district_cadre"], org=tree["SZ-GS-T01"], reason="仍有下级")
        with pytest.raises(PermissionDenied):
            org_update(actor=actors["auditor"], org=tree["SZ-GS"], name="改名")
    assert new.events == []


# ---------------------------------------------------------------- employers


def test_employer_create(actors, tree):
    actor = actors["district_cadre"]
    with NewEvents() as new:
        employer = employer_create(
            actor=actor,
            name="平江电子有限公司",
            uscc=valid_uscc("91320508MA1W0009X"),
            employee_count=60,
            industry="C",
            town_org=tree["SZ-GS-T02"],
            covering_union=tree["SZ-GS-T02-E1"],
        )
    assert_event(
        new.one,
        actor,
        action="employer.create",
        object_type="employer",
        object_id=str(employer.id),
        object_label="平江电子有限公司",
        object_org_path=tree["SZ-GS-T02"].path,
        details={"covering_union": str(tree["SZ-GS-T02-E1"].id)},
    )


def test_employer_update(actors, tree, employer_set):
    actor = actors["town_cadre"]
    employer = employer_set["covered"]
    with NewEvents() as new:
        employer_update(actor=actor, employer=employer, employee_count=95)
    assert_event(
        new.one,
        actor,
        action="employer.update",
        object_type="employer",
        object_id=str(employer.id),
        object_label="十二号有限公司",
        object_org_path=tree["SZ-GS-T01"].path,
        details={"changes": {"employee_count": ["80", "95"]}},
    )
    with NewEvents() as new:
        employer_update(actor=actor, employer=employer, employee_count=95)
    assert new.events == []


def test_employer_bulk_create_is_one_event(actors, tree):
    actor = actors["district_cadre"]
    rows = [
        Employer(
            name=f"批量企业{i}",
            uscc=valid_uscc(f"91320508MA1W010{i}X"),
            employee_count=10,
            industry="C",
            town_org=tree["SZ-GS-T02"],
        )
        for i in range(3)
    ]
    with NewEvents() as new:
        assert employer_bulk_create(actor=actor, employers=rows) == 3
    assert_event(
        new.one,
        actor,
        action="employer.bulk_create",
        object_type="employer",
        object_id="",
        object_label="批量登记 3 家企业/单位",
        details={"count": 3},
    )


# ---------------------------------------------------------------- accounts


def test_account_create(actors, tree):
    actor = actors["sysadmin"]
    with NewEvents() as new:
        user = account_create(
            actor=actor,
            username="new_cadre",
            full_name="新干部",
            org=tree["SZ-GS-T02"],
            role=Role.UPPER_CADRE,
            password=NEW_PASSWORD,
        )
    assert_event(
        new.one,
        actor,
        action="account.create",
        object_type="account",
        object_id=str(user.id),
        object_label="new_cadre",
        object_org_path=tree["SZ-GS-T02"].path,
        details={"role": "upper_cadre", "org": str(tree["SZ-GS-T02"].id)},
    )
    assert NEW_PASSWORD not in str(new.one.details)


def test_account_update(accounts, actors, tree):
    actor = actors["sysadmin"]
    user = accounts["town_cadre"]
    with NewEvents() as new:
        account_update(actor=actor, user=user, full_name="张伟", org=tree["SZ-GS-T02"], role=Role.UPPER_CADRE)
    assert_event(
        new.one,
        actor,
        action="account.update",
        object_type="account",
        object_id=str(user.id),
        object_label="town_cadre",
        object_org_path=tree["SZ-GS-T02"].path,
        details={
            "changes": {
                "full_name": ["town_cadre", "张伟"],
                "org": [str(tree["SZ-GS-T01"].id), str(tree["SZ-GS-T02"].id)],
            }
        },
    )


@pytest.mark.parametrize(("active", "action"), [(False, "account.deactivate"), (True, "account.activate")])
def test_account_set_active(accounts, actors, active, action):
    user = accounts["town_cadre"]
    if active:
        type(user).objects.filter(id=user.id).update(is_active=False)
    actor = actors["sysadmin"]
    with NewEvents() as new:
        account_set_active(actor=actor, user=user, active=active)
    assert_event(new.one, actor, action=action, object_type="account", object_id=str(user.id), details={})
    with NewEvents() as again:
        account_set_active(actor=actor, user=user, active=active)
    assert again.events == []


def test_security_functions(accounts, actors):
    actor = actors["secadmin"]
    user = accounts["town_cadre"]
    TOTPDevice.objects.create(user=user, name="身份验证器", confirmed=True)
    with NewEvents() as new:
        account_reset_password(actor=actor, user=user, new_password=NEW_PASSWORD)
    assert_event(new.one, actor, action="account.reset_password", object_id=str(user.id), details={})
    assert NEW_PASSWORD not in str(new.one.__dict__)
    with NewEvents() as new:
        account_unlock(actor=actor, user=user)
    assert_event(new.one, actor, action="account.unlock", object_id=str(user.id), details={"attempts_cleared": 0})
    with NewEvents() as new:
        account_reset_second_factor(actor=actor, user=user)
    assert_event(new.one, actor, action="account.reset_totp", object_id=str(user.id), details={"devices_removed": 1})


def test_own_password_change_and_second_factor_enrolment(accounts, actors):
    actor = actors["town_cadre"]
    user = accounts["town_cadre"]
    with NewEvents() as new:
        account_change_own_password(actor=actor, user=user, old_password=PASSWORD, new_password=NEW_PASSWORD)
    assert_event(
        new.one,
        actor,
        action="account.change_password",
        object_type="account",
        object_id=str(user.id),
        object_org_path=user.org.path,
        details={},
    )
    device = TOTPDevice.objects.create(user=user, name="身份验证器", confirmed=False)
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    with NewEvents() as new:
        totp_device_confirm(actor=actor, user=user, device=device, token=code)
    assert_event(new.one, actor, action="account.enrol_totp", object_id=str(user.id), details={})
    with NewEvents() as new:
        record_login(actor=actor, user=user, second_factor=True)
    assert_event(new.one, actor, action="account.login", object_id=str(user.id), details={"second_factor": True})


def test_api_token_create_and_revoke(accounts, actors, tree):
    actor = actors["sysadmin"]
    with NewEvents() as new:
        token, raw = api_token_create(actor=actor, org=tree["SZ-GS"], name="大屏")
    assert_event(
        new.one,
        actor,
        action="api_token.create",
        object_type="api_token",
        object_id=str(token.id),
        object_label="大屏",
        object_org_path=tree["SZ-GS"].path,
        details={"org": str(tree["SZ-GS"].id), "allow_roster_import": False},
    )
    assert raw not in str(new.one.__dict__)
    with NewEvents() as new:
        api_token_revoke(actor=actor, token=token)
    assert_event(
        new.one,
        actor,
        action="api_token.revoke",
        object_type="api_token",
        object_id=str(token.id),
        object_org_path=tree["SZ-GS"].path,
        details={},
    )
    with NewEvents() as new, pytest.raises(DomainError):
        api_token_revoke(actor=actor, token=token)
    assert new.events == []


# ---------------------------------------------------------------- details


@pytest.mark.parametrize("key", ["phone", "password", "token", "secret", "id_number", "document_number"])
def test_details_refuse_forbidden_keys(actors, key):
    with NewEvents() as new, pytest.raises(ValueError, match=f"audit details must not carry \\['{key}'\\]"):
        audit_record(actor=actors["sysadmin"], action="x.test", object_type="x", details={key: "1", "ok": 1})
    assert new.events == []


def test_details_with_allowed_keys_are_stored_as_given(actors):
    event = audit_record(actor=actors["sysadmin"], action="x.test", object_type="x", object_id=7, details={"n": 1})
    event.refresh_from_db()
    assert (event.object_id, event.details, event.object_org_path) == ("7", {"n": 1}, "")


# ---------------------------------------------------------------- immutability


def _rows():
    return list(AuditEvent.objects.order_by("id").values_list("id", "action", "actor_label", "details"))


def test_saving_an_existing_event_is_refused(tree):
    event = AuditEvent.objects.order_by("at").first()
    before = _rows()

    event.action = "x"
    with pytest.raises(AuditImmutable):
        event.save()
    with pytest.raises(AuditImmutable):
        event.delete()

    assert _rows() == before
    assert AuditEvent.objects.get(id=event.id).action == "org.create"


def test_queryset_update_and_delete_are_refused(tree):
    before = _rows()

    with pytest.raises(AuditImmutable):
        AuditEvent.objects.all().update(action="x")
    with pytest.raises(AuditImmutable):
        AuditEvent.objects.filter(action="org.create").delete()
    events = list(AuditEvent.objects.all())
    for event in events:
        event.action = "x"
    with pytest.raises(AuditImmutable), transaction.atomic():  # bulk_update breaks the surrounding transaction
        AuditEvent.objects.bulk_update(events, ["action"])

    assert _rows() == before


@pytest.mark.skipif(
    not is_postgres(), reason="the append-only trigger (migration audit/0002) exists on PostgreSQL only"
)
@pytest.mark.parametrize(
    ("sql", "operation"),
    [
        ("UPDATE audit_auditevent SET action = 'x'", "UPDATE"),
        ("DELETE FROM audit_auditevent", "DELETE"),
        ("UPDATE audit_auditevent SET details = '{}'::jsonb WHERE action = 'org.create'", "UPDATE"),
    ],
)
def test_database_refuses_raw_update_and_delete(tree, sql, operation):
    before = _rows()
    assert len(before) == 11

    with (
        pytest.raises(DatabaseError, match=f"audit_auditevent is append-only: {operation} refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)

    assert _rows() == before


@pytest.mark.skipif(
    not is_postgres(), reason="the append-only trigger (migration audit/0002) exists on PostgreSQL only"
)
def test_database_still_accepts_inserts(tree, system):
    event = audit_record(actor=system, action="x.test", object_type="x")
    assert AuditEvent.objects.filter(id=event.id).exists()
