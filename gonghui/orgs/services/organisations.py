"""Writes to the organisation tree: create, update, move, dissolve, merge, and a look at the contact number."""

from typing import Unpack

from django.db import IntegrityError, transaction

from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError, PermissionDenied, ValidationFailed
from gonghui.common.masking import mask_phone
from gonghui.common.paths import STEPLEN
from gonghui.common.roles import Perm
from gonghui.orgs.events import org_event
from gonghui.orgs.figures import figures_move_subtree, figures_org_closed
from gonghui.orgs.models import (
    TYPE_LEVEL,
    Employer,
    Organisation,
    OrgLevel,
    OrgStatus,
)
from gonghui.orgs.selectors import org_get, subtree_of
from gonghui.orgs.services.fields import (
    LEVEL_RANK,
    ORG_EDITABLE_FIELDS,
    REVEAL_REASON_MAX,
    OrgFields,
    _jsonable,
    check_placement,
    clean_org_fields,
    require_structure_below_scope_root,
)

# ---------------------------------------------------------------- organisations


@transaction.atomic
def org_create(*, actor: Actor, parent: Organisation | None, **fields: Unpack[OrgFields]) -> Organisation:
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
    clean = clean_org_fields(dict(fields))
    check_placement(org_type=clean["org_type"], parent=parent)
    try:
        with transaction.atomic():
            org = (
                Organisation.objects.add_root(clean)
                if parent is None
                else Organisation.objects.add_child(parent, clean)
            )
    except IntegrityError as exc:
        raise DomainError("组织代码或统一社会信用代码已被使用，请核对", code="conflict") from exc
    org_event(
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


def org_update(*, actor: Actor, org: Organisation, **fields: Unpack[OrgFields]) -> Organisation:
    actor.require(Perm.ORGS_EDIT)
    org = org_get(actor=actor, org_id=org.id)
    unknown = set(fields) - set(ORG_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"unknown organisation fields: {sorted(unknown)}")
    if org.status != OrgStatus.ACTIVE:
        raise DomainError(f"组织{org.get_status_display()}，不能修改", code="inactive")
    clean = clean_org_fields(dict(fields), exclude_id=org.id)
    if "org_type" in clean and clean["org_type"] != org.org_type:
        if "org_type" in org_fields_locked(actor=actor, org=org):
            raise PermissionDenied("变更组织类型须由上级工会办理")
        check_placement(org_type=clean["org_type"], parent=Organisation.objects.get_parent(org))
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
    org_event(actor, "org.update", org, {"changes": changes})
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
    org_event(actor, "org.reveal_contact_phone", org, {"field": "contact_phone", "reason": reason})
    return org.contact_phone


@transaction.atomic
def org_move(*, actor: Actor, org: Organisation, new_parent: Organisation) -> Organisation:
    """Move `org` and its whole subtree under `new_parent`. Refused under its own descendant."""
    org = org_get(actor=actor, org_id=org.id)
    new_parent = org_get(actor=actor, org_id=new_parent.id)
    require_structure_below_scope_root(actor, org)
    if new_parent.path.startswith(org.path):
        raise ValidationFailed({"new_parent": "不能把组织移动到它自己或它的下级组织之下"})
    old_parent = Organisation.objects.get_parent(org)
    if old_parent and old_parent.id == new_parent.id:
        raise ValidationFailed({"new_parent": "该组织已在所选上级组织之下"})
    if org.status != OrgStatus.ACTIVE:
        raise DomainError(f"组织{org.get_status_display()}，不能移动", code="inactive")
    check_placement(org_type=org.org_type, parent=new_parent)
    descendant_levels = subtree_of(org).exclude(id=org.id).values_list("level", flat=True).distinct()
    for level in descendant_levels:
        if LEVEL_RANK[OrgLevel(level)] <= LEVEL_RANK[OrgLevel(new_parent.level)]:
            raise ValidationFailed({"new_parent": "下级组织中有层级不低于新上级的组织，不能移动到此处"})
    old_path = org.path
    descendants = subtree_of(org).count() - 1
    Organisation.objects.move(org, new_parent, pos="last-child")
    org.refresh_from_db()
    figures_move_subtree(org, old_parent_path=old_path[:-STEPLEN])
    org_event(
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
    require_structure_below_scope_root(actor, org)
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
    org_event(actor, "org.dissolve", org, {"reason": reason})
    return org


@transaction.atomic
def org_merge(*, actor: Actor, org: Organisation, into: Organisation, reason: str) -> Organisation:
    """合并: `org`'s active children move under `into`, the employers it covers are covered by `into`, and `org`
    is kept with status 已合并 pointing at `into`."""
    org = org_get(actor=actor, org_id=org.id)
    into = org_get(actor=actor, org_id=into.id)
    require_structure_below_scope_root(actor, org)
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
        check_placement(org_type=child.org_type, parent=into)
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
    org_event(
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
