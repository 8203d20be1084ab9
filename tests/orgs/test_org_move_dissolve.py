"""Writes to the organisation tree: moving a subtree and dissolving an organisation. Exact outcomes, exact audit
events, and refusals that change nothing at all."""

import pytest

from gonghui.audit.models import AuditEvent
from gonghui.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.orgs.models import Organisation, OrgStatus
from gonghui.orgs.services import org_create, org_dissolve, org_move
from tests.orgs.factories import CLEAN_TREE, INITIAL_PATHS, audit_actions, numchild, paths

# ---------------------------------------------------------------- move


def test_subtree_move_rewrites_paths_depths_and_counts(tree, actors):
    before_audit = AuditEvent.objects.count()
    moved = org_move(actor=actors["city_cadre"], org=tree["SZ-GS-T01"], new_parent=tree["SZ-WZ"])

    assert moved.path == "000100020002"
    assert paths() == {
        **INITIAL_PATHS,
        "SZ-GS-T01": "000100020002",
        "SZ-GS-T01-C1": "0001000200020001",
        "SZ-GS-T01-12": "0001000200020002",
        "SZ-GS-T01-123": "0001000200020003",
    }
    depths = dict(Organisation.objects.values_list("code", "depth"))
    assert {code: depths[code] for code in ("SZ-GS-T01", "SZ-GS-T01-C1", "SZ-GS-T01-12", "SZ-GS-T01-123")} == {
        "SZ-GS-T01": 3,
        "SZ-GS-T01-C1": 4,
        "SZ-GS-T01-12": 4,
        "SZ-GS-T01-123": 4,
    }
    counts = numchild()
    assert (counts["SZ-GS"], counts["SZ-WZ"], counts["SZ-GS-T01"], counts["SZ"]) == (1, 2, 3, 2)
    assert Organisation.objects.find_problems() == CLEAN_TREE

    assert AuditEvent.objects.count() == before_audit + 1
    event = AuditEvent.objects.get(action="org.move")
    assert event.object_id == str(tree["SZ-GS-T01"].id)
    assert event.object_org_path == "000100020002"
    assert event.details == {
        "from_parent": str(tree["SZ-GS"].id),
        "to_parent": str(tree["SZ-WZ"].id),
        "old_path": "000100010001",
        "new_path": "000100020002",
        "descendants_moved": 3,
    }
    # The moved subtree now belongs to the other district's scope, and no longer to its old one.
    assert Organisation.objects.filter(path__startswith=tree["SZ-WZ"].path).count() == 7


def test_move_changing_depth_updates_every_descendant(tree, actors, system):
    org_create(
        actor=system,
        parent=tree["SZ-GS-T01-C1"],
        name="竹辉物业工会",
        code="SZ-GS-T01-C1-E1",
        org_type="grassroots",
        region_code="320508",
    )
    org_move(actor=actors["district_cadre"], org=tree["SZ-GS-T01-C1"], new_parent=tree["SZ-GS"])
    rows = {code: (path, depth) for code, path, depth in Organisation.objects.values_list("code", "path", "depth")}
    assert rows["SZ-GS-T01-C1"] == ("000100010003", 3)
    assert rows["SZ-GS-T01-C1-E1"] == ("0001000100030001", 4)
    assert rows["SZ-GS-T01-12"] == (INITIAL_PATHS["SZ-GS-T01-12"], 4)
    counts = numchild()
    assert (counts["SZ-GS"], counts["SZ-GS-T01"], counts["SZ-GS-T01-C1"]) == (3, 2, 1)
    assert Organisation.objects.find_problems() == CLEAN_TREE
    assert AuditEvent.objects.get(action="org.move").details["descendants_moved"] == 1


