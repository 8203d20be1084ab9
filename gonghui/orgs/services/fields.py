"""What an organisation is made of and the checks every write runs: the editable fields, their normalisation,
and an organisation's placement in the tree."""

from datetime import date
from typing import Any, TypedDict

from django.utils import timezone

from gonghui.common.actor import Actor
from gonghui.common.errors import PermissionDenied, ValidationFailed
from gonghui.common.roles import Perm
from gonghui.common.validators import (
    normalise_cn_phone,
    normalise_org_code,
    normalise_region_code,
    normalise_uscc,
    to_half_width,
)
from gonghui.orgs.models import (
    TYPE_LEVEL,
    Organisation,
    OrgLevel,
    OrgStatus,
    OrgType,
)

LEVEL_RANK: dict[str, int] = {
    OrgLevel.CITY: 0,
    OrgLevel.COUNTY: 1,
    OrgLevel.TOWN: 2,
    OrgLevel.COMMUNITY: 3,
    OrgLevel.GRASSROOTS: 4,
}

ORG_EDITABLE_FIELDS = (
    "name",
    "code",
    "org_type",
    "region_code",
    "uscc",
    "founded_on",
    "term_ends_on",
    "address",
    "contact_person",
    "contact_phone",
)


class OrgFields(TypedDict, total=False):
    """The editable fields of an organisation (ORG_EDITABLE_FIELDS), as `org_create` and `org_update` take them:
    a key left out is left unchanged; every value is normalised and checked before anything is written."""

    name: str
    code: str
    org_type: str
    region_code: str
    uscc: str | None
    founded_on: date | None
    term_ends_on: date | None
    address: str
    contact_person: str
    contact_phone: str


class EmployerFields(TypedDict, total=False):
    """The fields of an employer as `employer_create` and `employer_update` take them (a key left out is left
    unchanged); coordinates are WGS84, both or neither."""

    name: str
    uscc: str
    employee_count: int
    industry: str
    address: str
    lat: float | str | None
    lng: float | str | None
    town_org: Organisation | None
    covering_union: Organisation | None


REVEAL_REASON_MAX = 500

# ---------------------------------------------------------------- validation


def clean_org_fields(data: dict[str, Any], *, exclude_id=None) -> dict[str, Any]:
    """Normalise and validate organisation fields; every problem is reported at once, in Chinese."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}

    if "name" in data:
        name = to_half_width(data["name"] or "")
        if not name:
            errors["name"] = "组织名称不能为空"
        elif len(name) > 100:
            errors["name"] = "组织名称不能超过100个字"
        clean["name"] = name
    if "code" in data:
        try:
            clean["code"] = normalise_org_code(data["code"] or "")
            clash = Organisation.objects.filter(code=clean["code"]).exclude(id=exclude_id)
            if clash.exists():
                errors["code"] = f"组织代码 {clean['code']} 已被使用"
        except ValueError as exc:
            errors["code"] = str(exc)
    if "org_type" in data:
        if data["org_type"] not in OrgType.values:
            errors["org_type"] = "请选择有效的组织类型"
        else:
            clean["org_type"] = data["org_type"]
            clean["level"] = TYPE_LEVEL[data["org_type"]]
    if "region_code" in data:
        try:
            clean["region_code"] = normalise_region_code(data["region_code"] or "")
        except ValueError as exc:
            errors["region_code"] = str(exc)
    if "uscc" in data:
        if data["uscc"] in (None, ""):
            clean["uscc"] = None
        else:
            try:
                clean["uscc"] = normalise_uscc(data["uscc"])
                if Organisation.objects.filter(uscc=clean["uscc"]).exclude(id=exclude_id).exists():
                    errors["uscc"] = "该统一社会信用代码已登记在其他工会组织"
            except ValueError as exc:
                errors["uscc"] = str(exc)
    for field, label in (("founded_on", "成立日期"), ("term_ends_on", "任期届满日期")):
        if field in data:
            value = data[field]
            if value is not None and not isinstance(value, date):
                errors[field] = f"{label}格式应为 YYYY-MM-DD"
            else:
                clean[field] = value
    if clean.get("founded_on") and clean["founded_on"] > timezone.localdate():
        errors["founded_on"] = "成立日期不能晚于今天"
    if clean.get("founded_on") and clean.get("term_ends_on") and clean["term_ends_on"] <= clean["founded_on"]:
        errors["term_ends_on"] = "任期届满日期应晚于成立日期"
    for field in ("address", "contact_person"):
        if field in data:
            clean[field] = to_half_width(data[field] or "")
    if "contact_phone" in data:
        if data["contact_phone"]:
            try:
                clean["contact_phone"] = normalise_cn_phone(data["contact_phone"])
            except ValueError as exc:
                errors["contact_phone"] = str(exc)
        else:
            clean["contact_phone"] = ""
    if errors:
        raise ValidationFailed(errors)
    return clean


def check_placement(*, org_type: str, parent: Organisation | None) -> None:
    """A child sits at a lower level than its parent; a city federation is only ever the root."""
    if parent is None:
        if org_type != OrgType.CITY:
            raise ValidationFailed({"parent": "只有市总工会可以作为根组织，请选择上级组织"})
        return
    if org_type == OrgType.CITY:
        raise ValidationFailed({"org_type": "市总工会只能是根组织"})
    if parent.status != OrgStatus.ACTIVE:
        raise ValidationFailed({"parent": f"上级组织“{parent.name}”{parent.get_status_display()}，不能再下设组织"})
    child_rank = LEVEL_RANK[TYPE_LEVEL[org_type]]
    parent_rank = LEVEL_RANK[OrgLevel(parent.level)]
    if child_rank <= parent_rank:
        raise ValidationFailed(
            {
                "parent": f"{OrgType(org_type).label}不能设在{OrgType(parent.org_type).label}“{parent.name}”之下"
                "（下级组织的层级必须低于上级）"
            }
        )


def require_structure_below_scope_root(actor: Actor, org: Organisation) -> None:
    """Structural changes (move, dissolve, merge) apply strictly below the actor's own organisation."""
    actor.require(Perm.ORGS_STRUCTURE)
    if org.path == actor.scope_path:
        raise PermissionDenied("不能移动、撤销或合并本级组织，请联系上级工会")


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def org_validate(
    *, actor: Actor, parent: Organisation | None, fields: dict[str, Any], org: Organisation | None = None
) -> dict[str, Any]:
    """Validate organisation fields as create (org None) or update would, without writing: forms call this to
    show every problem on the form before the service runs."""
    clean = clean_org_fields(fields, exclude_id=org.id if org else None)
    if org is None and "org_type" in clean:
        check_placement(org_type=clean["org_type"], parent=parent)
    return clean
