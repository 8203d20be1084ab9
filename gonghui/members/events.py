"""The registry's audit events: one function per kind of record (person, membership, join application, transfer,
correction, declared total, bulk load, search, binding), each writing one AuditEvent through
`audit.services.audit_record`. The services decide when; this module alone decides what the trail says: the
action, the object (type, id, label: names masked) and the organisation the event is filed under. Each is called
inside the caller's transaction, except where a function says otherwise."""

from datetime import date
from typing import Any

from django.db import transaction

from gonghui.audit.models import AuditResult
from gonghui.audit.services import audit_record
from gonghui.common.actor import Actor
from gonghui.common.masking import mask_name
from gonghui.members.models import (
    CorrectionRequest,
    JoinApplication,
    MemberAccount,
    Membership,
    Person,
    TransferRequest,
)
from gonghui.orgs.models import Organisation


def membership_label(membership: Membership) -> str:
    """A membership on the trail: the masked name and the card number."""
    return f"{mask_name(membership.person.name)}（{membership.card_number}）"


# ---------------------------------------------------------------- people


def person_created(actor: Actor, person: Person, org: Organisation) -> None:
    """`person.create`: a new registry record, filed under the union it was entered for."""
    audit_record(
        actor=actor,
        action="person.create",
        object_type="person",
        object_id=person.id,
        object_label=mask_name(person.name),
        object_org_path=org.path,
        details={"doc_type": person.doc_type, "doc": person.doc_masked},
    )


def person_corrected(actor: Actor, person: Person, org: Organisation, changes: dict[str, list[str]]) -> None:
    """`person.correct`: before/after of each changed field, personal numbers and names masked by the caller."""
    audit_record(
        actor=actor,
        action="person.correct",
        object_type="person",
        object_id=person.id,
        object_label=mask_name(person.name),
        object_org_path=org.path,
        details={"changes": changes},
    )


def person_revealed(actor: Actor, person: Person, org: Organisation, *, field: str, reason: str) -> None:
    """`person.reveal`: a cadre read one full number of the record, with the stated reason."""
    audit_record(
        actor=actor,
        action="person.reveal",
        object_type="person",
        object_id=person.id,
        object_label=mask_name(person.name),
        object_org_path=org.path,
        details={"field": field, "reason": reason},
    )


def search_by_number(actor: Actor, *, org_path: str, criteria: dict[str, Any], purpose: str = "") -> None:
    """`member.search_by_number`: the registry was searched by a document number or mobile (criteria masked)."""
    audit_record(
        actor=actor,
        action="member.search_by_number",
        object_type="membership",
        object_org_path=org_path,
        details={"criteria": criteria} | ({"purpose": purpose} if purpose else {}),
    )


# ---------------------------------------------------------------- memberships


def membership_event(actor: Actor, action: str, membership: Membership, details: dict[str, Any] | None = None) -> None:
    """`membership.enrol`, `.leave`, `.cancel`, `.reserve`, `.restore`: filed under the membership's union."""
    audit_record(
        actor=actor,
        action=action,
        object_type="membership",
        object_id=membership.id,
        object_label=membership_label(membership),
        object_org_path=membership.org.path,
        details=details or {},
    )


def members_bulk_loaded(actor: Actor, org: Organisation, *, count: int, source: str) -> None:
    """`membership.bulk_load`: one event for a batch of new members of `org`."""
    audit_record(
        actor=actor,
        action="membership.bulk_load",
        object_type="organisation",
        object_id=org.id,
        object_label=org.name,
        object_org_path=org.path,
        details={"count": count, "source": source},
    )


def declared_total_recorded(actor: Actor, org: Organisation, *, total: int, as_of: date) -> None:
    """`declared_total.record`: a union's 实有会员数 as its own books state it."""
    audit_record(
        actor=actor,
        action="declared_total.record",
        object_type="organisation",
        object_id=org.id,
        object_label=org.name,
        object_org_path=org.path,
        details={"total": total, "as_of": as_of.isoformat()},
    )


# ---------------------------------------------------------------- join applications


def application_event(
    actor: Actor, action: str, application: JoinApplication, details: dict[str, Any] | None = None
) -> None:
    """`join_application.submit`, `.approve`, `.reject`, `.withdraw`, `.convert`: filed under the union applied to."""
    audit_record(
        actor=actor,
        action=action,
        object_type="join_application",
        object_id=application.id,
        object_label=mask_name(application.person.name),
        object_org_path=application.org.path,
        details=details or {},
    )


# ---------------------------------------------------------------- transfers


def transfer_requested(actor: Actor, transfer: TransferRequest, membership: Membership, *, by_member: bool) -> None:
    """`transfer.request`: labelled with the membership that moves, filed under its (source) union."""
    audit_record(
        actor=actor,
        action="transfer.request",
        object_type="transfer",
        object_id=transfer.id,
        object_label=membership_label(membership),
        object_org_path=membership.org.path,
        details={"from": membership.org.code, "to": transfer.to_org.code, "by_member": by_member},
    )