@pytest.mark.parametrize(
    ("org_code", "target_code"),
    [
        ("SZ-GS", "SZ-GS-T01"),
        ("SZ-GS", "SZ-GS-T01-C1"),
        ("SZ-GS-T01", "SZ-GS-T01-C1"),
        ("SZ-GS-T01", "SZ-GS-T01"),
    ],
)
def test_move_under_own_descendant_changes_nothing(tree, actors, frozen, org_code, target_code):
    frozen()
    with pytest.raises(ValidationFailed) as exc:
        org_move(actor=actors["city_cadre"], org=tree[org_code], new_parent=tree[target_code])
    assert exc.value.errors == {"new_parent": "不能把组织移动到它自己或它的下级组织之下"}
    frozen.check()
    assert paths() == INITIAL_PATHS


def test_move_of_own_scope_root_is_denied(tree, actors, frozen):
    frozen()
    with pytest.raises(PermissionDenied) as exc:
        org_move(actor=actors["town_cadre"], org=tree["SZ-GS-T01"], new_parent=tree["SZ-GS-T01-C1"])
    assert exc.value.message == "不能移动、撤销或合并本级组织，请联系上级工会"
    with pytest.raises(PermissionDenied):
        org_move(actor=actors["district_cadre"], org=tree["SZ-GS"], new_parent=tree["SZ-GS-T02"])
    frozen.check()


def test_move_into_a_subtree_outside_scope_is_not_found(tree, actors, frozen):
    frozen()
    with pytest.raises(NotFound):
        org_move(actor=actors["district_cadre"], org=tree["SZ-GS-T01"], new_parent=tree["SZ-WZ"])
    with pytest.raises(NotFound):
        org_move(actor=actors["town_cadre"], org=tree["SZ-GS-T01-12"], new_parent=tree["SZ-GS-T02"])
    with pytest.raises(NotFound):
        org_move(actor=actors["other_district_cadre"], org=tree["SZ-GS-T01"], new_parent=tree["SZ-WZ"])
    frozen.check()


def test_move_by_grassroots_cadre_is_denied(tree, actors, frozen):
    frozen()
    with pytest.raises(PermissionDenied) as exc:
        org_move(actor=actors["grassroots_cadre"], org=tree["SZ-GS-T01-12"], new_parent=tree["SZ-GS-T01-12"])
    assert exc.value.message == "当前角色无权执行此操作"
    frozen.check()


@pytest.mark.parametrize("username", ["secadmin", "auditor", "district_auditor"])
def test_move_by_roles_without_structure_is_denied(tree, actors, frozen, username):
    frozen()
    with pytest.raises(PermissionDenied):
        org_move(actor=actors[username], org=tree["SZ-GS-T01-12"], new_parent=tree["SZ-GS-T02"])
    frozen.check()


def test_move_to_current_parent_or_wrong_level_is_refused(tree, actors, frozen):
    frozen()
    with pytest.raises(ValidationFailed) as exc:
        org_move(actor=actors["city_cadre"], org=tree["SZ-GS-T01"], new_parent=tree["SZ-GS"])
    assert exc.value.errors == {"new_parent": "该组织已在所选上级组织之下"}
    with pytest.raises(ValidationFailed) as exc:
        org_move(actor=actors["city_cadre"], org=tree["SZ-GS-T01"], new_parent=tree["SZ-GS-T02"])
    assert exc.value.errors == {
        "parent": "镇(街道)总工会不能设在镇(街道)总工会“沧浪街道总工会”之下（下级组织的层级必须低于上级）"
    }
    with pytest.raises(ValidationFailed) as exc:
        org_move(actor=actors["city_cadre"], org=tree["SZ-GS-T02-E1"], new_parent=tree["SZ-GS-T01-12"])
    assert exc.value.errors == {
        "parent": "独立基层工会不能设在独立基层工会“十二号公司工会委员会”之下（下级组织的层级必须低于上级）"
    }
    frozen.check()


