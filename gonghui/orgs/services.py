"""Writes to the organisation tree and the employer registry. Each service validates, checks the actor's scope
and role, writes in one transaction and records the audit event in the same transaction."""

from copy import copy
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from gonghui.audit.services import audit_record
from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.common.geo import clean_coordinates
from gonghui.common.masking import mask_phone
from gonghui.common.paths import STEPLEN
from gonghui.common.roles import Perm
from gonghui.common.validators import (
    normalise_cn_phone,
    normalise_org_code,
    normalise_region_code,
    normalise_uscc,
    to_half_width,
)
from gonghui.orgs.figures import figures_employers_changed, figures_move_subtree, figures_org_closed
from gonghui.orgs.models import (
    TYPE_LEVEL,
    Employer,
    Industry,
    Organisation,
    OrgLevel,
    OrgStatus,
    OrgType,
)
from gonghui.orgs.selectors import employer_get, org_get, subtree_of

LEVEL_RANK = {
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


REVEAL_REASON_MAX = 500

# ---------------------------------------------------------------- validation


def _clean_org_fields(data: dict[str, Any], *, exclude_id=None) -> dict[str, Any]:
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


def _check_placement(*, org_type: str, parent: Organisation | None) -> None:
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


def _require_structure_below_scope_root(actor: Actor, org: Organisation) -> None:
    """Structural changes (move, dissolve, merge) apply strictly below the actor's own organisation."""
    actor.require(Perm.ORGS_STRUCTURE)
    if org.path == actor.scope_path:
        raise PermissionDenied("不能移动、撤销或合并本级组织，请联系上级工会")


def _audit_org(actor: Actor, action: str, org: Organisation, details: dict[str, Any]) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="organisation",
        object_id=org.id,
        object_label=f"{org.name}（{org.code}）",
        object_org_path=org.path,
        details=details,
    )


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def org_validate(
    *, actor: Actor, parent: Organisation | None, fields: dict[str, Any], org: Organisation | None = None
) -> dict[str, Any]:
    """Validate organisation fields as create (org None) or update would, without writing: forms call this to
    show every problem on the form before the service runs."""
    clean = _clean_org_fields(fields, exclude_id=org.id if org else None)
    if org is None and "org_type" in clean:
        _check_placement(org_type=clean["org_type"], parent=parent)
    return clean


def employer_validate(*, actor: Actor, fields: dict[str, Any], employer: Employer | None = None) -> dict[str, Any]:
    return _clean_employer_fields(fields, actor=actor, exclude_id=employer.id if employer else None)


# ---------------------------------------------------------------- organisations


@transaction.atomic
def org_create(*, actor: Actor, parent: Organisation | None, **fields: Any) -> Organisation:
    """Create an organisation under `parent` (None only for the root city federation, by the platform)."""
    missing = {f: "此项为必填项" for f in ("name", "code", "org_type", "region_code") if not fields.get(f)}
    if missing:
        raise ValidationFailed(missing)
    unknown = set(fields) - set(ORG_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"unknown organisation fields: {sorted(unknown)}")
    if parent is None:
        if actor.kind != "system":
            raise PermissionDenied("只有平台初始化可以创建根组织")
    else:
        actor.require(Perm.ORGS_STRUCTURE)
        parent = org_get(actor=actor, org_id=parent.id)
        if parent.is_grassroots:
            raise ValidationFailed({"parent": "基层工会之下不能再设工会组织"})
    clean = _clean_org_fields(fields)
    _check_placement(org_type=clean["org_type"], parent=parent)
    try:
        with transaction.atomic():
            org = (
                Organisation.objects.add_root(clean)
                if parent is None
                else Organisation.objects.add_child(parent, clean)
            )
    except IntegrityError as exc:
        raise DomainError("组织代码或统一社会信用代码已被使用，请核对", code="conflict") from exc
    _audit_org(
        actor,
        "org.create",
        org,
        {"parent": str(parent.id) if parent else None, "code": org.code, "type": org.org_type},
    )
    return org


