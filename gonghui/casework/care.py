"""慰问 (送温暖 / 送清凉 / 节日慰问): a union (usually a federation) sets up a campaign with a budget; the unions
below record their visits in batches (a person from the registry, or a group such as a team or a site, with money
and goods). A batch is all or nothing and may not take the campaign over its budget."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Unpack

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from gonghui.audit.services import audit_record
from gonghui.casework.fields import CampaignFields
from gonghui.casework.kinds import clean_choice, clean_date, clean_int, clean_money, clean_text
from gonghui.casework.models import CareCampaign, CareKind, CareVisit
from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError, NotFound, ValidationFailed
from gonghui.common.roles import Perm
from gonghui.members.selectors import holding_membership_by_card
from gonghui.orgs.models import Organisation

MAX_BATCH = 500


@transaction.atomic
def campaign_create(*, actor: Actor, org: Organisation, **fields: Unpack[CampaignFields]) -> CareCampaign:
    data: Mapping[str, Any] = fields
    actor.require(Perm.CASES_CONFIGURE)
    if not actor.covers_path(org.path):
        raise NotFound()
    starts_on = clean_date(data, "starts_on", "开始日期")
    ends_on = clean_date(data, "ends_on", "结束日期")
    if ends_on < starts_on:
        raise ValidationFailed({"ends_on": "结束日期不能早于开始日期"})
    campaign = CareCampaign.objects.create(
        org=org,
        kind=clean_choice(data, "kind", "慰问类型", CareKind),
        name=clean_text(data, "name", "活动名称"),
        starts_on=starts_on,
        ends_on=ends_on,
        budget=clean_money(data, "budget", "预算", positive=True),
        created_by=actor.label[:150],
    )
    audit_record(
        actor=actor,
        action="care.campaign_create",
        object_type="care_campaign",
        object_id=campaign.id,
        object_label=campaign.name,
        object_org_path=org.path,
        details={"budget": str(campaign.budget)},
    )
    return campaign


def campaign_spent(campaign: CareCampaign) -> Decimal:
    totals = campaign.visits.aggregate(money=Sum("money"), goods=Sum("goods_value"))
    return (totals["money"] or Decimal("0")) + (totals["goods"] or Decimal("0"))


def campaign_totals(campaign: CareCampaign) -> dict:
    """活动合计: visits, people reached, money, goods value, spent and what is left of the budget."""
    totals = campaign.visits.aggregate(
        visits=Count("id"), people=Sum("headcount"), money=Sum("money"), goods=Sum("goods_value")
    )
    money = totals["money"] or Decimal("0")
    goods = totals["goods"] or Decimal("0")
    return {
        "visits": totals["visits"],
        "people": totals["people"] or 0,
        "money": money,
        "goods_value": goods,
        "spent": money + goods,
        "remaining": campaign.budget - money - goods,
    }


def _visit_from_row(campaign: CareCampaign, org: Organisation, row: dict, by: str) -> CareVisit:
    card_number = str(row.get("card_number") or "").strip()
    group_name = clean_text(row, "group_name", "慰问群体", required=False)
    if bool(card_number) == bool(group_name):
        raise ValidationFailed(
            {"card_number": "每条记录填写会员卡号（慰问个人）或慰问群体名称（慰问群体），二者填一项"}
        )
    person = None
    headcount = 1
    if card_number:
        membership = holding_membership_by_card(card_number, within=org).first()
        if membership is None:
            raise ValidationFailed({"card_number": f"会员卡号 {card_number} 不是“{org.name}”范围内的在册会员"})
        person = membership.person
    else:
        headcount = clean_int(row, "headcount", "慰问人数", low=1, high=100_000)
    visited_on = clean_date(row, "visited_on", "慰问日期")
    if not campaign.starts_on <= visited_on <= campaign.ends_on:
        raise ValidationFailed(
            {"visited_on": f"慰问日期应在活动期间（{campaign.starts_on:%Y-%m-%d} 至 {campaign.ends_on:%Y-%m-%d}）"}
        )
    if visited_on > timezone.localdate():
        raise ValidationFailed({"visited_on": "慰问日期不能晚于今天"})
    money = clean_money(row, "money", "慰问金", required=False) or Decimal("0.00")
    goods = clean_text(row, "goods", "慰问品", required=False, max_length=200)
    goods_value = clean_money(row, "goods_value", "慰问品折价", required=False) or Decimal("0.00")
    if goods_value and not goods:
        raise ValidationFailed({"goods": "填写了慰问品折价，请同时写明慰问品"})
    if not money and not goods:
        raise ValidationFailed({"money": "请填写慰问金或慰问品"})
    return CareVisit(
        campaign=campaign,
        org=org,
        person=person,
        group_name=group_name,
        headcount=headcount,
        money=money,
        goods=goods,
        goods_value=goods_value,
        visited_on=visited_on,
        recorded_by=by,
    )


@transaction.atomic
def care_visits_record(*, actor: Actor, campaign: CareCampaign, org: Organisation, rows: list[dict]) -> list[CareVisit]:
    """Record a batch of visits made by `org` (in the campaign's subtree and the actor's). Every row is checked
    first; one bad row records nothing and names its line."""
    actor.require(Perm.CASES_MANAGE)
    if not actor.covers_path(org.path):
        raise NotFound()
    if not org.path.startswith(campaign.org.path):
        raise ValidationFailed({"org": f"“{org.name}”不在“{campaign.org.name}”组织的活动范围内"})
    campaign = CareCampaign.objects.select_for_update(of=("self",)).select_related("org").get(pk=campaign.pk)
    visits = []
    for number, row in enumerate(rows, start=1):  # numbered as the form shows them, blank lines included
        if not any(str(value or "").strip() for value in row.values()):
            continue
        try:
            visits.append(_visit_from_row(campaign, org, row, actor.label[:150]))
        except ValidationFailed as exc:
            raise ValidationFailed({"rows": f"第{number}条：{exc.message}"}) from None
    if not visits:
        raise ValidationFailed({"rows": "请至少填写一条慰问记录"})
    if len(visits) > MAX_BATCH:
        raise ValidationFailed({"rows": f"每批最多 {MAX_BATCH} 条，请分批录入"})
    batch = sum((visit.money + visit.goods_value for visit in visits), Decimal("0"))
    remaining = campaign.budget - campaign_spent(campaign)
    if batch > remaining:
        raise DomainError(f"本批合计 {batch} 元，超出活动剩余预算 {remaining} 元，请调整后再录入", code="over_budget")
    CareVisit.objects.bulk_create(visits)
    audit_record(
        actor=actor,
        action="care.visits_record",
        object_type="care_campaign",
        object_id=campaign.id,
        object_label=campaign.name,
        object_org_path=org.path,
        details={"visits": len(visits), "amount": str(batch), "org": org.code},
    )
    return visits
