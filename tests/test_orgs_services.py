"""Writes to the organisation tree and the employer registry: exact outcomes, exact audit events, and refusals that
change nothing at all."""

import pytest

from gonghui.audit.models import AuditEvent
from gonghui.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.orgs.models import Employer, Organisation, OrgLevel, OrgStatus, OrgType
from gonghui.orgs.services import (
    OrgSpec,
    employer_create,
    employer_update,
    org_create,
    org_dissolve,
    org_merge,
    org_move,
    org_tree_bulk_create,
    org_update,
)
from tests.conftest import valid_uscc

CLEAN_TREE = ([], [], [], [], [])

# Paths of the conftest federation (treebeard, 4-character base-36 steps, children numbered in creation order).
INITIAL_PATHS = {
    "SZ": "0001",
    "SZ-GS": "00010001",
    "SZ-GS-T01": "000100010001",
    "SZ-GS-T01-C1": "0001000100010001",
    "SZ-GS-T01-12": "0001000100010002",
    "SZ-GS-T01-123": "0001000100010003",
    "SZ-GS-T02": "000100010002",
    "SZ-GS-T02-E1": "0001000100020001",
    "SZ-WZ": "00010002",
    "SZ-WZ-T01": "000100020001",
    "SZ-WZ-T01-E1": "0001000200010001",
}


def org_state():
    """Everything a structural change could touch, per organisation."""
    return {
        row[0]: row[1:]
        for row in Organisation.objects.order_by("code").values_list(
            "code", "path", "depth", "numchild", "status", "merged_into_id", "name", "org_type", "level", "updated_at"
        )
    }


def employer_state():
    return {
        row[0]: row[1:]
        for row in Employer.objects.order_by("uscc").values_list(
            "uscc", "name", "employee_count", "industry", "town_org_id", "covering_union_id", "updated_at"
        )
    }


def paths():
    return dict(Organisation.objects.values_list("code", "path"))


def numchild():
    return dict(Organisation.objects.values_list("code", "numchild"))


def audit_actions():
    return list(AuditEvent.objects.order_by("at", "id").values_list("action", flat=True))


@pytest.fixture
def frozen(tree):
    """Call frozen() before a refused call and frozen.check() after: nothing may have changed."""

    class Frozen:
        def __call__(self):
            self.orgs = org_state()
            self.employers = employer_state()
            self.audit = AuditEvent.objects.count()

        def check(self):
            assert org_state() == self.orgs
            assert employer_state() == self.employers
            assert AuditEvent.objects.count() == self.audit
            assert Organisation.objects.find_problems() == CLEAN_TREE

    return Frozen()


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


# ---------------------------------------------------------------- merge


def test_merge_moves_children_and_employers(tree, actors, system, employer_set):
    covered_by_t02 = employer_create(
        actor=system,
        name="沧浪商贸有限公司",
        uscc=valid_uscc("91320508MA1W0004D"),
        employee_count=40,
        industry="F",
        town_org=tree["SZ-GS-T02"],
        covering_union=tree["SZ-GS-T02"],
    )
    covered_by_e1 = employer_create(
        actor=system,
        name="沧浪精工有限公司",
        uscc=valid_uscc("91320508MA1W0005E"),
        employee_count=500,
        industry="C",
        town_org=tree["SZ-GS-T02"],
        covering_union=tree["SZ-GS-T02-E1"],
    )
    before = AuditEvent.objects.count()

    merged = org_merge(actor=actors["district_cadre"], org=tree["SZ-GS-T02"], into=tree["SZ-GS-T01"], reason="街道合并")

    merged.refresh_from_db()
    assert (merged.status, merged.merged_into_id) == (OrgStatus.MERGED, tree["SZ-GS-T01"].id)
    assert paths() == {**INITIAL_PATHS, "SZ-GS-T02-E1": "0001000100010004"}
    assert Organisation.objects.get(code="SZ-GS-T02-E1").depth == 4
    counts = numchild()
    assert (counts["SZ-GS-T01"], counts["SZ-GS-T02"], counts["SZ-GS"]) == (4, 0, 2)
    assert Organisation.objects.find_problems() == CLEAN_TREE
    covering = dict(Employer.objects.values_list("name", "covering_union__code"))
    assert covering == {
        "十二号有限公司": "SZ-GS-T01-12",
        "双塔物流有限公司": None,
        "木渎光电有限公司": "SZ-WZ-T01-E1",
        "沧浪商贸有限公司": "SZ-GS-T01",
        "沧浪精工有限公司": "SZ-GS-T02-E1",
    }
    # The located-in town is history and is not rewritten by a merge.
    assert Employer.objects.get(id=covered_by_t02.id).town_org_id == tree["SZ-GS-T02"].id
    assert Employer.objects.get(id=covered_by_e1.id).town_org_id == tree["SZ-GS-T02"].id

    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.get(action="org.merge")
    assert event.object_id == str(tree["SZ-GS-T02"].id)
    assert event.details == {
        "into": str(tree["SZ-GS-T01"].id),
        "reason": "街道合并",
        "children_moved": 1,
        "employers_moved": 1,
    }


