"""gonghui.common: validators, masks, field encryption and blind indexes, public ids, paths."""

import hashlib
import hmac
import time
import uuid

import pytest
from cryptography.exceptions import InvalidTag
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from gonghui.common.crypto import blind_index, decrypt_text, encrypt_text, hash_secret
from gonghui.common.ids import new_public_id, parse_public_id
from gonghui.common.masking import mask_document_number, mask_name, mask_phone
from gonghui.common.paths import ancestor_paths, depth_of, is_root_path
from gonghui.common.validators import (
    normalise_cn_phone,
    normalise_org_code,
    normalise_region_code,
    normalise_uscc,
    region_name,
    to_half_width,
)
from tests.conftest import valid_uscc

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, Z, S, V
USCC_CHECK = "统一社会信用代码校验位不正确，请核对后重新输入"
USCC_CHARS = "统一社会信用代码含有不允许的字符（不使用 I、O、Z、S、V）"

# The autouse settings fixture of conftest is function scoped; these property tests touch no database or settings.
PROPERTY = hypothesis_settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def full_width(text: str) -> str:
    """As typed with a Chinese input method in full-width mode."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# ---------------------------------------------------------------- validators


def test_to_half_width():
    assert to_half_width("  ＳＺ－ＧＳ　０１  ") == "SZ-GS 01"
    assert to_half_width("") == ""
    assert to_half_width(None) == ""


def test_normalise_uscc_examples():
    code = valid_uscc("91320508MA1W0001A")
    assert code == "91320508MA1W0001A" + stdnum_uscc.calc_check_digit("91320508MA1W0001A")
    assert normalise_uscc(code) == code
    assert normalise_uscc(full_width(code)) == code
    assert normalise_uscc(" " + code.lower() + " ") == code
    assert normalise_uscc(code[:6] + "-" + code[6:12] + " " + code[12:]) == code
    assert normalise_uscc(full_width(code[:9].lower()) + "　" + code[9:]) == code


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "统一社会信用代码不能为空"),
        ("  －  ", "统一社会信用代码不能为空"),
        ("91320508MA1W0001", "统一社会信用代码应为18位，实际为16位"),
        ("９１３２０５０８ＭＡ１Ｗ０００１", "统一社会信用代码应为18位，实际为16位"),
        ("91320508MA1W0001AAA", "统一社会信用代码应为18位，实际为19位"),
        ("91320508MA1I00010X", USCC_CHARS),
        ("9132050AMA1W00010X", USCC_CHARS),
        ("91320508MA1W0001A?", USCC_CHARS),
    ],
)
def test_normalise_uscc_rejects(value, message):
    with pytest.raises(ValueError) as exc:
        normalise_uscc(value)
    assert str(exc.value) == message


def test_normalise_uscc_rejects_a_wrong_check_character():
    code = valid_uscc("91320508MA1W0001A")
    wrong = next(c for c in USCC_ALPHABET if c != code[-1])
    with pytest.raises(ValueError) as exc:
        normalise_uscc(code[:-1] + wrong)
    assert str(exc.value) == USCC_CHECK


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("320508", "江苏省姑苏区"),
        ("320506", "江苏省吴中区"),
        ("320500", "江苏省苏州市"),
        ("320581", "江苏省常熟市"),
        ("110000", "北京市"),
        ("110101", "北京市东城区"),
        ("130502", "河北省襄都区"),  # renamed in 2020 (was 桥东区): the current name
        ("320502", None),  # 沧浪区, abolished in 2012
        ("320599", None),
        ("999999", None),
        ("32050", None),
        ("3205080", None),
        ("abcdef", None),
        ("", None),
        (None, None),
    ],
)
def test_region_name(code, name):
    assert region_name(code) == name


def test_normalise_region_code():
    assert normalise_region_code("３２０５０８") == "320508"
    assert normalise_region_code(" 320500 ") == "320500"
    for bad, message in (
        ("320502", "行政区划代码 320502 不存在或已撤销"),
        ("32050", "行政区划代码应为6位数字（GB/T 2260）"),
        ("", "行政区划代码应为6位数字（GB/T 2260）"),
    ):
        with pytest.raises(ValueError) as exc:
            normalise_region_code(bad)
        assert str(exc.value) == message


def test_normalise_org_code():
    assert normalise_org_code("sz-gs-t01") == "SZ-GS-T01"
    assert normalise_org_code(" ｓｚ＿０１ ") == "SZ_01"
    assert normalise_org_code("A" * 32) == "A" * 32
    with pytest.raises(ValueError) as exc:
        normalise_org_code("")
    assert str(exc.value) == "组织代码不能为空"
    for bad in ("A", "A" * 33, "SZ GS", "苏州", "_SZ", "SZ/GS"):
        with pytest.raises(ValueError) as exc:
            normalise_org_code(bad)
        assert str(exc.value) == "组织代码只能由 2-32 位大写字母、数字、“-”和“_”组成，且以字母或数字开头", bad


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13812341234", "13812341234"),
        ("138 1234 1234", "13812341234"),
        ("+86 138-1234-1234", "13812341234"),
        ("１３８１２３４１２３４", "13812341234"),
        ("0512-65241234", "051265241234"),
        ("(0512) 6524 1234", "051265241234"),
        ("010-12345678", "01012345678"),
    ],
)
def test_normalise_cn_phone(value, expected):
    assert normalise_cn_phone(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12345", "联系电话不是有效的中国大陆号码，应为11位手机号或带区号的固定电话"),
        ("+1 650 253 0000", "联系电话不是有效的中国大陆号码，应为11位手机号或带区号的固定电话"),
        ("abc", "联系电话格式不正确，应为11位手机号或带区号的固定电话"),
        ("", "联系电话格式不正确，应为11位手机号或带区号的固定电话"),
    ],
)
def test_normalise_cn_phone_rejects(value, message):
    with pytest.raises(ValueError) as exc:
        normalise_cn_phone(value)
    assert str(exc.value) == message


# ---------------------------------------------------------------- USCC properties


uscc_bodies = st.tuples(
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9),
).map("".join)


@PROPERTY
@given(body=uscc_bodies)
def test_valid_uscc_is_its_own_normal_form(body):
    code = body + stdnum_uscc.calc_check_digit(body)
    assert len(code) == 18
    assert normalise_uscc(code) == code


@PROPERTY
@given(body=uscc_bodies, data=st.data())
def test_uscc_variants_normalise_to_the_canonical_code(body, data):
    code = body + stdnum_uscc.calc_check_digit(body)
    assert normalise_uscc(full_width(code)) == code
    # lower case with spaces (ASCII or ideographic) and hyphens inserted anywhere
    separators = data.draw(st.lists(st.sampled_from(["", " ", "-", "　", "  "]), min_size=19, max_size=19))
    variant = "".join(sep + char for sep, char in zip(separators, code.lower(), strict=False)) + separators[-1]
    assert normalise_uscc(variant) == code
    mixed = "".join(
        full_width(c) if data.draw(st.booleans()) else c for c in (code.lower() if data.draw(st.booleans()) else code)
    )
    assert normalise_uscc(mixed) == code


@PROPERTY
@given(
    body=uscc_bodies,
    position=st.integers(min_value=0, max_value=17),
    replacement=st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
)
def test_any_single_character_change_is_rejected(body, position, replacement):
    code = body + stdnum_uscc.calc_check_digit(body)
    if code[position] == replacement:
        replacement = "0" if replacement != "0" else "1"
    changed = code[:position] + replacement + code[position + 1 :]
    assert changed != code
    with pytest.raises(ValueError) as exc:
        normalise_uscc(changed)
    if replacement in "IOZSV" or (position < 8 and not replacement.isdigit()):
        assert str(exc.value) == USCC_CHARS
    else:
        assert str(exc.value) == USCC_CHECK


def test_valid_uscc_helper_matches_stdnum():
    for body in ("91320508MA1W0001A", "12100000400000624D", "91110000100000000"[:17]):
        code = valid_uscc(body[:17])
        assert stdnum_uscc.is_valid(code)


# ---------------------------------------------------------------- masking


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("320502199001011373", "3205**********1373"),
        ("32050219900101137X", "3205**********137X"),
        ("E12345678", "E123*5678"),
        ("G1234567", "G*******"),
        ("AB", "A*"),
        ("", ""),
    ],
)
def test_mask_document_number(number, masked):
    assert mask_document_number(number) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("13812341234", "138****1234"),
        ("051265241234", "0512****1234"),
        ("01012345678", "0101***5678"),
        ("0512652412", "0512**2412"),
        ("65241234", "****1234"),
        ("6524123", "***4123"),
        ("123456", "******"),
        ("12", "**"),
        ("", ""),
    ],
)
def test_mask_phone(number, masked):
    assert mask_phone(number) == masked


@PROPERTY
@given(number=st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_mask_phone_keeps_length_and_always_hides_something(number):
    masked = mask_phone(number)
    assert len(masked) == len(number)
    assert "*" in masked
    assert all(m in ("*", n) for m, n in zip(masked, number, strict=True))
    assert sum(m != "*" for m in masked) <= 8


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "张*"), ("李小龙", "李**"), ("欧阳娜娜", "欧***"), ("王", "王"), ("", "")],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


# ---------------------------------------------------------------- encryption and blind indexes


def test_encrypt_round_trip():
    for plaintext in ("320502199001011373", "张三 13812341234", ""):
        token = encrypt_text(plaintext, context="person.document")
        assert isinstance(token, bytes)
        assert token[:1] == b"\x01"
        assert len(token) == 1 + 12 + len(plaintext.encode("utf-8")) + 16
        assert plaintext.encode("utf-8") not in token or plaintext == ""
        assert decrypt_text(token, context="person.document") == plaintext
        assert decrypt_text(memoryview(token), context="person.document") == plaintext


def test_encryption_uses_a_fresh_nonce():
    first = encrypt_text("320502199001011373", context="person.document")
    second = encrypt_text("320502199001011373", context="person.document")
    assert first != second
    assert first[1:13] != second[1:13]
    assert decrypt_text(first, context="person.document") == decrypt_text(second, context="person.document")


def test_ciphertext_is_bound_to_its_context():
    token = encrypt_text("13812341234", context="person.phone")
    with pytest.raises(InvalidTag):
        decrypt_text(token, context="person.document")
    with pytest.raises(InvalidTag):
        decrypt_text(token, context="")
    assert decrypt_text(token, context="person.phone") == "13812341234"


def test_tampered_ciphertext_fails():
    token = bytearray(encrypt_text("13812341234", context="person.phone"))
    token[-1] ^= 0x01
    with pytest.raises(InvalidTag):
        decrypt_text(bytes(token), context="person.phone")
    token = bytearray(encrypt_text("13812341234", context="person.phone"))
    token[5] ^= 0x80  # inside the nonce
    with pytest.raises(InvalidTag):
        decrypt_text(bytes(token), context="person.phone")


def test_unknown_ciphertext_version_is_refused():
    token = b"\x02" + encrypt_text("x", context="person.phone")[1:]
    with pytest.raises(ValueError) as exc:
        decrypt_text(token, context="person.phone")
    assert str(exc.value) == "unknown ciphertext version"


def test_ciphertext_under_another_key_fails(settings):
    token = encrypt_text("13812341234", context="person.phone")
    settings.FIELD_ENCRYPTION_KEY = bytes(32)
    with pytest.raises(InvalidTag):
        decrypt_text(token, context="person.phone")


def test_blind_index_is_stable_and_distinct_per_context():
    first = blind_index("320502199001011373", context="person.document")
    assert first == blind_index("320502199001011373", context="person.document")
    assert len(first) == 64
    assert int(first, 16) >= 0
    expected = hmac.new(
        django_settings.BLIND_INDEX_KEY, b"person.document\x00320502199001011373", hashlib.sha256
    ).hexdigest()
    assert first == expected
    assert blind_index("320502199001011373", context="person.phone") != first
    assert blind_index("320502199001011374", context="person.document") != first
    # The separator keeps (context, value) pairs apart even when their concatenation is the same.
    assert blind_index("b", context="a.") != blind_index(".b", context="a")
    assert blind_index("320502199001011373", context="person.document") != hash_secret("320502199001011373")


def test_blind_index_depends_on_the_key(settings):
    before = blind_index("13812341234", context="person.phone")
    settings.BLIND_INDEX_KEY = bytes(32)
    assert blind_index("13812341234", context="person.phone") != before


def test_hash_secret():
    assert hash_secret("ghk_abc") == hashlib.sha256(b"ghk_abc").hexdigest()


# ---------------------------------------------------------------- public ids


def test_new_public_id_is_uuid7():
    before_ms = time.time_ns() // 1_000_000
    value = new_public_id()
    after_ms = time.time_ns() // 1_000_000
    assert isinstance(value, uuid.UUID)
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert before_ms <= value.int >> 80 <= after_ms
    assert str(value)[14] == "7"


def test_new_public_ids_are_unique_and_time_ordered():
    ids = [new_public_id() for _ in range(5000)]
    assert len(set(ids)) == 5000
    stamps = [u.int >> 80 for u in ids]
    assert stamps == sorted(stamps)
    assert all(u.version == 7 for u in ids)
    earlier = new_public_id()
    time.sleep(0.003)
    later = new_public_id()
    assert earlier < later
    assert str(earlier) < str(later)


def test_parse_public_id():
    value = new_public_id()
    assert parse_public_id(str(value)) == value
    assert parse_public_id(str(value).upper()) == value
    assert parse_public_id(value) == value
    for bad in ("", "not-a-uuid", None, 42, "01a1fc77-5292-7c41-909c"):
        assert parse_public_id(bad) is None


# ---------------------------------------------------------------- paths


def test_paths():
    assert is_root_path("0001")
    assert not is_root_path("00010001")
    assert depth_of("000100010003") == 3
    assert ancestor_paths("000100010003") == ["0001", "00010001"]
    assert ancestor_paths("0001") == []
    # Fixed-width steps: the "12" / "123" trap cannot happen on paths.
    assert not "0001000100010003".startswith("0001000100010002")