@transaction.atomic
def org_fields_locked(*, actor: Actor, org: Organisation) -> frozenset[str]:
    """The editable fields of `org` that the actor may not change, so that a form shows them read-only instead of
    offering a value that org_update would refuse: every field of an organisation that is no longer active, none for
    a role without ORGS_EDIT (it edits nothing), and the type unless the actor may change the structure below its
    own organisation (a change of type moves the organisation between levels)."""
    if org.status != OrgStatus.ACTIVE:
        return frozenset(ORG_EDITABLE_FIELDS)
    if not actor.can(Perm.ORGS_STRUCTURE) or org.path == actor.scope_path:
        return frozenset({"org_type"})
    return frozenset()


def org_update(*, actor: Actor, org: Organisation, **fields: Any) -> Organisation:
    actor.require(Perm.ORGS_EDIT)
    org = org_get(actor=actor, org_id=org.id)
    unknown = set(fields) - set(ORG_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"unknown organisation fields: {sorted(unknown)}")
    if org.status != OrgStatus.ACTIVE:
        raise DomainError(f"组织{org.get_status_display()}，不能修改", code="inactive")
    clean = _clean_org_fields(fields, exclude_id=org.id)
    if "org_type" in clean and clean["org_type"] != org.org_type:
        if "org_type" in org_fields_locked(actor=actor, org=org):
            raise PermissionDenied("变更组织类型须由上级工会办理")
        _check_placement(org_type=clean["org_type"], parent=Organisation.objects.get_parent(org))
        if org.numchild and TYPE_LEVEL[clean["org_type"]] == OrgLevel.GRASSROOTS:
            raise ValidationFailed({"org_type": "该组织下设有下级组织，不能改为基层工会"})
        child_levels = Organisation.objects.get_children(org).values_list("level", flat=True)
        deepest_child_rank = min((LEVEL_RANK[OrgLevel(level)] for level in child_levels), default=None)
        if deepest_child_rank is not None and deepest_child_rank <= LEVEL_RANK[TYPE_LEVEL[clean["org_type"]]]:
            raise ValidationFailed({"org_type": "变更后的层级不高于现有下级组织，请先调整下级组织"})
    changes = {
        name: [_jsonable(getattr(org, name)), _jsonable(value)]
        for name, value in clean.items()
        if getattr(org, name) != value
    }
    if "contact_phone" in changes:  # personal data: the append-only trail keeps the masked numbers only
        changes["contact_phone"] = [mask_phone(number) for number in changes["contact_phone"]]
    if not changes:
        return org
    for name, value in clean.items():
        setattr(org, name, value)
    try:
        with transaction.atomic():
            org.save(update_fields=[*clean.keys(), "updated_at"])
    except IntegrityError as exc:
        raise DomainError("组织代码或统一社会信用代码已被使用，请核对", code="conflict") from exc
    _audit_org(actor, "org.update", org, {"changes": changes})
    return org


