"""Evidence attached to a case (PDF, JPG, PNG checked by their first bytes), by the member or a cadre, and the
audited download."""

import hashlib
from pathlib import PurePath

from django.core.files.base import ContentFile
from django.db import transaction

from gonghui.casework.events import audit_case
from gonghui.casework.models import (
    OPEN_CASE_STATUSES,
    CaseAttachment,
    CaseStatus,
    ServiceCase,
)
from gonghui.casework.services.common import (
    ATTACHMENT_SIGNATURES,
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    _event,
    _lock_for_cadre,
    _lock_own,
)
from gonghui.common.actor import Actor
from gonghui.common.errors import CaseMovedOn, ValidationFailed
from gonghui.members.member_accounts import member_actor
from gonghui.members.models import MemberAccount

# ---------------------------------------------------------------- attachments


def check_attachment(name: str, content: bytes) -> tuple[str, str]:
    """(content type, extension) of acceptable evidence, or ValidationFailed in plain Chinese."""
    if not content:
        raise ValidationFailed({"file": "文件是空的，请重新选择"})
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed({"file": f"文件不能超过 {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB"})
    for signature, kind in ATTACHMENT_SIGNATURES.items():
        if content.startswith(signature):
            return kind
    raise ValidationFailed({"file": "只能上传 PDF、JPG 或 PNG 格式的证明材料"})


def _display_name(name: str, extension: str) -> str:
    """The name shown and downloaded: the uploaded file's name, with the extension its content really has."""
    base = PurePath((name or "").replace("\\", "/")).name.strip()
    base = "".join(ch for ch in base if ch.isprintable())
    stem = base.rsplit(".", 1)[0].strip() if "." in base else base
    return (stem or "证明材料")[:100] + extension


def _attach(actor: Actor, case: ServiceCase, name: str, content: bytes) -> CaseAttachment:
    content_type, extension = check_attachment(name, content)
    if case.status in (CaseStatus.REJECTED, CaseStatus.WITHDRAWN):
        raise CaseMovedOn(f"该申请{case.get_status_display()}，不能再上传材料")
    if case.attachments.count() >= MAX_ATTACHMENTS:
        raise ValidationFailed({"file": f"每件申请最多上传 {MAX_ATTACHMENTS} 份材料"})
    attachment = CaseAttachment(
        case=case,
        name=_display_name(name, extension),
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=actor.label[:150],
    )
    attachment.file.save(f"{attachment.id.hex}{extension}", ContentFile(content), save=False)
    try:
        attachment.save()
        _event(case, actor, "attach", "上传材料", attachment.name)
        audit_case(actor, "case.attach", case, {"file": attachment.name, "size": attachment.size})
    except Exception:
        attachment.file.delete(save=False)
        raise
    return attachment


@transaction.atomic
def member_case_attach(*, account: MemberAccount, case_id, name: str, content: bytes, ip=None) -> CaseAttachment:
    actor = member_actor(account, ip=ip)
    case = _lock_own(account, case_id)
    if not case.is_open:
        raise CaseMovedOn(f"该申请{case.get_status_display()}，不能再上传材料")
    return _attach(actor, case, name, content)


@transaction.atomic
def case_attach(*, actor: Actor, case: ServiceCase, name: str, content: bytes) -> CaseAttachment:
    case = _lock_for_cadre(actor, case, expected=(*OPEN_CASE_STATUSES, CaseStatus.CLOSED))
    return _attach(actor, case, name, content)


def attachment_view_record(*, actor: Actor, attachment: CaseAttachment) -> None:
    audit_case(actor, "case.attachment_view", attachment.case, {"file": attachment.name})