def test_move_of_dissolved_org_is_refused(tree, actors, frozen):
    org_dissolve(actor=actors["city_cadre"], org=tree["SZ-GS-T01-123"], reason="企业注销")
    frozen()
    with pytest.raises(DomainError) as exc:
        org_move(actor=actors["city_cadre"], org=tree["SZ-GS-T01-123"], new_parent=tree["SZ-GS-T02"])
    assert (exc.value.code, exc.value.message) == ("inactive", "组织已撤销，不能移动")
    frozen.check()


# ---------------------------------------------------------------- dissolve


def test_dissolve_exact_outcome(tree, actors):
    before = AuditEvent.objects.count()
    org = org_dissolve(actor=actors["town_cadre"], org=tree["SZ-GS-T01-123"], reason="  企业注销  ")
    org.refresh_from_db()
    assert org.status == OrgStatus.DISSOLVED
    assert org.merged_into_id is None
    assert paths() == INITIAL_PATHS
    assert numchild()["SZ-GS-T01"] == 3
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.get(action="org.dissolve")
    assert (event.object_id, event.details) == (str(org.id), {"reason": "企业注销"})


def test_dissolve_with_active_children_is_refused(tree, actors, frozen):
    frozen()
    with pytest.raises(DomainError) as exc:
        org_dissolve(actor=actors["district_cadre"], org=tree["SZ-GS-T01"], reason="撤并")
    assert exc.value.code == "has_children"
    assert exc.value.message == "该组织下还有 3 个正常状态的下级组织，请先撤销、合并或移走"
    frozen.check()


def test_dissolve_with_covered_employers_is_refused(employer_set, actors, frozen):
    frozen()
    with pytest.raises(DomainError) as exc:
        org_dissolve(actor=actors["town_cadre"], org=employer_set["covered"].covering_union, reason="撤并")
    assert exc.value.code == "covers_employers"
    assert exc.value.message == "该组织仍覆盖 1 家企业/单位，请先调整覆盖关系或改为合并"
    frozen.check()


def test_dissolve_refusals(tree, actors, frozen):
    org_dissolve(actor=actors["town_cadre"], org=tree["SZ-GS-T01-C1"], reason="社区撤并")
    frozen()
    with pytest.raises(ValidationFailed) as exc:
        org_dissolve(actor=actors["town_cadre"], org=tree["SZ-GS-T01-123"], reason="   ")
    assert exc.value.errors == {"reason": "请填写撤销原因"}
    with pytest.raises(DomainError) as exc:
        org_dissolve(actor=actors["town_cadre"], org=tree["SZ-GS-T01-C1"], reason="再撤一次")
    assert (exc.value.code, exc.value.message) == ("inactive", "组织已撤销")
    with pytest.raises(PermissionDenied):
        org_dissolve(actor=actors["town_cadre"], org=tree["SZ-GS-T01"], reason="撤销本级")
    with pytest.raises(PermissionDenied):
        org_dissolve(actor=actors["grassroots_cadre"], org=tree["SZ-GS-T01-12"], reason="撤销本级")
    with pytest.raises(NotFound):
        org_dissolve(actor=actors["grassroots_cadre"], org=tree["SZ-GS-T01-123"], reason="越权")
    with pytest.raises(NotFound):
        org_dissolve(actor=actors["town_cadre"], org=tree["SZ-GS-T02-E1"], reason="越权")
    frozen.check()


def test_dissolved_children_do_not_block_dissolving_the_parent(tree, actors):
    for code in ("SZ-GS-T02-E1", "SZ-GS-T02"):
        org_dissolve(actor=actors["district_cadre"], org=tree[code], reason="区划调整")
    statuses = dict(Organisation.objects.values_list("code", "status"))
    assert (statuses["SZ-GS-T02"], statuses["SZ-GS-T02-E1"]) == ("dissolved", "dissolved")
    assert audit_actions()[-2:] == ["org.dissolve", "org.dissolve"]
    assert audit_actions().count("org.dissolve") == 2
