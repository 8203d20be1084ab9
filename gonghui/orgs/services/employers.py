"""Writes to the employer registry: validate, create, update, bulk create."""

from copy import copy
from typing import Any, Unpack

from django.db import IntegrityError, transaction

from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError, NotFound, ValidationFailed
from gonghui.common.geo import clean_coordinates
from gonghui.common.roles import Perm
from gonghui.common.validators import (
    normalise_uscc,
    to_half_width,
)
from gonghui.orgs import events
from gonghui.orgs.figures import figures_employers_changed
from gonghui.orgs.models import (
    Employer,
    Industry,
    Organisation,
    OrgStatus,
    OrgType,
)
from gonghui.orgs.selectors import employer_get, org_get
from gonghui.orgs.services.fields import EmployerFields

# ---------------------------------------------------------------- employers


def employer_validate(*, actor: Actor, fields: dict[str, Any], employer: Employer | None = None) -> dict[str, Any]:
    return _clean_employer_fields(fields, actor=actor, exclude_id=employer.id if employer else None)


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


@transaction.atomic
def employer_create(*, actor: Actor, **fields: Unpack[EmployerFields]) -> Employer:
    actor.require(Perm.EMPLOYERS_EDIT)
    required = ("name", "uscc", "employee_count", "industry", "town_org")
    missing = {f: "此项为必填项" for f in required if fields.get(f) in (None, "")}
    if missing:
        raise ValidationFailed(missing)
    clean = _clean_employer_fields(dict(fields), actor=actor)
    try:
        with transaction.atomic():
            employer = Employer.objects.create(**clean)
    except IntegrityError as exc:
        raise DomainError("该统一社会信用代码的单位已登记", code="conflict") from exc
    events.employer_event(
        actor,
        "employer.create",
        employer,
        {"covering_union": str(employer.covering_union_id) if employer.covering_union_id else None},
    )
    figures_employers_changed([], [(employer.town_org.path, employer)])
    return employer


@transaction.atomic
def employer_update(*, actor: Actor, employer: Employer, **fields: Unpack[EmployerFields]) -> Employer:
    actor.require(Perm.EMPLOYERS_EDIT)
    employer = employer_get(actor=actor, employer_id=employer.id)
    clean = _clean_employer_fields(dict(fields), actor=actor, exclude_id=employer.id)
    before = [(employer.town_org.path, copy(employer))]
    changes = {}
    for name, value in clean.items():
        old = getattr(employer, name)
        if old != value:
            changes[name] = [str(getattr(old, "id", old)), str(getattr(value, "id", value))]
            setattr(employer, name, value)
    if changes:
        employer.save(update_fields=[*clean.keys(), "updated_at"])
        events.employer_event(actor, "employer.update", employer, {"changes": changes})
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
    events.employers_bulk_created(actor, count=len(employers))
    paths = dict(Organisation.objects.filter(id__in=orgs).values_list("id", "path"))
    figures_employers_changed([], [(paths[e.town_org_id], e) for e in employers])
    return len(employers)