def test_merge_grassroots_unions_moves_covered_employers(employer_set, tree, actors):
    org_merge(actor=actors["town_cadre"], org=tree["SZ-GS-T01-12"], into=tree["SZ-GS-T01-123"], reason="两会合并")
    assert Employer.objects.get(id=employer_set["covered"].id).covering_union_id == tree["SZ-GS-T01-123"].id
    org = Organisation.objects.get(code="SZ-GS-T01-12")
    assert (org.status, org.merged_into_id) == ("merged", tree["SZ-GS-T01-123"].id)
    assert paths() == INITIAL_PATHS
    # A merged union can no longer be dissolved, merged or edited.
    with pytest.raises(DomainError) as exc:
        org_dissolve(actor=actors["town_cadre"], org=org, reason="x")
    assert exc.value.message == "组织已合并"


def test_merge_refusals_change_nothing(employer_set, tree, actors, frozen):
    frozen()
    with pytest.raises(ValidationFailed) as exc:
        org_merge(actor=actors["city_cadre"], org=tree["SZ-GS"], into=tree["SZ-GS-T01"], reason="并入下级")
    assert exc.value.errors == {"into": "不能并入自身或自己的下级组织"}
    with pytest.raises(ValidationFailed) as exc:
        org_merge(actor=actors["city_cadre"], org=tree["SZ-GS-T01"], into=tree["SZ-GS-T01"], reason="自身")
    assert exc.value.errors == {"into": "不能并入自身或自己的下级组织"}
    with pytest.raises(ValidationFailed) as exc:
        org_merge(actor=actors["city_cadre"], org=tree["SZ-GS-T01"], into=tree["SZ-GS-T02"], reason=" ")
    assert exc.value.errors == {"reason": "请填写合并原因"}
    with pytest.raises(ValidationFailed) as exc:
        org_merge(actor=actors["city_cadre"], org=tree["SZ-GS-T02"], into=tree["SZ-GS-T01-12"], reason="并入基层")
    assert exc.value.errors == {
        "parent": "独立基层工会不能设在独立基层工会“十二号公司工会委员会”之下（下级组织的层级必须低于上级）"
    }
    with pytest.raises(NotFound):
        org_merge(actor=actors["district_cadre"], org=tree["SZ-GS-T02"], into=tree["SZ-WZ-T01"], reason="跨区")
    with pytest.raises(PermissionDenied):
        org_merge(actor=actors["town_cadre"], org=tree["SZ-GS-T01"], into=tree["SZ-GS-T01-C1"], reason="本级")
    with pytest.raises(PermissionDenied):
        org_merge(actor=actors["grassroots_cadre"], org=tree["SZ-GS-T01-12"], into=tree["SZ-GS-T01-12"], reason="无权")
    frozen.check()


def test_merge_into_inactive_org_is_refused(tree, actors, frozen):
    org_dissolve(actor=actors["town_cadre"], org=tree["SZ-GS-T01-123"], reason="注销")
    frozen()
    with pytest.raises(DomainError) as exc:
        org_merge(actor=actors["town_cadre"], org=tree["SZ-GS-T01-12"], into=tree["SZ-GS-T01-123"], reason="并")
    assert (exc.value.code, exc.value.message) == ("inactive", "合并双方都必须是正常状态的组织")
    frozen.check()


# ---------------------------------------------------------------- bulk create


def spec(parent, code, org_type, name=None):
    return OrgSpec(parent_code=parent, name=name or f"{code} 工会", code=code, org_type=org_type, region_code="320508")


