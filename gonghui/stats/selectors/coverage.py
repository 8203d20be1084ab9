"""入会率 and 入库率 with their flags: what makes a declared figure stale, and who may read figures."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Sum
from django.db.models.functions import Substr

from gonghui.common.actor import Actor
from gonghui.common.errors import NotFound
from gonghui.common.paths import STEPLEN
from gonghui.common.roles import Perm
from gonghui.members.models import (
    EmploymentForm,
)
from gonghui.orgs.models import (
    Organisation,
    OrgFigures,
)

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
    row = OrgFigures.objects.filter(
        org__path__startswith=org.path, own_declared__isnull=False, registered_in_declared__gt=F("own_declared")
    ).aggregate(unions=Count("org_id"), excess=Sum(F("registered_in_declared") - F("own_declared"), default=0))
    return Stale(row["unions"], row["excess"])


def stale_declarations_below(org: Organisation) -> dict:
    """child id -> Stale of each organisation directly below `org` (only those with any): one grouped query over the
    few declared unions that are over their declaration."""
    step = len(org.path) + STEPLEN
    rows = (
        OrgFigures.objects.filter(
            org__path__startswith=org.path,
            org__depth__gt=org.depth,
            own_declared__isnull=False,
            registered_in_declared__gt=F("own_declared"),
        )
        .annotate(child_path=Substr("org__path", 1, step))
        .values("child_path")
        .annotate(unions=Count("org_id"), excess=Sum(F("registered_in_declared") - F("own_declared")))
        .order_by()
    )
    by_path = {row["child_path"]: Stale(row["unions"], row["excess"]) for row in rows}
    if not by_path:
        return {}
    ids = dict(Organisation.objects.filter(path__in=list(by_path)).values_list("path", "id"))
    return {ids[path]: stale for path, stale in by_path.items() if path in ids}


def require_figures(actor: Actor, org: Organisation) -> None:
    actor.require(Perm.STATS_VIEW)
    if not actor.covers_path(org.path):
        raise NotFound()
