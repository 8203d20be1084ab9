"""Validators for codes the organisation registry uses. Each returns the normalised value or raises ValueError
with a plain Chinese reason."""

import re
import unicodedata

import phonenumbers
from stdnum import numdb
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError

from gonghui.common.errors import ValidationFailed

ORG_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")


def to_half_width(text: str) -> str:
    """Full-width digits and letters (as typed with a Chinese input method) to ASCII; trims the ends."""
    return unicodedata.normalize("NFKC", text or "").strip()


def normalise_uscc(value: str) -> str:
    """统一社会信用代码 (GB 32100): 18 characters with a check character, via python-stdnum `cn.uscc`."""
    text = to_half_width(value).replace(" ", "").replace("-", "").upper()
    if not text:
        raise ValueError("统一社会信用代码不能为空")
    try:
        return uscc.validate(text)
    except InvalidLength as exc:
        raise ValueError(f"统一社会信用代码应为18位，实际为{len(text)}位") from exc
    except InvalidChecksum as exc:
        raise ValueError("统一社会信用代码校验位不正确，请核对后重新输入") from exc
    except (InvalidFormat, ValidationError) as exc:
        raise ValueError("统一社会信用代码含有不允许的字符（不使用 I、O、Z、S、V）") from exc


def normalise_org_code(value: str) -> str:
    """An organisation's short code: 2-32 characters of A-Z, 0-9, '-' and '_'; used in files and URLs of the API."""
    text = to_half_width(value).upper()
    if not text:
        raise ValueError("组织代码不能为空")
    if not ORG_CODE_RE.match(text):
        raise ValueError("组织代码只能由 2-32 位大写字母、数字、“-”和“_”组成，且以字母或数字开头")
    return text


def _current_county(entry: str) -> str | None:
    """stdnum's region table lists names with year ranges: "[1983-2019]桥东区,[2020-]襄都区". The current name."""
    for part in entry.split(","):
        if not part.startswith("["):
            return part
        years, name = part[1:].split("]")
        _start, end = years.split("-")
        if not end:
            return name
    return None


def region_name(code: str) -> str | None:
    """Province and county name of a 6-digit GB/T 2260 code, or None when the code is unknown or abolished."""
    if not re.fullmatch(r"\d{6}", code or ""):
        return None
    info: dict[str, str] = {}
    for _part, props in numdb.get("cn/loc").info(code):
        info.update(props)
    if "province" not in info or "county" not in info:
        return None
    county = _current_county(info["county"])
    if county is None:
        return None
    province = info["province"]
    return province if county == province else f"{province}{county}"


def normalise_region_code(value: str) -> str:
    text = to_half_width(value)
    if not re.fullmatch(r"\d{6}", text):
        raise ValueError("行政区划代码应为6位数字（GB/T 2260）")
    if region_name(text) is None:
        raise ValueError(f"行政区划代码 {text} 不存在或已撤销")
    return text


def normalise_cn_phone(value: str) -> str:
    """A mainland contact number (mobile or fixed line with area code), validated with `phonenumbers`.
    Returned in national digits: 13812341234, 051265241234."""
    text = to_half_width(value)
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("联系电话格式不正确，应为11位手机号或带区号的固定电话") from exc
    if parsed.country_code != 86 or not phonenumbers.is_valid_number(parsed):
        raise ValueError("联系电话不是有效的中国大陆号码，应为11位手机号或带区号的固定电话")
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return re.sub(r"\D", "", national)


# Text no store can keep: a lone UTF-16 surrogate (U+D800–U+DFFF) is not a character (JSON can carry one as
# "\ud800", but it cannot be encoded to UTF-8, so it would fail in the blind index, the cipher and the database
# driver), and PostgreSQL text cannot hold NUL. Refused at the edge, before anything reads the value.
_UNREADABLE = re.compile("[\ud800-\udfff\x00]")
UNREADABLE_TEXT = "含有无法识别的字符（不完整的 Unicode 编码或空字符），请删除后重新输入"


def unreadable_text_at(value: object, path: str = "") -> str | None:
    """Where in `value` (text, or dicts and lists of them, keys included) a lone surrogate or a NUL sits, as a dotted
    path ("name", "items.0.name"; "" for `value` itself or a top-level key), or None when there is none."""
    if isinstance(value, str):
        return path if _UNREADABLE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and _UNREADABLE.search(key):
                return path  # the key itself is not repeated back
            inner = f"{path}.{key}" if path else str(key)
            found = unreadable_text_at(item, inner)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = unreadable_text_at(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None


# The stated reason of a decision (a refusal, a leave, a reveal): required, and at most REASON_MAX characters.
# Unlike the code validators above it raises the domain's ValidationFailed on the field "reason".
REASON_MAX = 500


def clean_reason(reason: str, *, label: str = "原因") -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed({"reason": f"请填写{label}"})
    if len(text) > REASON_MAX:
        raise ValidationFailed({"reason": f"{label}不能超过{REASON_MAX}个字"})
    return text
