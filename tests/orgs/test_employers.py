"""Writes to the employer registry. Exact outcomes, exact audit events, and refusals that change nothing at all."""

import pytest

from gonghui.audit.models import AuditEvent
from gonghui.common.errors import NotFound, PermissionDenied, ValidationFailed
from gonghui.orgs.services import employer_create, employer_update, org_dissolve
from tests.conftest import valid_uscc
from tests.orgs.factories import INITIAL_PATHS

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