@transaction.atomic
def org_contact_phone_reveal(*, actor: Actor, org: Organisation, reason: str) -> str:
    """查看完整号码 of a union's contact: personal data, so the same rule as a member's number: a role that may
    unmask, the union in the actor's subtree, a stated reason, one audit row. Returns the plain number."""
    actor.require(Perm.MEMBERS_UNMASK)
    org = org_get(actor=actor, org_id=org.id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": "请填写查看原因"})
    if len(reason) > REVEAL_REASON_MAX:
        raise ValidationFailed({"reason": f"查看原因不能超过{REVEAL_REASON_MAX}个字"})
    _audit_org(actor, "org.reveal_contact_phone", org, {"field": "contact_phone", "reason": reason})
    return org.contact_phone


@transaction.atomic
def org_move(*, actor: Actor, org: Organisation, new_parent: Organisation) -> Organisation:
    """Move `org` and its whole subtree under `new_parent`. Refused under its own descendant."""
    org = org_get(actor=actor, org_id=org.id)
    new_parent = org_get(actor=actor, org_id=new_parent.id)
    _require_structure_below_scope_root(actor, org)
    if new_parent.path.startswith(org.path):
        raise ValidationFailed({"new_parent": "不能把组织移动到它自己或它的下级组织之下"})
    old_parent = Organisation.objects.get_parent(org)
    if old_parent and old_parent.id == new_parent.id:
        raise ValidationFailed({"new_parent": "该组织已在所选上级组织之下"})
    if org.status != OrgStatus.ACTIVE:
        raise DomainError(f"组织{org.get_status_display()}，不能移动", code="inactive")
    _check_placement(org_type=org.org_type, parent=new_parent)
    descendant_levels = subtree_of(org).exclude(id=org.id).values_list("level", flat=True).distinct()
    for level in descendant_levels:
        if LEVEL_RANK[OrgLevel(level)] <= LEVEL_RANK[OrgLevel(new_parent.level)]:
            raise ValidationFailed({"new_parent": "下级组织中有层级不低于新上级的组织，不能移动到此处"})
    old_path = org.path
    descendants = subtree_of(org).count() - 1
    Organisation.objects.move(org, new_parent, pos="last-child")
    org.refresh_from_db()
    figures_move_subtree(org, old_parent_path=old_path[:-STEPLEN])
    _audit_org(
        actor,
        "org.move",
        org,
        {
            "from_parent": str(old_parent.id) if old_parent else None,
            "to_parent": str(new_parent.id),
            "old_path": old_path,
            "new_path": org.path,
            "descendants_moved": descendants,
        },
    )
    return org


def _refuse_while_holding_members(org: Organisation) -> None:
    """Members belong to a union until they are transferred or leave; a union holding members is not dissolved or
    merged away. (The member registry sits above this app, so the reverse relation is used by name.)"""
    holding = org.memberships.filter(status__in=("active", "reserved")).count()
    if holding:
        raise DomainError(
            f"该工会还有 {holding} 名会员（含保留会籍），请先为他们办理会员接转或退会", code="has_members"
        )


@transaction.atomic
def org_dissolve(*, actor: Actor, org: Organisation, reason: str) -> Organisation:
    """撤销: the organisation stays in the tree for history, with status 已撤销. Refused while it still has active
    child organisations or covers employers, so nothing is left hanging."""
    org = org_get(actor=actor, org_id=org.id)
    _require_structure_below_scope_root(actor, org)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": "请填写撤销原因"})
    if org.status != OrgStatus.ACTIVE:
        raise DomainError(f"组织{org.get_status_display()}", code="inactive")
    active_children = Organisation.objects.get_children(org).filter(status=OrgStatus.ACTIVE).count()
    if active_children:
        raise DomainError(
            f"该组织下还有 {active_children} 个正常状态的下级组织，请先撤销、合并或移走", code="has_children"
        )
    covered = Employer.objects.filter(covering_union=org).count()
    if covered:
        raise DomainError(f"该组织仍覆盖 {covered} 家企业/单位，请先调整覆盖关系或改为合并", code="covers_employers")
    _refuse_while_holding_members(org)
    org.status = OrgStatus.DISSOLVED
    org.save(update_fields=["status", "updated_at"])
    figures_org_closed(org)
    _audit_org(actor, "org.dissolve", org, {"reason": reason})
    return org


@transaction.atomic
def org_merge(*, actor: Actor, org: Organisation, into: Organisation, reason: str) -> Organisation:
    """合并: `org`'s active children move under `into`, the employers it covers are covered by `into`, and `org`
    is kept with status 已合并 pointing at `into`."""
    org = org_get(actor=actor, org_id=org.id)
    into = org_get(actor=actor, org_id=into.id)
    _require_structure_below_scope_root(actor, org)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": "请填写合并原因"})
    if org.id == into.id or into.path.startswith(org.path):
        raise ValidationFailed({"into": "不能并入自身或自己的下级组织"})
    if org.status != OrgStatus.ACTIVE or into.status != OrgStatus.ACTIVE:
        raise DomainError("合并双方都必须是正常状态的组织", code="inactive")
    _refuse_while_holding_members(org)
    children = list(Organisation.objects.get_children(org).filter(status=OrgStatus.ACTIVE))
    for child in children:
        _check_placement(org_type=child.org_type, parent=into)
    employers_moved = Employer.objects.filter(covering_union=org).update(covering_union=into)  # before the figures
    for child in children:
        child.refresh_from_db()
        into.refresh_from_db()
        old_parent_path = child.path[:-STEPLEN]
        Organisation.objects.move(child, into, pos="last-child")
        child.refresh_from_db()
        figures_move_subtree(child, old_parent_path=old_parent_path)
    figures_org_closed(org)
    org.refresh_from_db()
    org.status = OrgStatus.MERGED
    org.merged_into = into
    org.save(update_fields=["status", "merged_into", "updated_at"])
    _audit_org(
        actor,
        "org.merge",
        org,
        {
            "into": str(into.id),
            "reason": reason,
            "children_moved": len(children),
            "employers_moved": employers_moved,
        },
    )
    return org


# ---------------------------------------------------------------- bulk tree building


@dataclass(frozen=True)
class OrgSpec:
    """One organisation of a bulk load; `parent_code` names an existing organisation or an earlier spec."""

    parent_code: str
    name: str
    code: str
    org_type: str
    region_code: str
    uscc: str | None = None
    founded_on: date | None = None
    term_ends_on: date | None = None
    address: str = ""
    contact_person: str = ""
    contact_phone: str = ""


def _path_step(number: int) -> str:
    alphabet = Organisation.alphabet
    digits = []
    for _ in range(STEPLEN):
        number, rest = divmod(number, len(alphabet))
        digits.append(alphabet[rest])
    if number:
        raise DomainError("同一上级下的组织数量超过上限", code="too_many_children")
    return "".join(reversed(digits))


def _path_number(step: str) -> int:
    return int(step, len(Organisation.alphabet))


@transaction.atomic
def org_tree_bulk_create(*, actor: Actor, specs: list[OrgSpec], batch_size: int = 2000) -> int:
    """Create many organisations at once, computing materialized paths in memory and inserting in batches.

    Trusted input only (the demo federation, benchmarks, and imports that validated every row first): codes,
    types and placement are checked, but field formats are assumed clean. One audit event for the whole load.
    """
    actor.require(Perm.ORGS_STRUCTURE)
    codes = [spec.code for spec in specs]
    if len(set(codes)) != len(codes):
        raise ValidationFailed({"code": "批量数据中存在重复的组织代码"})
    parents_by_code: dict[str, tuple[str, int, str]] = {}  # code -> (path, depth, level)
    next_child: dict[str, int] = {}
    numchild: dict[str, int] = {}
    existing_parent_codes = {spec.parent_code for spec in specs} - set(codes)
    # Parents outside the actor's scope are "missing", exactly like codes that do not exist.
    in_scope = Organisation.objects.filter(code__in=existing_parent_codes, path__startswith=actor.scope_path)
    for parent in in_scope:
        parents_by_code[parent.code] = (parent.path, parent.depth, parent.level)
        last = Organisation.objects.get_last_child(parent)
        next_child[parent.path] = _path_number(last.path[-STEPLEN:]) + 1 if last else 1
        numchild[parent.path] = parent.numchild
    missing = existing_parent_codes - set(parents_by_code)
    if missing:
        raise ValidationFailed({"parent_code": f"上级组织不存在：{', '.join(sorted(missing)[:5])}"})
    if Organisation.objects.filter(code__in=codes).exists():
        raise ValidationFailed({"code": "部分组织代码已被使用"})

    rows: list[Organisation] = []
    for spec in specs:
        parent_path, parent_depth, parent_level = parents_by_code[spec.parent_code]
        level = TYPE_LEVEL[spec.org_type]
        if LEVEL_RANK[OrgLevel(level)] <= LEVEL_RANK[OrgLevel(parent_level)]:
            raise ValidationFailed({"org_type": f"{spec.name}：下级组织的层级必须低于上级"})
        number = next_child.get(parent_path, 1)
        next_child[parent_path] = number + 1
        numchild[parent_path] = numchild.get(parent_path, 0) + 1
        path = parent_path + _path_step(number)
        parents_by_code[spec.code] = (path, parent_depth + 1, level)
        rows.append(
            Organisation(
                path=path,
                depth=parent_depth + 1,
                numchild=0,
                name=spec.name,
                code=spec.code,
                org_type=spec.org_type,
                level=level,
                region_code=spec.region_code,
                uscc=spec.uscc,
                founded_on=spec.founded_on,
                term_ends_on=spec.term_ends_on,
                address=spec.address,
                contact_person=spec.contact_person,
                contact_phone=spec.contact_phone,
            )
        )
    for row in rows:
        row.numchild = numchild.get(row.path, 0)
    Organisation.objects.bulk_create(rows, batch_size=batch_size)
    for parent_code in existing_parent_codes:
        parent_path = parents_by_code[parent_code][0]
        Organisation.objects.filter(path=parent_path).update(numchild=numchild[parent_path])
    audit_record(
        actor=actor,
        action="org.bulk_create",
        object_type="organisation",
        object_label=f"批量创建 {len(rows)} 个组织",
        details={"count": len(rows), "parents": sorted(existing_parent_codes)[:20]},
    )
    return len(rows)


# ---------------------------------------------------------------- employers


def _clean_employer_fields(data: dict[str, Any], *, actor: Actor, exclude_id=None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    if "name" in data:
        clean["name"] = to_half_width(data["name"] or "")
        if not clean["name"]:
            errors["name"] = "单位名称不能为空"
    if "uscc" in data:
        try:
            clean["uscc"] = normalise_uscc(data["uscc"] or "")
            if Employer.objects.filter(uscc=clean["uscc"]).exclude(id=exclude_id).exists():
                errors["uscc"] = "该统一社会信用代码的单位已登记"
        except ValueError as exc:
            errors["uscc"] = str(exc)
    if "employee_count" in data:
        count = data["employee_count"]
        if not isinstance(count, int) or isinstance(count, bool) or count < 0 or count > 2_000_000:
            errors["employee_count"] = "职工人数应为 0 至 2000000 之间的整数"
        else:
            clean["employee_count"] = count
    if "industry" in data:
        if data["industry"] not in Industry.values:
            errors["industry"] = "请选择国民经济行业门类（GB/T 4754）"
        else:
            clean["industry"] = data["industry"]
    if "address" in data:
        clean["address"] = to_half_width(data["address"] or "")
    if "lat" in data or "lng" in data:
        clean.update(_clean_employer_location(data.get("lat"), data.get("lng"), errors))
    if "town_org" in data:
        town = data["town_org"]
        if town is None:
            errors["town_org"] = "请选择单位所在的镇(街道)或园区工会"
        else:
            try:
                town = org_get(actor=actor, org_id=town.id)
            except NotFound:
                errors["town_org"] = "所选组织不存在或不在您的管辖范围内"
            else:
                if town.org_type not in (OrgType.TOWN, OrgType.PARK):
                    errors["town_org"] = "所在组织应为镇(街道)总工会或开发区/园区总工会"
                clean["town_org"] = town
    if "covering_union" in data:
        union = data["covering_union"]
        if union is None:
            clean["covering_union"] = None
        else:
            try:
                union = org_get(actor=actor, org_id=union.id)
            except NotFound:
                errors["covering_union"] = "所选工会不存在或不在您的管辖范围内"
            else:
                if union.status != OrgStatus.ACTIVE:
                    errors["covering_union"] = "所选工会不是正常状态"
                clean["covering_union"] = union
    if errors:
        raise ValidationFailed(errors)
    return clean


def _clean_employer_location(lat, lng, errors: dict[str, str]) -> dict[str, Any]:
    """Both coordinates or neither (WGS84, inside the region)."""
    if lat in (None, "") and lng in (None, ""):
        return {"lat": None, "lng": None}
    if lat in (None, "") or lng in (None, ""):
        errors["lat"] = "经度和纬度要一起填写，或者都不填"
        return {}
    try:
        lat, lng = clean_coordinates(lat, lng)
    except ValidationFailed as exc:
        errors["lat"] = exc.message
        return {}
    return {"lat": lat, "lng": lng}


def _audit_employer(actor: Actor, action: str, employer: Employer, details: dict[str, Any]) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="employer",
        object_id=employer.id,
        object_label=employer.name,
        object_org_path=employer.town_org.path,
        details=details,
    )


@transaction.atomic
def employer_create(*, actor: Actor, **fields: Any) -> Employer:
    actor.require(Perm.EMPLOYERS_EDIT)
    required = ("name", "uscc", "employee_count", "industry", "town_org")
    missing = {f: "此项为必填项" for f in required if fields.get(f) in (None, "")}
    if missing:
        raise ValidationFailed(missing)
    clean = _clean_employer_fields(fields, actor=actor)
    try:
        with transaction.atomic():
            employer = Employer.objects.create(**clean)
    except IntegrityError as exc:
        raise DomainError("该统一社会信用代码的单位已登记", code="conflict") from exc
    _audit_employer(
        actor,
        "employer.create",
        employer,
        {"covering_union": str(employer.covering_union_id) if employer.covering_union_id else None},
    )
    figures_employers_changed([], [(employer.town_org.path, employer)])
    return employer


@transaction.atomic
def employer_update(*, actor: Actor, employer: Employer, **fields: Any) -> Employer:
    actor.require(Perm.EMPLOYERS_EDIT)
    employer = employer_get(actor=actor, employer_id=employer.id)
    clean = _clean_employer_fields(fields, actor=actor, exclude_id=employer.id)
    before = [(employer.town_org.path, copy(employer))]
    changes = {}
    for name, value in clean.items():
        old = getattr(employer, name)
        if old != value:
            changes[name] = [str(getattr(old, "id", old)), str(getattr(value, "id", value))]
            setattr(employer, name, value)
    if changes:
        employer.save(update_fields=[*clean.keys(), "updated_at"])
        _audit_employer(actor, "employer.update", employer, {"changes": changes})
        figures_employers_changed(before, [(employer.town_org.path, employer)])
    return employer


@transaction.atomic
def employer_bulk_create(*, actor: Actor, employers: list[Employer], batch_size: int = 2000) -> int:
    """Insert many already-validated employers (demo federation, benchmarks, checked imports). One audit event."""
    actor.require(Perm.EMPLOYERS_EDIT)
    orgs = {e.town_org_id for e in employers} | {e.covering_union_id for e in employers if e.covering_union_id}
    visible = set(
        Organisation.objects.filter(id__in=orgs, path__startswith=actor.scope_path).values_list("id", flat=True)
    )
    if orgs - visible:
        raise NotFound()
    Employer.objects.bulk_create(employers, batch_size=batch_size)
    audit_record(
        actor=actor,
        action="employer.bulk_create",
        object_type="employer",
        object_label=f"批量登记 {len(employers)} 家企业/单位",
        details={"count": len(employers)},
    )
    paths = dict(Organisation.objects.filter(id__in=orgs).values_list("id", "path"))
    figures_employers_changed([], [(paths[e.town_org_id], e) for e in employers])
    return len(employers)
