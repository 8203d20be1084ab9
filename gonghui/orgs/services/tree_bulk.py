"""Building many organisations at once (the demo, benchmarks and the organisation import's new branches)."""

from dataclasses import dataclass
from datetime import date

from django.db import transaction

from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError, ValidationFailed
from gonghui.common.paths import STEPLEN
from gonghui.common.roles import Perm
from gonghui.orgs import events
from gonghui.orgs.models import (
    TYPE_LEVEL,
    Organisation,
    OrgLevel,
)
from gonghui.orgs.services.fields import LEVEL_RANK

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
    events.orgs_bulk_created(actor, count=len(rows), parents=sorted(existing_parent_codes)[:20])
    return len(rows)
