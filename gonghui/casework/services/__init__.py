"""Writes of the service centre's common workflow: open a case (member online or cadre on the member's behalf),
受理 / 不予受理, 开始办理, 办结 (with each type's closing step), withdraw, rate, attach evidence, escalate overdue
cases, and the callback sample. Each service checks role and scope, locks the case it moves (two cadres at once:
one wins, the other is told the case moved on), writes in one transaction with its audit event (events.py), and
refuses invalid transitions without changing anything.

One module per part of the workflow: opening, transitions, closing, attachments, callbacks; what they share is in
common. The public names are re-exported here, so callers import them from gonghui.casework.services."""

from gonghui.casework.services.attachments import (
    attachment_view_record,
    case_attach,
    check_attachment,
    member_case_attach,
)
from gonghui.casework.services.callbacks import (
    callback_record,
    callbacks_draw,
    case_view_record,
    cases_escalate_overdue,
    figures_export_record,
)
from gonghui.casework.services.closing import CLOSERS, approved_case_close, case_close, refused_case_return
from gonghui.casework.services.common import (
    ATTACHMENT_SIGNATURES,
    CALLBACK_DEFAULT_SHARE,
    CASES_PER_DAY,
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    ONE_GRANT_A_YEAR,
    county_level_union,
    route_case,
)
from gonghui.casework.services.opening import Consent, case_enter, member_case_apply
from gonghui.casework.services.transitions import (
    case_accept,
    case_reject,
    case_start,
    case_withdraw,
    member_case_rate,
    member_case_withdraw,
)
from gonghui.common.errors import CaseMovedOn
from gonghui.common.validators import REASON_MAX

__all__ = [
    "ATTACHMENT_SIGNATURES",
    "CALLBACK_DEFAULT_SHARE",
    "CASES_PER_DAY",
    "CLOSERS",
    "MAX_ATTACHMENTS",
    "MAX_ATTACHMENT_BYTES",
    "ONE_GRANT_A_YEAR",
    "REASON_MAX",
    "CaseMovedOn",
    "Consent",
    "approved_case_close",
    "attachment_view_record",
    "callback_record",
    "callbacks_draw",
    "case_accept",
    "case_attach",
    "case_close",
    "case_enter",
    "case_reject",
    "case_start",
    "case_view_record",
    "case_withdraw",
    "cases_escalate_overdue",
    "check_attachment",
    "county_level_union",
    "figures_export_record",
    "member_case_apply",
    "member_case_attach",
    "member_case_rate",
    "member_case_withdraw",
    "refused_case_return",
    "route_case",
]
