"""What the registry's services share: the scope and role checks, the union a member may join, dates typed by a
cadre, row locks, and the marker of a keyword argument left out (a correction changes only what it is given)."""

from datetime import date
from enum import Enum
from typing import Any, TypeVar, cast

from django.db.models import Model

from gonghui.common.actor import Actor
from gonghui.common.errors import NotFound, ValidationFailed
from gonghui.common.roles import Perm
from gonghui.orgs.models import Organisation, OrgStatus

JOIN_DECISION_WORKING_DAYS = 15
TRANSFER_STEP_WORKING_DAYS = 10

M = TypeVar("M", bound=Model)


class Unset(Enum):
    """The default of a keyword the caller did not pass: "leave as it is", unlike None or "" (clear it)."""

    UNSET = "unset"


UNSET = Unset.UNSET


def given(**fields: Any) -> dict[str, Any]:
    """The keywords the caller passed, by name (those left UNSET dropped)."""
    return {name: value for name, value in fields.items() if value is not UNSET}


def _require_in_scope(actor: Actor, org: Organisation) -> None:
    if not actor.covers_path(org.path):
        raise NotFound()


def _require_manage(actor: Actor, org: Organisation) -> None:
    actor.require(Perm.MEMBERS_MANAGE)
    _require_in_scope(actor, org)


def _require_open_union(org: Organisation, *, field: str = "org") -> None:
    if not org.is_grassroots:
        raise ValidationFailed({field: f"“{org.name}”不是基层工会，会员只能加入基层工会或联合基层工会"})
    if org.status != OrgStatus.ACTIVE:
        raise ValidationFailed({field: f"“{org.name}”{org.get_status_display()}，不能接收会员"})


def require_import_target(actor: Actor, org: Organisation) -> None:
    """A roster may be imported into an open grassroots union in the actor's scope."""
    actor.require(Perm.MEMBERS_IMPORT)
    _require_in_scope(actor, org)
    _require_open_union(org)


def _clean_date(value: date | None, *, field: str, label: str, today: date) -> date:
    if value is None:
        return today
    if not isinstance(value, date):
        raise ValidationFailed({field: f"{label}格式应为 YYYY-MM-DD"})
    if value > today:
        raise ValidationFailed({field: f"{label}不能晚于今天"})
    return value


def _lock(model: type[M], pk: Any) -> M:
    return cast(M, cast(Any, model).objects.select_for_update(of=("self",)).select_related().get(pk=pk))
