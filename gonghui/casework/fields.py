"""The fields the service centre's writes take as keyword arguments. Every set is `total=False`: the values come
from a form as typed and each service checks them (a missing or blank required field is refused with the same
message as before), so a key left out is reported by the check, not by the call."""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, TypedDict


class HouseholdRow(TypedDict, total=False):
    """One member of a hardship household."""

    name: str
    relation: str
    situation: str
    annual_income: str | Decimal | int


class HardshipFileFields(TypedDict, total=False):
    """A 困难职工档案 as `hardship_file_establish` and `hardship_file_verify` take it; on verification a household
    left out keeps the members on file."""

    tier: str
    causes: str | list[str] | tuple[str, ...]
    household_size: str | int
    household_income: str | Decimal | int
    household: list[HouseholdRow] | list[dict[str, Any]]


class AidGrantFields(TypedDict, total=False):
    """One aid granted to a file (`hardship_aid_grant`)."""

    form: str
    amount: str | Decimal | int
    description: str


class AidPayFields(TypedDict, total=False):
    """The payment of a granted aid (`hardship_aid_pay`)."""

    paid_method: str
    paid_amount: str | Decimal | int
    paid_on: str | date
    receiver: str
    signer: str
    receipt_no: str


class PlanFields(TypedDict, total=False):
    """A mutual-insurance plan (`plan_create`); the ratio is a percentage (50 means half)."""

    name: str
    year: str | int
    starts_on: str | date
    ends_on: str | date
    premium: str | Decimal | int
    daily_allowance: str | Decimal | int
    max_days: str | int
    deductible: str | Decimal | int
    reimbursement_ratio: str | Decimal | int
    claim_cap: str | Decimal | int
    annual_cap: str | Decimal | int


class CampaignFields(TypedDict, total=False):
    """A care campaign (`campaign_create`)."""

    kind: str
    name: str
    starts_on: str | date
    ends_on: str | date
    budget: str | Decimal | int


class CaseOutcome(TypedDict, total=False):
    """What `case_close` takes besides the result, by the case's type (see docs/casework.md): hardship: granted,
    tier, aid_form, amount, aid_description; legal: outcome, amount_recovered; insurance: payable, reference;
    student: granted, amount. A field the type does not use is ignored."""

    granted: bool | str
    tier: str
    aid_form: str
    amount: str | Decimal | int
    aid_description: str
    outcome: str
    amount_recovered: str | Decimal | int
    payable: bool | str
    reference: str


class AidRuleFields(TypedDict, total=False):
    """The standard for one 困难类别 (`aid_rules_update` takes one per tier): whether a first filing needs the
    parent union's approval (a ticked box: True, "1", "true", "on" or "yes") and the limit of a single grant."""

    file_needs_approval: bool | str | None
    grant_limit: str | Decimal | int | None


# A service application as typed into the kind's form: the common fields (summary, amount_requested) and the
# fields the kind declares (kinds.py); a multiple choice is a list. The kind decides which keys are read.
ApplicationFields = Mapping[str, str | list[str]]
