"""Writes to the organisation tree: creating and updating an organisation. Exact outcomes, exact audit events, and
refusals that change nothing at all."""

import pytest

from gonghui.audit.models import AuditEvent
from gonghui.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.orgs.models import Organisation, OrgType
from gonghui.orgs.services import org_create, org_dissolve, org_update
from tests.orgs.factories import CLEAN_TREE, INITIAL_PATHS, numchild, paths


def test_fixture_tree_paths(tree):
    assert paths() == INITIAL_PATHS
    assert Organisation.objects.find_problems() == CLEAN_TREE
    assert numchild() == {
        "SZ": 2,
        "SZ-GS": 2,
        "SZ-GS-T01": 3,
        "SZ-GS-T01-C1": 0,
        "SZ-GS-T01-12": 0,
        "SZ-GS-T01-123": 0,
        "SZ-GS-T02": 1,
        "SZ-GS-T02-E1": 0,
        "SZ-WZ": 1,
        "SZ-WZ-T01": 1,
        "SZ-WZ-T01-E1": 0,
    }


# ---------------------------------------------------------------- create


def test_org_create_exact_outcome(tree, actors):
    before = AuditEvent.objects.count()
    org = org_create(
        actor=actors["district_cadre"],
        parent=tree["SZ-GS"],
        name=" 平江街道总工会 ",
        code="sz-gs-t03",
        org_type=OrgType.TOWN,
        region_code="３２０５０８",
        contact_phone="0512-6524 1234",
        contact_person="王　芳",
    )
    org = Organisation.objects.get(id=org.id)
    assert (org.name, org.code, org.org_type, org.level, org.region_code) == (
        "平江街道总工会",
        "SZ-GS-T03",
        "town",
        "town",
        "320508",
    )
    assert org.contact_phone == "051265241234"
    assert org.contact_person == "王 芳"
    assert (org.path, org.depth, org.numchild, org.status) == ("000100010003", 3, 0, "active")
    assert Organisation.objects.get(code="SZ-GS").numchild == 3
    assert Organisation.objects.find_problems() == CLEAN_TREE
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.get(action="org.create", object_id=str(org.id))
    assert event.actor_label == "district_cadre"
    assert event.object_label == "平江街道总工会（SZ-GS-T03）"
    assert event.object_org_path == "000100010003"
    assert event.details == {"parent": str(tree["SZ-GS"].id), "code": "SZ-GS-T03", "type": "town"}


def test_org_create_root_only_by_the_platform(tree, actors, frozen):
    frozen()
    with pytest.raises(PermissionDenied) as exc:
        org_create(
            actor=actors["city_cadre"],
            parent=None,
            name="无锡市总工会",
            code="WX",
            org_type="city",
            region_code="320200",
        )
    assert exc.value.message == "只有平台初始化可以创建根组织"
    frozen.check()


def test_org_create_outside_scope_is_not_found(tree, actors, frozen):
    frozen()
    with pytest.raises(NotFound):
        org_create(
            actor=actors["district_cadre"],
            parent=tree["SZ-WZ"],
            name="木渎二镇总工会",
            code="SZ-WZ-T02",
            org_type="town",
            region_code="320506",
        )
    frozen.check()


def test_org_create_by_grassroots_cadre_is_denied(tree, actors, frozen):
    frozen()
    with pytest.raises(PermissionDenied):
        org_create(
            actor=actors["grassroots_cadre"],
            parent=tree["SZ-GS-T01-12"],
            name="分会",
            code="SZ-GS-T01-12A",
            org_type="grassroots",
            region_code="320508",
        )
    frozen.check()


def test_org_create_under_dissolved_parent_is_refused(tree, system, actors, frozen):
    org_dissolve(actor=system, org=tree["SZ-GS-T01-C1"], reason="社区撤并")
    frozen()
    with pytest.raises(ValidationFailed) as exc:
        org_create(
            actor=actors["town_cadre"],
            parent=tree["SZ-GS-T01-C1"],
            name="竹辉物业工会",
            code="SZ-GS-T01-C1-E1",
            org_type="grassroots",
            region_code="320508",
        )
    assert exc.value.errors == {"parent": "上级组织“竹辉社区工会”已撤销，不能再下设组织"}
    frozen.check()


