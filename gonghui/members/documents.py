"""Identity documents: normalise what people type (or what a spreadsheet did to it), then validate with one
specific Chinese reason. Pure functions: nothing here reads or writes the database.

Supported documents (证件类型):
- 居民身份证: 18 digits (GB 11643: 6-digit region, 8-digit birth date, 3-digit sequence, check character 0-9/X);
  a legacy 15-digit number (6 + YYMMDD + 3) is converted to 18 digits (century 19, check character computed).
- 港澳居民居住证: 18 digits, region 810000 (Hong Kong) or 820000 (Macao), same structure and check character.
- 台湾居民居住证: 18 digits, region 830000, same structure and check character.
- 外国人永久居留身份证: the 2023 card, 18 digits starting with 9 (province 2 + nationality 3 + birth date 8 +
  sequence 3 + GB 11643 check character); the earlier card, 15 characters (nationality 3 letters + issuing
  province 2 digits + YYMMDD + sequence 3 + check 1), accepted on format and birth date.
- 护照: 5 to 17 letters and digits, as printed; birth date and sex are entered separately.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from stdnum import numdb
from stdnum.cn import ric

from gonghui.common.validators import to_half_width

MIN_MEMBER_AGE = 16  # 劳动法: the minimum working age; union membership is for workers
MAX_PLAUSIBLE_AGE = 100


class DocType:
    RESIDENT_ID = "resident_id"
    HK_MO_PERMIT = "hk_mo_permit"
    TW_PERMIT = "tw_permit"
    FOREIGN_PERMANENT = "foreign_permanent"
    PASSPORT = "passport"


DOC_TYPE_LABELS: dict[str, str] = {
    DocType.RESIDENT_ID: "居民身份证",
    DocType.HK_MO_PERMIT: "港澳居民居住证",
    DocType.TW_PERMIT: "台湾居民居住证",
    DocType.FOREIGN_PERMANENT: "外国人永久居留身份证",
    DocType.PASSPORT: "护照",
}
DOC_TYPE_BY_LABEL = {label: code for code, label in DOC_TYPE_LABELS.items()}
DOC_TYPES_WITH_BIRTH_DATE = frozenset(
    {DocType.RESIDENT_ID, DocType.HK_MO_PERMIT, DocType.TW_PERMIT, DocType.FOREIGN_PERMANENT}
)

_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?E[+-]?\d+$")
_EXCEL_MESSAGE = "身份证号被 Excel 转成了科学计数法，请将该列设为文本格式后重新录入"
_ZEROED_MESSAGE = "身份证号后几位被 Excel 改成了 0（Excel 只保留15位有效数字），请将该列设为文本格式后重新录入"


@dataclass(frozen=True)
class Document:
    doc_type: str
    number: str  # normalised
    birth_date: date | None
    sex: str  # "M", "F" or "" when the document does not carry it
    region_code: str  # 6-digit code of the issuing region, "" when none


class DocumentInvalid(ValueError):
    """The reason (plain Chinese) is the exception's message."""


def doc_type_code(value: str) -> str | None:
    """Accept either the code (resident_id) or the Chinese label (居民身份证)."""
    text = to_half_width(value or "")
    if text in DOC_TYPE_LABELS:
        return text
    return DOC_TYPE_BY_LABEL.get(text)


def clean_number(raw: str) -> str:
    """Trim, full-width to half-width, decimal digits of any script to ASCII, remove inner spaces, upper-case
    (x → X)."""
    text = to_half_width(str(raw or ""))
    text = "".join(str(unicodedata.decimal(ch)) if unicodedata.category(ch) == "Nd" else ch for ch in text)
    return re.sub(r"\s+", "", text).upper()


def region_known(code: str) -> bool:
    """True when a 6-digit region code exists now or existed at some time (older people keep old codes)."""
    if not re.fullmatch(r"\d{6}", code):
        return False
    found: dict[str, str] = {}
    for _part, props in numdb.get("cn/loc").info(code):
        found.update(props)
    return "county" in found


