"""What a member does for themself in the portal: apply to join, withdraw, ask for a transfer, look at their own
numbers, ask for a correction. Every function takes the signed-in MemberAccount and touches only the record bound
to it; an id that belongs to someone else is answered exactly like a missing one.

The registry's own services do the work (same rules, same messages); this module adds the member's side: the
binding, the ownership checks, rate limits and the audit lines of a member acting on their own record.
"""

from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from gonghui.common.crypto import decrypt_text
from gonghui.common.errors import CaseMovedOn, DomainError, ValidationFailed
from gonghui.common.ratelimit import rate_limit_require
from gonghui.common.validators import REASON_MAX
from gonghui.members import events
from gonghui.members.documents import DocumentInvalid, normalise_document
from gonghui.members.member_accounts import (
    BindingRefused,
    audit_binding_refused,
    bind_account_to_person,
    binding_refusal,
    member_actor,
    member_org_path,
    require_bind_allowance,
)
from gonghui.members.models import (
    OPEN_TRANSFER_STATUSES,
    ApplicationStatus,
    CorrectionRequest,
    CorrectionStatus,
    JoinApplication,
    MemberAccount,
    MembershipSource,
    Person,
    TransferRequest,
    TransferStatus,
)
from gonghui.members.people import PHONE_CONTEXT, clean_profile, document_index, document_number_of, phone_of
from gonghui.members.selectors import membership_holding, own_application_get, own_transfer_get
from gonghui.members.services import (
    close_application,
    join_application_submit,
    transfer_request_by_member,
)
from gonghui.orgs.models import Organisation

JOINS_PER_DAY = 10
TRANSFERS_PER_DAY = 10
CORRECTIONS_PER_DAY = 10
REVEALS_PER_HOUR = 20
# What a member may ask their union to correct. Personal numbers are corrected at the union with the document.
CORRECTABLE_FIELDS = (
    "name",
    "ethnicity",
    "education",
    "political_status",
    "hukou_type",
    "employment_form",
    "work_unit",
    "post",
    "skill_level",
)


def _verbose_name(name: str) -> str:
    field = Person._meta.get_field(name)
    assert isinstance(field, models.Field), "a correctable field is a column of the person's record"
    return str(field.verbose_name)


# The labels users read for those fields: the registry's own verbose names.
CORRECTABLE_FIELD_LABELS = {field: _verbose_name(field) for field in CORRECTABLE_FIELDS}
# What an online application must give for a complete registry record (准确率); a bound member has given it before.
REQUIRED_TO_JOIN_ONLINE = {
    "name": "请填写姓名",
    "doc_number": "请填写证件号码",
    "ethnicity": "请选择民族",
    "education": "请选择学历",
    "employment_form": "请选择就业形态",
    "work_unit": "请填写工作单位",
}
OWN_REVEALABLE = {"doc_number": "证件号码", "phone": "手机号码"}


def _bound_person(account: MemberAccount) -> Person:
    if account.person_id is None:
        raise DomainError("请先完成身份核验（绑定会员信息）", code="not_bound")
    return Person.objects.get(pk=account.person_id)


def _daily_limit(kind: str, account: MemberAccount, limit: int) -> None:
    rate_limit_require(
        f"{kind}:{account.id}", limit=limit, window_seconds=86400, message="今日提交次数过多，请明天再试"
    )


# ---------------------------------------------------------------- joining


def member_join_apply(
    *,
    account: MemberAccount,
    org: Organisation,
    consent: bool,
    note: str = "",
    ip: str | None = None,
    doc_type: str = "",
    doc_number: str = "",
    **profile: Any,
) -> JoinApplication:
    """入会申请 from the portal. A bound member applies as their registry record; a worker not yet bound gives name,
    document and profile, and the account is bound to that record in the same transaction (to the existing
    record only when name and phone agree with it, as for binding)."""
    actor = member_actor(account, ip=ip)
    _daily_limit("join", account, JOINS_PER_DAY)
    if account.person_id is not None:
        person = _bound_person(account)
        holding = membership_holding(person)
        if holding is not None:
            raise DomainError(
                f"您已是“{holding.org.name}”的会员。如需转到其他工会，请申请会员接转", code="already_member"
            )
        return join_application_submit(
            actor=actor,
            org=org,
            doc_type=person.doc_type,
            doc_number=document_number_of(person),
            note=note,
            source=MembershipSource.ONLINE,
            consent=consent,
            name=person.name,
        )

    given = {**profile, "doc_number": doc_number}
    missing = {f: message for f, message in REQUIRED_TO_JOIN_ONLINE.items() if not str(given.get(f) or "").strip()}
    if missing:
        raise ValidationFailed(missing)
    name = str(profile.get("name") or "").strip()
    existing = None
    try:
        document = normalise_document(doc_type, doc_number, today=timezone.localdate())
    except DocumentInvalid:
        document = None  # join_application_submit reports it with the other field errors
    if document is not None:
        existing = Person.objects.filter(
            doc_type=document.doc_type, doc_index=document_index(document.doc_type, document.number)
        ).first()
    if existing is not None:
        require_bind_allowance(account, ip)
    refusal = binding_refusal(account=account, person=existing, name=name) if existing is not None else None
    if refusal is None:
        try:
            with transaction.atomic():
                if existing is not None:
                    bind_account_to_person(account=account, person=existing, ip=ip)
                application = join_application_submit(
                    actor=actor,
                    org=org,
                    doc_type=doc_type,
                    doc_number=doc_number,
                    phone=decrypt_text(account.phone_enc, context=PHONE_CONTEXT),
                    note=note,
                    source=MembershipSource.ONLINE,
                    consent=consent,
                    **profile,
                )
                if existing is None:
                    bind_account_to_person(account=account, person=application.person, ip=ip)
                return application
        except BindingRefused as exc:
            refusal = exc
    audit_binding_refused(account=account, refusal=refusal, ip=ip)
    raise refusal


