"""入会率 and 入库率 with their flags: what makes a declared figure stale, and who may read figures."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from gonghui.common.actor import Actor
from gonghui.common.errors import NotFound
from gonghui.common.roles import Perm
from gonghui.members.models import (
    EmploymentForm,
)
from gonghui.orgs.figures import over_declared, over_declared_below
from gonghui.orgs.models import Organisation
from gonghui.orgs.selectors import orgs_by_path

AGE_BANDS = (("35岁及以下", 0, 35), ("36至45岁", 36, 45), ("46至55岁", 46, 55), ("56岁及以上", 56, 200))
FORM_LABELS = [(f"form_{form.value}", form.label) for form in EmploymentForm] + [("form_unknown", "未填写")]
POINT_IN_TIME = ("members", "male", "female", "new_employment", "migrant")


def percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


COVERAGE_STALE = "实有会员数待更新"


@dataclass(frozen=True)
class Stale:
    """Declared unions whose registered members outnumber their declared 实有会员数 (a figure to update), and by
    how many members in all."""

    unions: int = 0
    excess: int = 0


NOTHING_STALE = Stale()


def coverage_of(registered: int, declared: int, stale: Stale = NOTHING_STALE) -> Decimal | None:
    """入库率, never over 100%: each union counts at most its declared total; None (shown as 实有会员数待更新) when
    the registered members outnumber the declared ones on the whole, and when nothing is declared."""
    if not declared or registered > declared:
        return None
    return percent(registered - stale.excess, declared)


def stale_declarations(org: Organisation) -> Stale:
    """The declared unions of `org`'s subtree (itself included) whose registered members exceed their declaration.
    A grassroots union has no unions below it, so its registered_in_declared is its own."""
    row = over_declared(org)
    return Stale(row["unions"], row["excess"])


def stale_declarations_below(org: Organisation) -> dict:
    """child id -> Stale of each organisation directly below `org` (only those with any): one grouped query over the
    few declared unions that are over their declaration."""
    by_path = {row["child_path"]: Stale(row["unions"], row["excess"]) for row in over_declared_below(org)}
    if not by_path:
        return {}
    ids = dict(orgs_by_path(list(by_path)).values_list("path", "id"))
    return {ids[path]: stale for path, stale in by_path.items() if path in ids}


def require_figures(actor: Actor, org: Organisation) -> None:
    actor.require(Perm.STATS_VIEW)
    if not actor.covers_path(org.path):
        raise NotFound()