# ---------------------------------------------------------------- update


def test_org_update_records_changes(tree, actors):
    org = org_update(
        actor=actors["grassroots_cadre"],
        org=tree["SZ-GS-T01-12"],
        name="十二号科技公司工会委员会",
        contact_phone="13812341234",
    )
    org.refresh_from_db()
    assert org.name == "十二号科技公司工会委员会"
    assert org.contact_phone == "13812341234"
    event = AuditEvent.objects.get(action="org.update")
    assert event.details == {
        "changes": {"name": ["十二号公司工会委员会", "十二号科技公司工会委员会"], "contact_phone": ["", "138****1234"]}
    }
    assert event.object_org_path == INITIAL_PATHS["SZ-GS-T01-12"]


def test_org_update_without_changes_writes_nothing(tree, actors, frozen):
    frozen()
    org_update(actor=actors["town_cadre"], org=tree["SZ-GS-T01"], name="双塔街道总工会", code="sz-gs-t01")
    frozen.check()


def test_org_update_outside_scope_is_not_found(tree, actors, frozen):
    frozen()
    with pytest.raises(NotFound):
        org_update(actor=actors["grassroots_cadre"], org=tree["SZ-GS-T01-123"], name="改名")
    frozen.check()


def test_org_update_type_of_own_org_is_denied(tree, actors, frozen):
    frozen()
    with pytest.raises(PermissionDenied) as exc:
        org_update(actor=actors["grassroots_cadre"], org=tree["SZ-GS-T01-12"], org_type="joint_grassroots")
    assert exc.value.message == "变更组织类型须由上级工会办理"
    with pytest.raises(PermissionDenied):
        org_update(actor=actors["town_cadre"], org=tree["SZ-GS-T01"], org_type="park")
    frozen.check()


def test_org_update_type_by_upper_cadre(tree, actors):
    org = org_update(actor=actors["town_cadre"], org=tree["SZ-GS-T01-12"], org_type="joint_grassroots")
    org.refresh_from_db()
    assert (org.org_type, org.level) == ("joint_grassroots", "grassroots")
    assert AuditEvent.objects.get(action="org.update").details == {
        "changes": {"org_type": ["grassroots", "joint_grassroots"]}
    }


def test_org_update_type_that_would_invert_levels_is_refused(tree, actors, frozen):
    frozen()
    with pytest.raises(ValidationFailed) as exc:
        org_update(actor=actors["district_cadre"], org=tree["SZ-GS-T01"], org_type="grassroots")
    assert exc.value.errors == {"org_type": "该组织下设有下级组织，不能改为基层工会"}
    with pytest.raises(ValidationFailed) as exc:
        org_update(actor=actors["district_cadre"], org=tree["SZ-GS-T01"], org_type="community")
    assert exc.value.errors == {"org_type": "变更后的层级不高于现有下级组织，请先调整下级组织"}
    frozen.check()


def test_org_update_duplicate_code_is_refused(tree, actors, frozen):
    frozen()
    with pytest.raises(ValidationFailed) as exc:
        org_update(actor=actors["town_cadre"], org=tree["SZ-GS-T01-12"], code="sz-gs-t01-123")
    assert exc.value.errors == {"code": "组织代码 SZ-GS-T01-123 已被使用"}
    frozen.check()


def test_org_update_of_dissolved_org_is_refused(tree, actors, frozen):
    org_dissolve(actor=actors["town_cadre"], org=tree["SZ-GS-T01-123"], reason="企业注销")
    frozen()
    with pytest.raises(DomainError) as exc:
        org_update(actor=actors["town_cadre"], org=tree["SZ-GS-T01-123"], name="复活")
    assert (exc.value.code, exc.value.message) == ("inactive", "组织已撤销，不能修改")
    frozen.check()