def region_label(code: str) -> str:
    """Province and county of a region code, the most recent name when it was renamed; "" when unknown."""
    found: dict[str, str] = {}
    for _part, props in numdb.get("cn/loc").info(code or ""):
        found.update(props)
    if "county" not in found:
        return ""
    county = found["county"].split(",")[-1]
    county = county.split("]", 1)[1] if county.startswith("[") else county
    province = found.get("province", "")
    if code.endswith("0000"):  # the province (or special administrative region) itself
        return county
    return f"{province}{county}"


def age_on(birth_date: date, today: date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def check_birth_date(birth_date: date, today: date, *, min_age: int = MIN_MEMBER_AGE) -> None:
    if birth_date > today:
        raise DocumentInvalid(f"出生日期 {birth_date:%Y-%m-%d} 晚于今天，请核对证件号码")
    if birth_date.year < 1900:
        raise DocumentInvalid(f"出生日期 {birth_date:%Y-%m-%d} 不合理，请核对证件号码")
    if age_on(birth_date, today) < min_age:
        raise DocumentInvalid(f"按出生日期 {birth_date:%Y-%m-%d} 计算未满{min_age}周岁，不能入会")


def _birth_date(digits8: str) -> date:
    try:
        return date(int(digits8[:4]), int(digits8[4:6]), int(digits8[6:8]))
    except ValueError:
        raise DocumentInvalid(
            f"证件号码中的出生日期 {digits8[:4]}-{digits8[4:6]}-{digits8[6:8]} 不存在，请核对证件号码"
        ) from None


def _refuse_spreadsheet_damage(number: str) -> None:
    if _SCIENTIFIC.match(number):
        raise DocumentInvalid(_EXCEL_MESSAGE)
    if number.endswith(".0") and number[:-2].isdigit():
        raise DocumentInvalid("证件号码被表格软件当成了数字（末尾多了“.0”），请将该列设为文本格式后重新录入")


def _gb11643_body(number: str, *, label: str, legacy_ok: bool) -> str:
    """Length and characters of an 18-digit GB 11643 number; a 15-digit legacy number converted if allowed."""
    if legacy_ok and len(number) == 15:
        if not number.isdigit():
            raise DocumentInvalid("15位旧身份证号码只能由数字组成")
        _birth_date("19" + number[6:12])
        body = number[:6] + "19" + number[6:]
        return body + ric.calc_check_digit(body + "0")
    if len(number) != 18:
        expected = "18位（或15位旧号码）" if legacy_ok else "18位"
        raise DocumentInvalid(f"{label}号码应为{expected}，实际为{len(number)}位")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise DocumentInvalid(f"{label}号码前17位应为数字，最后一位为数字或 X")
    return number


def _check_character(number: str, *, label: str) -> None:
    if number[17] != ric.calc_check_digit(number):
        if number.endswith("000"):
            raise DocumentInvalid(_ZEROED_MESSAGE)
        raise DocumentInvalid(f"{label}号码校验位不正确，请核对是否有输错的数字")


def _sex_of(sequence_digit: str) -> str:
    return "M" if int(sequence_digit) % 2 == 1 else "F"


def _resident_id(number: str, today: date, *, min_age: int = MIN_MEMBER_AGE) -> Document:
    label = "居民身份证"
    number = _gb11643_body(number, label=label, legacy_ok=True)
    birth = _birth_date(number[6:14])
    _check_character(number, label=label)
    region = number[:6]
    if region[:2] in ("81", "82", "83"):
        raise DocumentInvalid("81/82/83 开头的号码是港澳台居民居住证，请选择对应的证件类型")
    if not region_known(region):
        raise DocumentInvalid(f"身份证号码前6位 {region} 不是有效的行政区划代码")
    check_birth_date(birth, today, min_age=min_age)
    return Document(DocType.RESIDENT_ID, number, birth, _sex_of(number[16]), region)


def _residence_permit(number: str, today: date, *, doc_type: str) -> Document:
    label = DOC_TYPE_LABELS[doc_type]
    number = _gb11643_body(number, label=label, legacy_ok=False)
    allowed = ("810000", "820000") if doc_type == DocType.HK_MO_PERMIT else ("830000",)
    if number[:6] not in allowed:
        raise DocumentInvalid(f"{label}号码应以 {' 或 '.join(allowed)} 开头")
    birth = _birth_date(number[6:14])
    _check_character(number, label=label)
    check_birth_date(birth, today)
    return Document(doc_type, number, birth, _sex_of(number[16]), number[:6])


def _foreign_permanent(number: str, today: date) -> Document:
    label = "外国人永久居留身份证"
    if len(number) == 18:
        if not number.startswith("9"):
            raise DocumentInvalid(f"18位的{label}号码以 9 开头")
        number = _gb11643_body(number, label=label, legacy_ok=False)
        birth = _birth_date(number[6:14])
        _check_character(number, label=label)
        check_birth_date(birth, today)
        return Document(DocType.FOREIGN_PERMANENT, number, birth, _sex_of(number[16]), "")
    if len(number) == 15:
        if not re.fullmatch(r"[A-Z]{3}\d{12}", number):
            raise DocumentInvalid(f"15位的{label}号码应为3个字母加12位数字")
        yy, mm, dd = int(number[5:7]), number[7:9], number[9:11]
        century = 2000 if 2000 + yy <= today.year else 1900
        birth = _birth_date(f"{century + yy}{mm}{dd}")
        check_birth_date(birth, today)
        return Document(DocType.FOREIGN_PERMANENT, number, birth, "", "")
    raise DocumentInvalid(f"{label}号码应为18位（2023年版）或15位（旧版），实际为{len(number)}位")


def _passport(number: str) -> Document:
    if not re.fullmatch(r"[A-Z0-9]{5,17}", number):
        raise DocumentInvalid("护照号码应为5-17位字母或数字")
    if number.isdigit() and len(number) >= 15:
        raise DocumentInvalid("护照号码不像护照（像是身份证号码），请核对证件类型")
    return Document(DocType.PASSPORT, number, None, "", "")


def normalise_document(
    doc_type: str, raw_number: str, *, today: date | None = None, min_age: int = MIN_MEMBER_AGE
) -> Document:
    """The normalised, validated document, or DocumentInvalid with one specific Chinese reason. `min_age` is the
    membership minimum unless the number is someone else's (a student's for 金秋助学: 0)."""
    today = today or timezone.localdate()
    code = doc_type_code(doc_type)
    if code is None:
        raise DocumentInvalid("证件类型不正确，应为：" + "、".join(DOC_TYPE_LABELS.values()))
    number = clean_number(raw_number)
    if not number:
        raise DocumentInvalid("证件号码不能为空")
    _refuse_spreadsheet_damage(number)
    if code != DocType.PASSPORT and not re.fullmatch(r"[0-9A-Z]+", number):
        raise DocumentInvalid("证件号码只能由数字和英文字母组成，请检查是否混入了其他符号")
    if code == DocType.RESIDENT_ID:
        return _resident_id(number, today, min_age=min_age)
    if code in (DocType.HK_MO_PERMIT, DocType.TW_PERMIT):
        return _residence_permit(number, today, doc_type=code)
    if code == DocType.FOREIGN_PERMANENT:
        return _foreign_permanent(number, today)
    return _passport(number)


def check_document(doc_type: str, raw_number: str, *, today: date | None = None) -> dict:
    """The answer of the public document check: valid, normalised number, reason when invalid."""
    try:
        document = normalise_document(doc_type, raw_number, today=today)
    except DocumentInvalid as exc:
        return {"valid": False, "normalised": clean_number(raw_number), "reason": str(exc)}
    return {"valid": True, "normalised": document.number, "reason": ""}
