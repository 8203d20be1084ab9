"""Personal data of the registry: validating the profile fields, sealing the document number and phone (ciphertext,
blind index, mask) and the per-record quality checks. Used by the services; writes nothing by itself."""

from datetime import date
from typing import Any

from gonghui.common.crypto import blind_index, decrypt_text, encrypt_text
from gonghui.common.errors import ValidationFailed
from gonghui.common.masking import mask_document_number, mask_phone
from gonghui.common.validators import normalise_cn_phone, to_half_width
from gonghui.members.documents import (
    DOC_TYPES_WITH_BIRTH_DATE,
    MAX_PLAUSIBLE_AGE,
    Document,
    DocumentInvalid,
    age_on,
    check_birth_date,
    normalise_document,
)
from gonghui.members.models import (
    ETHNICITIES,
    Education,
    EmploymentForm,
    HukouType,
    Person,
    PoliticalStatus,
    QualityFlag,
    Sex,
    SkillLevel,
)

DOC_CONTEXT = "person.document"
PHONE_CONTEXT = "person.phone"

PROFILE_FIELDS = (
    "name",
    "ethnicity",
    "education",
    "political_status",
    "hukou_type",
    "employment_form",
    "work_unit",
    "post",
    "skill_level",
    "is_model_worker",
    "remarks",
)
# What a roster must have for a record to count as complete (准确率 "required fields present").
REQUIRED_FOR_QUALITY = ("name", "birth_date", "sex", "ethnicity", "education", "employment_form", "work_unit")

_CHOICES = {
    "ethnicity": (set(ETHNICITIES), "民族"),
    "education": (set(Education.values), "学历"),
    "political_status": (set(PoliticalStatus.values), "政治面貌"),
    "hukou_type": (set(HukouType.values), "户籍类型"),
    "employment_form": (set(EmploymentForm.values), "就业形态"),
    "skill_level": (set(SkillLevel.values), "技能等级"),
}
_TEXT_LIMITS = {"work_unit": (150, "工作单位"), "post": (60, "岗位/职务"), "remarks": (500, "备注")}


def document_index(doc_type: str, number: str) -> str:
    return blind_index(f"{doc_type}:{number}", context=DOC_CONTEXT)


def phone_index(phone: str) -> str:
    return blind_index(phone, context=PHONE_CONTEXT)


def normalise_mobile(value: str) -> str:
    """A mainland mobile number, 11 digits (validated with phonenumbers)."""
    try:
        phone = normalise_cn_phone(value)
    except ValueError:
        raise ValueError("手机号码不正确，应为11位中国大陆手机号") from None
    if len(phone) != 11 or not phone.startswith("1"):
        raise ValueError("请填写11位手机号码（不接受固定电话）")
    return phone


def seal_document(person: Person, document: Document) -> None:
    person.doc_type = document.doc_type
    person.doc_number_enc = encrypt_text(document.number, context=DOC_CONTEXT)
    person.doc_index = document_index(document.doc_type, document.number)
    person.doc_masked = mask_document_number(document.number)
    if document.birth_date is not None:
        person.birth_date = document.birth_date
    if document.sex:
        person.sex = document.sex
    person.region_code = document.region_code


def seal_phone(person: Person, phone: str) -> None:
    if phone:
        person.phone_enc = encrypt_text(phone, context=PHONE_CONTEXT)
        person.phone_index = phone_index(phone)
        person.phone_masked = mask_phone(phone)
    else:
        person.phone_enc = None
        person.phone_index = ""
        person.phone_masked = ""


def document_number_of(person: Person) -> str:
    return decrypt_text(person.doc_number_enc, context=DOC_CONTEXT)


def phone_of(person: Person) -> str:
    return decrypt_text(person.phone_enc, context=PHONE_CONTEXT) if person.phone_enc else ""


