"""Writes to the organisation tree: merging organisations and creating many at once. Exact outcomes, exact audit
events, and refusals that change nothing at all."""

import pytest

from gonghui.audit.models import AuditEvent
from gonghui.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.orgs.models import Employer, Organisation, OrgLevel, OrgStatus
from gonghui.orgs.services import OrgSpec, employer_create, org_create, org_dissolve, org_merge, org_tree_bulk_create
from tests.conftest import valid_uscc
from tests.orgs.factories import CLEAN_TREE, INITIAL_PATHS, numchild, paths

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