def test_bulk_create_computes_paths_and_counts(tree, system):
    specs = [
        spec("SZ-GS-T02", "SZ-GS-T02-C1", "community"),
        spec("SZ-GS-T02-C1", "SZ-GS-T02-C1-E1", "grassroots"),
        spec("SZ-GS-T02-C1", "SZ-GS-T02-C1-E2", "joint_grassroots"),
        spec("SZ-WZ", "SZ-WZ-T02", "town"),
        spec("SZ-GS-T02", "SZ-GS-T02-E2", "grassroots"),
    ]
    before = AuditEvent.objects.count()
    assert org_tree_bulk_create(actor=system, specs=specs) == 5

    rows = {
        c: (p, d, n, lvl)
        for c, p, d, n, lvl in Organisation.objects.values_list("code", "path", "depth", "numchild", "level")
    }
    assert {code: rows[code] for code in [s.code for s in specs]} == {
        "SZ-GS-T02-C1": ("0001000100020002", 4, 2, OrgLevel.COMMUNITY),
        "SZ-GS-T02-C1-E1": ("00010001000200020001", 5, 0, OrgLevel.GRASSROOTS),
        "SZ-GS-T02-C1-E2": ("00010001000200020002", 5, 0, OrgLevel.GRASSROOTS),
        "SZ-WZ-T02": ("000100020002", 3, 0, OrgLevel.TOWN),
        "SZ-GS-T02-E2": ("0001000100020003", 4, 0, OrgLevel.GRASSROOTS),
    }
    assert rows["SZ-GS-T02"][2] == 3
    assert rows["SZ-WZ"][2] == 2
    assert Organisation.objects.count() == 16
    assert Organisation.objects.find_problems() == CLEAN_TREE
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.get(action="org.bulk_create")
    assert event.details == {"count": 5, "parents": ["SZ-GS-T02", "SZ-WZ"]}
    assert event.object_label == "批量创建 5 个组织"


def test_bulk_create_paths_are_fixed_width_base36_and_treebeard_continues(tree, system):
    specs = [spec("SZ-GS-T02", f"SZ-GS-T02-B{n:02d}", "grassroots") for n in range(40)]
    assert org_tree_bulk_create(actor=system, specs=specs) == 40
    created = list(Organisation.objects.filter(code__startswith="SZ-GS-T02-B").order_by("code"))
    # T02 already had child 0001, so the new children are numbered 2..41 in base 36.
    expected_steps = [
        "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "000A", "000B",
        "000C", "000D", "000E", "000F", "000G", "000H", "000I", "000J", "000K", "000L",
        "000M", "000N", "000O", "000P", "000Q", "000R", "000S", "000T", "000U", "000V",
        "000W", "000X", "000Y", "000Z", "0010", "0011", "0012", "0013", "0014", "0015",
    ]  # fmt: skip
    assert [o.path for o in created] == ["000100010002" + step for step in expected_steps]
    assert {len(o.path) for o in created} == {16}
    assert {o.depth for o in created} == {4}
    assert Organisation.objects.get(code="SZ-GS-T02").numchild == 41
    assert Organisation.objects.find_problems() == CLEAN_TREE
    # treebeard's own add_child carries on after the bulk-created siblings.
    after = org_create(
        actor=system,
        parent=tree["SZ-GS-T02"],
        name="后加工会",
        code="SZ-GS-T02-LATE",
        org_type="grassroots",
        region_code="320508",
    )
    assert after.path == "0001000100020016"
    assert Organisation.objects.get(code="SZ-GS-T02").numchild == 42
    assert Organisation.objects.find_problems() == CLEAN_TREE