def transfer_event(
    actor: Actor, action: str, transfer: TransferRequest, org: Organisation, details: dict[str, Any] | None = None
) -> None:
    """`transfer.release`, `.accept`, `.refuse`, `.withdraw`, `.escalate`: filed under the side that acted (`org`)."""
    audit_record(
        actor=actor,
        action=action,
        object_type="transfer",
        object_id=transfer.id,
        object_label=f"{mask_name(transfer.person.name)}：{transfer.from_org.code} → {transfer.to_org.code}",
        object_org_path=org.path,
        details=details or {},
    )


# ---------------------------------------------------------------- corrections asked for by members


def correction_submitted(actor: Actor, correction: CorrectionRequest, person: Person, org: Organisation) -> None:
    """`correction.submit`: a member asked for fields of their record to be corrected; filed under the union
    holding them (`org`)."""
    audit_record(
        actor=actor,
        action="correction.submit",
        object_type="correction",
        object_id=correction.id,
        object_label=mask_name(person.name),
        object_org_path=org.path,
        details={"fields": sorted(correction.changes)},
    )


def correction_closed(actor: Actor, action: str, correction: CorrectionRequest, *, reason: str) -> None:
    """`correction.apply`, `correction.reject`: the fields asked for and the union's reason."""
    audit_record(
        actor=actor,
        action=action,
        object_type="correction",
        object_id=correction.id,
        object_label=mask_name(correction.person.name),
        object_org_path=correction.org.path,
        details={"fields": sorted(correction.changes), "reason": reason},
    )


# ---------------------------------------------------------------- member accounts


def binding_refused(actor: Actor, account: MemberAccount, *, reason: str) -> None:
    """`member.bind` refused: written in its own transaction, since the caller's is about to roll back."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="member.bind",
            object_type="member_account",
            object_id=account.id,
            object_label=account.phone_masked,
            result=AuditResult.FAILED,
            details={"reason": reason},
        )


def member_signed_in(actor: Actor, account: MemberAccount, *, org_path: str, method: str) -> None:
    """`member.login`: filed under the union holding the bound person (`org_path`, "" when unbound)."""
    audit_record(
        actor=actor,
        action="member.login",
        object_type="member_account",
        object_id=account.id,
        object_label=account.phone_masked,
        object_org_path=org_path,
        details={"method": method},
    )


def member_password_saved(actor: Actor, account: MemberAccount, *, had_password: bool) -> None:
    """`member.password_change` (there was one) or `member.password_set` (the first)."""
    audit_record(
        actor=actor,
        action="member.password_change" if had_password else "member.password_set",
        object_type="member_account",
        object_id=account.id,
        object_label=account.phone_masked,
    )


def member_bound(actor: Actor, account: MemberAccount, person: Person, *, org_path: str, phone_recorded: bool) -> None:
    """`member.bind`: the account was bound to the registry record `person`."""
    audit_record(
        actor=actor,
        action="member.bind",
        object_type="person",
        object_id=person.id,
        object_label=account.phone_masked,
        object_org_path=org_path,
        details={"phone_recorded": phone_recorded},
    )


def member_unbound(actor: Actor, account: MemberAccount, person: Person, org: Organisation, *, reason: str) -> None:
    """`member.unbind`: a cadre of `org` undid an account's binding, with the stated reason (at most 200 characters,
    cut by the caller)."""
    audit_record(
        actor=actor,
        action="member.unbind",
        object_type="person",
        object_id=person.id,
        object_label=account.phone_masked,
        object_org_path=org.path,
        details={"reason": reason},
    )


# ---------------------------------------------------------------- the member's own record


def person_revealed_own(actor: Actor, person: Person, *, org_path: str, field: str) -> None:
    """`person.reveal_own`: a member read one full number of their own record."""
    audit_record(
        actor=actor,
        action="person.reveal_own",
        object_type="person",
        object_id=person.id,
        object_label=mask_name(person.name),
        object_org_path=org_path,
        details={"field": field},
    )


# ---------------------------------------------------------------- cards and exports


def card_verified(actor: Actor, *, card_number: str, valid: bool, reason: str) -> None:
    """`card.verify`: a scanned card checked (failed when the card is not valid), labelled with its number."""
    audit_record(
        actor=actor,
        action="card.verify",
        object_type="membership",
        object_label=card_number,
        result=AuditResult.SUCCESS if valid else AuditResult.FAILED,
        details={"valid": valid, "reason": reason},
    )


def members_exported(actor: Actor, root: Organisation, *, rows: int, job: str, fmt: str, reason: str) -> None:
    """`member.export`: the roster of `root`'s subtree written to a file (masked unless a reason was stated)."""
    audit_record(
        actor=actor,
        action="member.export",
        object_type="organisation",
        object_id=root.id,
        object_label=f"{root.name}（{root.code}）",
        object_org_path=root.path,
        details={"rows": rows, "job": job, "masked": not reason, "format": fmt}
        | ({"reason": reason} if reason else {}),
    )