@transaction.atomic
def member_application_withdraw(*, account: MemberAccount, application_id: str, ip: str | None = None):
    """The applicant withdraws their own pending application."""
    application = own_application_get(account=account, application_id=application_id)
    locked = (
        JoinApplication.objects.select_for_update(of=("self",)).select_related("person", "org").get(pk=application.pk)
    )
    if locked.status != ApplicationStatus.PENDING:
        raise CaseMovedOn(f"该申请当前为“{locked.get_status_display()}”，不能撤回")
    actor = member_actor(account, ip=ip)
    close_application(actor, locked, status=ApplicationStatus.WITHDRAWN, reason="申请人撤回")
    events.application_event(actor, "join_application.withdraw", locked, {"by": "applicant"})
    return locked


# ---------------------------------------------------------------- transfers


def member_transfer_request(
    *, account: MemberAccount, to_org: Organisation, reason: str, ip: str | None = None
) -> TransferRequest:
    """会员本人申请接转 from their current union to `to_org`; the source union releases, the target accepts."""
    person = _bound_person(account)
    holding = membership_holding(person)
    if holding is None:
        raise DomainError("您目前不是会员，不能申请接转。请先申请入会", code="not_member")
    _daily_limit("transfer", account, TRANSFERS_PER_DAY)
    return transfer_request_by_member(
        actor=member_actor(account, ip=ip), membership=holding, to_org=to_org, reason=reason
    )


@transaction.atomic
def member_transfer_withdraw(*, account: MemberAccount, transfer_id: str, ip: str | None = None) -> TransferRequest:
    """The member withdraws their own transfer request before the target union accepts it."""
    transfer = own_transfer_get(account=account, transfer_id=transfer_id)
    locked = (
        TransferRequest.objects.select_for_update(of=("self",))
        .select_related("person", "from_org", "to_org")
        .get(pk=transfer.pk)
    )
    if locked.status not in OPEN_TRANSFER_STATUSES:
        raise CaseMovedOn(f"该接转当前为“{locked.get_status_display()}”，不能撤回")
    if not locked.requested_by_member:
        raise DomainError("该接转由工会发起，如需撤回请联系所在工会", code="not_own_request")
    locked.status = TransferStatus.WITHDRAWN
    locked.decided_at = timezone.now()
    locked.decided_by = member_actor(account, ip=ip).label
    locked.save()
    events.transfer_event(member_actor(account, ip=ip), "transfer.withdraw", locked, locked.from_org, {"by": "member"})
    return locked


# ---------------------------------------------------------------- my data


@transaction.atomic
def member_reveal_own(*, account: MemberAccount, field: str, ip: str | None = None) -> str:
    """The member taps to see their own full number; audited like any look at a personal number."""
    if field not in OWN_REVEALABLE:
        raise ValidationFailed({"field": "只能查看证件号码或手机号码"})
    rate_limit_require(f"reveal:{account.id}", limit=REVEALS_PER_HOUR, window_seconds=3600, message="操作过于频繁")
    person = _bound_person(account)
    value = document_number_of(person) if field == "doc_number" else phone_of(person)
    events.person_revealed_own(member_actor(account, ip=ip), person, org_path=member_org_path(person), field=field)
    return value


@transaction.atomic
def member_correction_request(
    *, account: MemberAccount, changes: dict[str, Any], note: str = "", ip: str | None = None
) -> CorrectionRequest:
    """申请更正资料: validated with the registry's rules now, applied by the union later."""
    person = _bound_person(account)
    holding = membership_holding(person)
    if holding is None:
        raise DomainError("入会后才能申请更正资料；入会申请中的信息请撤回后重新提交", code="not_member")
    _daily_limit("correct", account, CORRECTIONS_PER_DAY)
    asked = {field: changes[field] for field in CORRECTABLE_FIELDS if field in changes}
    clean = clean_profile(asked)
    wanted = {field: value for field, value in clean.items() if getattr(person, field) != value}
    if not wanted:
        raise ValidationFailed({"changes": "填写的内容与现有资料相同，没有需要更正的内容"})
    note = (note or "").strip()
    if len(note) > REASON_MAX:
        raise ValidationFailed({"note": f"说明不能超过{REASON_MAX}个字"})
    if CorrectionRequest.objects.filter(person=person, status=CorrectionStatus.PENDING).exists():
        raise DomainError("您已有一份待处理的更正申请，请等待工会处理", code="duplicate_correction")
    try:
        with transaction.atomic():
            correction = CorrectionRequest.objects.create(person=person, org=holding.org, changes=wanted, note=note)
    except IntegrityError:  # another request of this member was stored at the same moment
        raise DomainError("您已有一份待处理的更正申请，请等待工会处理", code="duplicate_correction") from None
    events.correction_submitted(member_actor(account, ip=ip), correction, person, holding.org)
    return correction