@pytest.mark.parametrize(
    ("specs", "errors"),
    [
        (
            [spec("SZ-GS-T02", "SZ-GS-T02-X1", "grassroots"), spec("SZ-GS-T02", "SZ-GS-T02-X1", "grassroots")],
            {"code": "批量数据中存在重复的组织代码"},
        ),
        (
            [spec("SZ-GS-T02", "SZ-GS-T02-X1", "grassroots"), spec("SZ-GS-T02", "SZ-GS-T01-123", "grassroots")],
            {"code": "部分组织代码已被使用"},
        ),
        (
            [spec("SZ-GS-T02", "SZ-GS-T02-X1", "grassroots"), spec("SZ-NOPE", "SZ-NOPE-X1", "grassroots")],
            {"parent_code": "上级组织不存在：SZ-NOPE"},
        ),
        (
            [
                spec("SZ-GS-T02", "SZ-GS-T02-X1", "grassroots"),
                spec("SZ-GS-T02-X1", "SZ-GS-T02-X2", "grassroots", name="基层下的基层"),
            ],
            {"org_type": "基层下的基层：下级组织的层级必须低于上级"},
        ),
        (
            [spec("SZ-GS-T02", "SZ-GS-T02-X1", "town", name="镇下设镇")],
            {"org_type": "镇下设镇：下级组织的层级必须低于上级"},
        ),
    ],
    ids=["duplicate", "existing-code", "missing-parent", "grassroots-under-grassroots", "town-under-town"],
)
def test_bulk_create_refusals_write_nothing(tree, system, frozen, specs, errors):
    frozen()
    with pytest.raises(ValidationFailed) as exc:
        org_tree_bulk_create(actor=system, specs=specs)
    assert exc.value.errors == errors
    frozen.check()


def test_bulk_create_scope_and_role(tree, actors, frozen):
    frozen()
    with pytest.raises(PermissionDenied):
        org_tree_bulk_create(actor=actors["grassroots_cadre"], specs=[spec("SZ-GS-T01-12", "X-1", "grassroots")])
    # A parent outside the actor's scope is reported exactly like one that does not exist.
    with pytest.raises(ValidationFailed) as outside:
        org_tree_bulk_create(actor=actors["district_cadre"], specs=[spec("SZ-WZ", "SZ-WZ-T09", "town")])
    assert outside.value.errors == {"parent_code": "上级组织不存在：SZ-WZ"}
    with pytest.raises(ValidationFailed) as missing:
        org_tree_bulk_create(actor=actors["district_cadre"], specs=[spec("SZ-XX", "SZ-XX-T09", "town")])
    assert missing.value.errors == {"parent_code": "上级组织不存在：SZ-XX"}
    frozen.check()
    assert org_tree_bulk_create(actor=actors["district_cadre"], specs=[spec("SZ-GS", "SZ-GS-T09", "town")]) == 1
    assert Organisation.objects.get(code="SZ-GS-T09").path == "000100010003"


# ---------------------------------------------------------------- employers


def test_employer_create_exact_outcome(tree, actors):
    before = AuditEvent.objects.count()
    employer = employer_create(
        actor=actors["town_cadre"],
        name="双塔　软件有限公司",
        uscc=" ９１３２０５０８ｍａ１ｗ０００６ｆ" + valid_uscc("91320508MA1W0006F")[-1],
        employee_count=0,
        industry="I",
        town_org=tree["SZ-GS-T01"],
        covering_union=tree["SZ-GS-T01-123"],
        address="苏州市姑苏区１号",
    )
    employer.refresh_from_db()
    assert employer.name == "双塔 软件有限公司"
    assert employer.uscc == valid_uscc("91320508MA1W0006F")
    assert (employer.employee_count, employer.industry, employer.address) == (0, "I", "苏州市姑苏区1号")
    assert (employer.town_org_id, employer.covering_union_id) == (tree["SZ-GS-T01"].id, tree["SZ-GS-T01-123"].id)
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.get(action="employer.create")
    assert (event.object_type, event.object_id) == ("employer", str(employer.id))
    assert event.object_org_path == INITIAL_PATHS["SZ-GS-T01"]
    assert event.details == {"covering_union": str(tree["SZ-GS-T01-123"].id)}