def clean_profile(data: dict[str, Any]) -> dict[str, Any]:
    """Normalise the profile fields present in `data`; all problems at once, in Chinese."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    if "name" in data:
        name = to_half_width(data["name"] or "").replace(" ", "")
        if not name:
            errors["name"] = "姓名不能为空"
        elif len(name) > 50:
            errors["name"] = "姓名不能超过50个字"
        elif any(ch.isdigit() for ch in name):
            errors["name"] = "姓名中不能有数字"
        clean["name"] = name
    for field, (allowed, label) in _CHOICES.items():
        if field in data:
            value = to_half_width(data[field] or "")
            if value and value not in allowed:
                errors[field] = f"{label}的取值不正确"
            clean[field] = value
    for field, (limit, label) in _TEXT_LIMITS.items():
        if field in data:
            value = to_half_width(data[field] or "")
            if len(value) > limit:
                errors[field] = f"{label}不能超过{limit}个字"
            clean[field] = value
    if "is_model_worker" in data:
        clean["is_model_worker"] = bool(data["is_model_worker"])
    if errors:
        raise ValidationFailed(errors)
    return clean


def clean_birth_and_sex(data: dict[str, Any], *, today: date) -> dict[str, Any]:
    """Birth date and sex typed by hand (documents that do not carry them, such as passports)."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    if data.get("birth_date") is not None:
        birth = data["birth_date"]
        if not isinstance(birth, date):
            errors["birth_date"] = "出生日期格式应为 YYYY-MM-DD"
        else:
            try:
                check_birth_date(birth, today)
                clean["birth_date"] = birth
            except DocumentInvalid as exc:
                errors["birth_date"] = str(exc)
    if data.get("sex"):
        if data["sex"] not in Sex.values:
            errors["sex"] = "性别的取值不正确"
        else:
            clean["sex"] = data["sex"]
    if errors:
        raise ValidationFailed(errors)
    return clean


def clean_document(doc_type: str, doc_number: str, *, today: date) -> Document:
    try:
        return normalise_document(doc_type, doc_number, today=today)
    except DocumentInvalid as exc:
        raise ValidationFailed({"doc_number": str(exc)}) from None


def clean_phone(value: str | None) -> str:
    if not value:
        return ""
    try:
        return normalise_mobile(value)
    except ValueError as exc:
        raise ValidationFailed({"phone": str(exc)}) from None


# What a union holds of a member, kept on the membership when it ends (Membership.profile_at_end): a union the
# member has left reads the record as it was then, never what other unions wrote later.
SNAPSHOT_FIELDS = (
    "name",
    "doc_type",
    "doc_masked",
    "phone_masked",
    "sex",
    "region_code",
    *(field for field in PROFILE_FIELDS if field != "name"),
)


def profile_snapshot(person: Person) -> dict[str, Any]:
    """The record's profile with masked numbers only (never a ciphertext), in JSON-ready form."""
    snapshot: dict[str, Any] = {field: getattr(person, field) for field in SNAPSHOT_FIELDS}
    snapshot["birth_date"] = person.birth_date.isoformat() if person.birth_date else None
    return snapshot


def person_from_snapshot(person_id, snapshot: dict[str, Any] | None, *, name_masked: str) -> Person:
    """An unsaved stand-in for the person as a union held them when the membership ended, for display only. Without
    a snapshot (memberships ended before snapshots were kept) only the masked name is shown. It carries no
    ciphertext, and it is marked as not yet in the database, so saving it by mistake fails instead of overwriting
    the real record."""
    person = Person(id=person_id)
    if snapshot is None:
        person.name = name_masked
    else:
        for field in SNAPSHOT_FIELDS:
            if field in snapshot:
                setattr(person, field, snapshot[field])
        birth = snapshot.get("birth_date")
        person.birth_date = date.fromisoformat(birth) if birth else None
    person.doc_number_enc = b""
    person.phone_enc = None
    person._state.adding = True
    person._state.db = None
    return person


def quality_flags(person: Person, *, today: date) -> int:
    """The person's own checks (see QualityFlag). Decrypts the numbers to re-validate them under today's rules."""
    flags = 0
    try:
        document = normalise_document(person.doc_type, document_number_of(person), today=today)
        if document.doc_type in DOC_TYPES_WITH_BIRTH_DATE and document.birth_date != person.birth_date:
            flags |= QualityFlag.DOCUMENT
    except DocumentInvalid:
        flags |= QualityFlag.DOCUMENT
    try:
        if not person.phone_enc:
            raise ValueError
        normalise_mobile(phone_of(person))
    except ValueError:
        flags |= QualityFlag.PHONE
    if any(not getattr(person, field) for field in REQUIRED_FOR_QUALITY):
        flags |= QualityFlag.REQUIRED_FIELDS
    if person.birth_date is None or not 16 <= age_on(person.birth_date, today) <= MAX_PLAUSIBLE_AGE:
        flags |= QualityFlag.AGE
    return flags


QUALITY_LABELS = {
    QualityFlag.DOCUMENT: "证件号码无效",
    QualityFlag.PHONE: "手机号码缺失或无效",
    QualityFlag.REQUIRED_FIELDS: "必填信息不全",
    QualityFlag.AGE: "年龄不合理",
}


def quality_problems(flags: int) -> list[str]:
    return [label for flag, label in QUALITY_LABELS.items() if flags & flag]
