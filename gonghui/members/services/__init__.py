"""Writes to the member registry. Each service checks the actor's role and scope, locks the rows it decides on
(two cadres acting at once: one wins, the other is told the case has moved on), writes in one transaction and
records the audit event (`members.events`) in that transaction. Invalid transitions raise and change nothing.

One module per concern; this package re-exports their public names, so callers import from
`gonghui.members.services`. A private helper (leading underscore) is imported from the module that defines it,
and a test that patches a name patches it in the module that looks it up.

  people        the person's record: found or registered from input, corrected, its numbers revealed
  enrolment     干部录入 straight into a union (and the profile keywords enrolment and applications take)
  applications  入会申请: submitted, approved, refused, withdrawn, turned into a transfer
  transfers     会员接转: request, release, accept, refuse, withdraw, escalation of overdue steps
  memberships   starting a membership; 退会, 注销, 保留会籍, restore; declared 实有会员数; quality re-check
  cards         会员卡号 serials, the bulk load of checked people, the key rotation of sealed numbers
  corrections   corrections asked for by members: apply, reject
  _common       scope and role checks, open unions, typed dates, row locks, the UNSET keyword default
"""

from gonghui.members.services._common import (
    JOIN_DECISION_WORKING_DAYS,
    TRANSFER_STEP_WORKING_DAYS,
    UNSET,
    Unset,
    require_import_target,
)
from gonghui.members.services.applications import (
    DUPLICATE_HERE_MESSAGE,
    DUPLICATE_OWN_MESSAGE,
    close_application,
    join_application_approve,
    join_application_convert_to_transfer,
    join_application_reject,
    join_application_submit,
    join_application_withdraw,
)
from gonghui.members.services.cards import card_serials_reserve, members_bulk_load, people_reseal
from gonghui.members.services.corrections import correction_request_apply, correction_request_reject
from gonghui.members.services.enrolment import member_enrol, sixteenth_birthday
from gonghui.members.services.memberships import (
    ALREADY_MEMBER_ELSEWHERE,
    declared_total_record,
    membership_cancel,
    membership_leave,
    membership_reserve,
    membership_restore,
    quality_recheck,
)
from gonghui.members.services.people import (
    NAME_MISMATCH_MESSAGE,
    REVEALABLE,
    PersonProfile,
    current_case_org_in_scope,
    membership_reveal,
    person_reveal,
    person_update,
)
from gonghui.members.services.transfers import (
    lowest_common_parent,
    transfer_accept,
    transfer_refuse,
    transfer_release,
    transfer_request,
    transfer_request_by_member,
    transfer_request_incoming,
    transfer_withdraw,
    transfers_escalate_overdue,
)

__all__ = [
    "ALREADY_MEMBER_ELSEWHERE",
    "DUPLICATE_HERE_MESSAGE",
    "DUPLICATE_OWN_MESSAGE",
    "JOIN_DECISION_WORKING_DAYS",
    "NAME_MISMATCH_MESSAGE",
    "REVEALABLE",
    "TRANSFER_STEP_WORKING_DAYS",
    "UNSET",
    "PersonProfile",
    "Unset",
    "card_serials_reserve",
    "close_application",
    "correction_request_apply",
    "correction_request_reject",
    "current_case_org_in_scope",
    "declared_total_record",
    "join_application_approve",
    "join_application_convert_to_transfer",
    "join_application_reject",
    "join_application_submit",
    "join_application_withdraw",
    "lowest_common_parent",
    "member_enrol",
    "members_bulk_load",
    "membership_cancel",
    "membership_leave",
    "membership_reserve",
    "membership_restore",
    "membership_reveal",
    "people_reseal",
    "person_reveal",
    "person_update",
    "quality_recheck",
    "require_import_target",
    "sixteenth_birthday",
    "transfer_accept",
    "transfer_refuse",
    "transfer_release",
    "transfer_request",
    "transfer_request_by_member",
    "transfer_request_incoming",
    "transfer_withdraw",
    "transfers_escalate_overdue",
]