EMPLOYER_OK = {
    "name": "新单位",
    "employee_count": 10,
    "industry": "C",
}


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"uscc": valid_uscc("91320508MA1W0001A")}, {"uscc": "该统一社会信用代码的单位已登记"}),
        ({"employee_count": -1}, {"employee_count": "职工人数应为 0 至 2000000 之间的整数"}),
        ({"employee_count": True}, {"employee_count": "职工人数应为 0 至 2000000 之间的整数"}),
        ({"employee_count": "10"}, {"employee_count": "职工人数应为 0 至 2000000 之间的整数"}),
        ({"employee_count": 2_000_001}, {"employee_count": "职工人数应为 0 至 2000000 之间的整数"}),
        ({"industry": "Z"}, {"industry": "请选择国民经济行业门类（GB/T 4754）"}),
        ({"town": "SZ-GS-T01-12"}, {"town_org": "所在组织应为镇(街道)总工会或开发区/园区总工会"}),
        ({"town": "SZ-WZ-T01"}, {"town_org": "所选组织不存在或不在您的管辖范围内"}),
        ({"union": "SZ-WZ-T01-E1"}, {"covering_union": "所选工会不存在或不在您的管辖范围内"}),
        ({"name": "", "industry": None}, {"name": "此项为必填项", "industry": "此项为必填项"}),
    ],
    ids=[
        "dup-uscc",
        "negative",
        "bool",
        "str-count",
        "too-many",
        "industry",
        "not-a-town",
        "town-out-of-scope",
        "union-out-of-scope",
        "missing",
    ],
)
def test_employer_create_refusals_write_nothing(employer_set, tree, actors, frozen, overrides, errors):
    overrides = dict(overrides)
    fields = {
        **EMPLOYER_OK,
        "uscc": valid_uscc("91320508MA1W0009J"),
        "town_org": tree[overrides.pop("town", "SZ-GS-T01")],
        "covering_union": tree[overrides.pop("union")] if "union" in overrides else None,
        **overrides,
    }
    frozen()
    with pytest.raises(ValidationFailed) as exc:
        employer_create(actor=actors["town_cadre"], **fields)
    assert exc.value.errors == errors
    frozen.check()


def test_employer_create_with_inactive_union_is_refused(tree, actors, frozen):
    org_dissolve(actor=actors["town_cadre"], org=tree["SZ-GS-T01-123"], reason="注销")
    frozen()
    with pytest.raises(ValidationFailed) as exc:
        employer_create(
            actor=actors["town_cadre"],
            **EMPLOYER_OK,
            uscc=valid_uscc("91320508MA1W0009J"),
            town_org=tree["SZ-GS-T01"],
            covering_union=tree["SZ-GS-T01-123"],
        )
    assert exc.value.errors == {"covering_union": "所选工会不是正常状态"}
    frozen.check()


@pytest.mark.parametrize("username", ["grassroots_cadre", "secadmin", "auditor"])
def test_employer_writes_denied_without_employers_edit(employer_set, tree, actors, frozen, username):
    frozen()
    with pytest.raises(PermissionDenied):
        employer_create(
            actor=actors[username], **EMPLOYER_OK, uscc=valid_uscc("91320508MA1W0009J"), town_org=tree["SZ-GS-T01"]
        )
    with pytest.raises(PermissionDenied):
        employer_update(actor=actors[username], employer=employer_set["covered"], employee_count=1)
    frozen.check()


def test_employer_update_records_changes(employer_set, tree, actors):
    employer = employer_update(
        actor=actors["town_cadre"],
        employer=employer_set["uncovered"],
        employee_count=160,
        covering_union=tree["SZ-GS-T01-123"],
        name="双塔物流有限公司",
    )
    employer.refresh_from_db()
    assert (employer.employee_count, employer.covering_union_id) == (160, tree["SZ-GS-T01-123"].id)
    event = AuditEvent.objects.get(action="employer.update")
    assert event.details == {
        "changes": {"employee_count": ["150", "160"], "covering_union": ["None", str(tree["SZ-GS-T01-123"].id)]}
    }


def test_employer_update_refusals_write_nothing(employer_set, tree, actors, frozen):
    frozen()
    employer_update(actor=actors["town_cadre"], employer=employer_set["covered"], employee_count=80)
    with pytest.raises(NotFound):
        employer_update(actor=actors["town_cadre"], employer=employer_set["wuzhong"], employee_count=1)
    with pytest.raises(ValidationFailed) as exc:
        employer_update(
            actor=actors["town_cadre"], employer=employer_set["covered"], uscc=employer_set["uncovered"].uscc
        )
    assert exc.value.errors == {"uscc": "该统一社会信用代码的单位已登记"}
    with pytest.raises(ValidationFailed) as exc:
        employer_update(actor=actors["town_cadre"], employer=employer_set["covered"], town_org=tree["SZ-WZ-T01"])
    assert exc.value.errors == {"town_org": "所选组织不存在或不在您的管辖范围内"}
    frozen.check()
