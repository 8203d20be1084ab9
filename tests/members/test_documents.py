"""Identity documents (gonghui.members.documents): what people type, or what a spreadsheet did to it, is normalised
and validated with one specific Chinese reason. Pure functions: no database.

Valid numbers are built with python-stdnum's GB 11643 check character, never hard-coded, so every "valid" case is
valid by construction and every "invalid" case is invalid for exactly the reason under test.
"""

import re
from datetime import date

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from gonghui.members.documents import (
    DOC_TYPE_LABELS,
    DocType,
    Document,
    DocumentInvalid,
    check_document,
    clean_number,
    doc_type_code,
    normalise_document,
    region_known,
    region_label,
)

TODAY = date(2026, 11, 21)

RESIDENT = "居民身份证"
HK_MO = "港澳居民居住证"
TW = "台湾居民居住证"
FOREIGN = "外国人永久居留身份证"
PASSPORT = "护照"

# Real region codes: current ones, and 320502 沧浪区 (abolished 2012, still on older people's cards).
REGIONS = ["320506", "110101", "320502", "320508", "310101", "440305", "510104", "330106"]


def with_check(body17: str) -> str:
    """A 17-digit body completed with its GB 11643 (ISO 7064 MOD 11-2) check character."""
    assert len(body17) == 17 and body17.isdigit()
    return body17 + ric.calc_check_digit(body17 + "0")


def resident_id(region: str = "320506", birth: str = "19900101", seq: str = "123") -> str:
    """A valid 18-digit number for a region code, a YYYYMMDD birth date and a 3-digit sequence."""
    return with_check(region + birth + seq)


def full_width(text: str) -> str:
    """ASCII letters and digits as typed with a Chinese input method (U+FF10…)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def with_wrong_check(number: str) -> str:
    """The same body with a different (hence wrong) check character that is not 0."""
    wrong = next(c for c in "123456789X" if c != number[17])
    return number[:17] + wrong


def _first_body_with_check(prefix14: str, check: str) -> str:
    """The first valid number `prefix14 + seq + check` for the wanted check character."""
    for seq in range(100, 1000):
        number = with_check(f"{prefix14}{seq:03d}")
        if number[17] == check:
            return number
    raise AssertionError(f"no sequence gives check character {check}")


ENDS_IN_X = _first_body_with_check("32050619900101", "X")
ENDS_IN_DIGIT = _first_body_with_check("32050619900101", "5")
STANDARD = resident_id()

# A legacy 15-digit number (region + YYMMDD + sequence) and its 18-digit form: century 19, check computed.
LEGACY_15 = "320506900101123"
LEGACY_18 = with_check("32050619900101123")


# ---------------------------------------------------------------------------------------------------------------
# 1. Tricky inputs, table-driven
# ---------------------------------------------------------------------------------------------------------------


def valid(doc_type, raw, normalised, id):
    """A case expected to be accepted and normalised to exactly `normalised`."""
    return pytest.param(doc_type, raw, True, normalised, id=id)


def refused(doc_type, raw, fragment, id):
    """A case expected to be refused with a reason containing `fragment`."""
    return pytest.param(doc_type, raw, False, fragment, id=id)


CASES = [
    # --- what people type -------------------------------------------------------------------------------------
    valid(RESIDENT, STANDARD, STANDARD, "plain-18-digits"),
    valid(RESIDENT, full_width(STANDARD), STANDARD, "full-width-digits"),
    valid(RESIDENT, full_width(ENDS_IN_X.lower()), ENDS_IN_X, "full-width-digits-and-x"),
    valid(RESIDENT, ENDS_IN_X[:17] + "x", ENDS_IN_X, "lowercase-x"),
    valid(RESIDENT, ENDS_IN_X, ENDS_IN_X, "uppercase-X"),
    valid(RESIDENT, f"  {STANDARD[:6]} {STANDARD[6:14]} {STANDARD[14:]}\t", STANDARD, "inner-and-outer-spaces"),
    valid(RESIDENT, f"\u3000{STANDARD[:6]}\u3000{STANDARD[6:]}\n", STANDARD, "ideographic-spaces"),
    valid(RESIDENT, LEGACY_15, LEGACY_18, "legacy-15-to-18"),
    valid(RESIDENT, f" {LEGACY_15[:6]} {LEGACY_15[6:]} ", LEGACY_18, "legacy-15-with-spaces"),
    valid(RESIDENT, resident_id("320502", "19750615", "246"), resident_id("320502", "19750615", "246"), "old-region"),
    valid(RESIDENT, resident_id("110101"), resident_id("110101"), "beijing-dongcheng"),
    valid("resident_id", STANDARD, STANDARD, "doc-type-given-as-code"),
    # --- what a spreadsheet did to it -------------------------------------------------------------------------
    refused(RESIDENT, "3.20506E+17", "科学计数法", "scientific-upper-E"),
    refused(RESIDENT, "3.20506e+17", "科学计数法", "scientific-lower-e"),
    refused(RESIDENT, "3.20506199001011E+17", "科学计数法", "scientific-long-mantissa"),
    refused(RESIDENT, STANDARD[:15] + "000", "Excel", "last-three-zeroed-by-excel"),
    refused(RESIDENT, ENDS_IN_DIGIT + ".0", ".0", "trailing-dot-zero"),
    refused(RESIDENT, LEGACY_15 + ".0", ".0", "legacy-trailing-dot-zero"),
    # --- birth date -------------------------------------------------------------------------------------------
    refused(RESIDENT, resident_id(birth="19900229"), "1990-02-29 不存在", "feb-29-non-leap-year"),
    refused(RESIDENT, resident_id(birth="19901301"), "不存在", "month-13"),
    refused(RESIDENT, "320506900229123", "不存在", "legacy-feb-29-non-leap-year"),
    valid(RESIDENT, resident_id(birth="20000229"), resident_id(birth="20000229"), "feb-29-leap-year-2000"),
    refused(RESIDENT, resident_id(birth="20270101"), "晚于今天", "birth-in-future"),
    refused(RESIDENT, resident_id(birth="20261122"), "晚于今天", "born-tomorrow"),
    refused(RESIDENT, resident_id(birth="20120101"), "未满16周岁", "under-16"),
    valid(RESIDENT, resident_id(birth="20101121"), resident_id(birth="20101121"), "exactly-16-today"),
    refused(RESIDENT, resident_id(birth="20101122"), "未满16周岁", "16-tomorrow"),
    refused(RESIDENT, resident_id(birth="18991231"), "不合理", "born-before-1900"),
    # --- length, characters, check character, region ---------------------------------------------------------
    refused(RESIDENT, STANDARD[:17], "实际为17位", "17-digits"),
    refused(RESIDENT, STANDARD + "1", "实际为19位", "19-digits"),
    refused(RESIDENT, STANDARD[:16], "实际为16位", "16-digits"),
    refused(RESIDENT, STANDARD[:8] + "O" + STANDARD[9:], "前17位应为数字", "letter-O-in-body"),
    refused(RESIDENT, STANDARD[:17] + "Y", "前17位应为数字", "bad-last-character"),
    refused(RESIDENT, "3205069001011A3", "只能由数字组成", "letter-in-legacy-15"),
    refused(RESIDENT, with_wrong_check(STANDARD), "校验位", "wrong-check-digit"),
    refused(RESIDENT, STANDARD[:10] + STANDARD[11] + STANDARD[10] + STANDARD[12:], "校验位", "swapped-digits"),
    refused(RESIDENT, resident_id("999999"), "999999 不是有效的行政区划代码", "unknown-region-999999"),
    refused(RESIDENT, resident_id("000000"), "000000 不是有效的行政区划代码", "unknown-region-000000"),
    refused(RESIDENT, "", "不能为空", "empty"),
    refused(RESIDENT, "   \u3000 ", "不能为空", "only-whitespace"),
    # --- 81/82/83: residence permits typed as 居民身份证 -------------------------------------------------------
    refused(RESIDENT, resident_id("810000"), "请选择对应的证件类型", "hk-prefix-as-resident-id"),
    refused(RESIDENT, resident_id("820000"), "请选择对应的证件类型", "macao-prefix-as-resident-id"),
    refused(RESIDENT, resident_id("830000"), "请选择对应的证件类型", "taiwan-prefix-as-resident-id"),
    # --- residence permits ------------------------------------------------------------------------------------
    valid(HK_MO, resident_id("810000"), resident_id("810000"), "hk-permit"),
    valid(HK_MO, resident_id("820000"), resident_id("820000"), "macao-permit"),
    valid("hk_mo_permit", full_width(resident_id("820000")), resident_id("820000"), "macao-permit-full-width"),
    refused(HK_MO, resident_id("830000"), "810000 或 820000 开头", "taiwan-number-as-hk-permit"),
    refused(HK_MO, resident_id("320506"), "810000 或 820000 开头", "mainland-number-as-hk-permit"),
    refused(HK_MO, with_wrong_check(resident_id("810000")), "校验位", "hk-permit-wrong-check"),
    refused(HK_MO, LEGACY_15, "应为18位", "hk-permit-15-digits"),
    valid(TW, resident_id("830000"), resident_id("830000"), "taiwan-permit"),
    refused(TW, resident_id("810000"), "830000 开头", "hk-number-as-taiwan-permit"),
    refused(TW, resident_id("830000", birth="20120101"), "未满16周岁", "taiwan-permit-under-16"),
    # --- 外国人永久居留身份证 -----------------------------------------------------------------------------------
    valid(FOREIGN, resident_id("931840", "19850101"), resident_id("931840", "19850101"), "foreign-2023-card"),
    valid(FOREIGN, resident_id("931840").lower(), resident_id("931840"), "foreign-2023-card-lowercase"),
    refused(FOREIGN, resident_id("320506"), "以 9 开头", "foreign-18-not-starting-with-9"),
    refused(FOREIGN, with_wrong_check(resident_id("931840")), "校验位", "foreign-2023-wrong-check"),
    valid(FOREIGN, "USA318501011234", "USA318501011234", "foreign-old-card"),
    valid(FOREIGN, " usa31 850101 1234 ", "USA318501011234", "foreign-old-card-lowercase-spaces"),
    valid(FOREIGN, "CAN110001019871", "CAN110001019871", "foreign-old-card-born-2000"),
    refused(FOREIGN, "USA311501011234", "未满16周岁", "foreign-old-card-born-2015"),
    refused(FOREIGN, "USA318502301234", "不存在", "foreign-old-card-feb-30"),
    refused(FOREIGN, "US1318501011234", "3个字母加12位数字", "foreign-old-card-2-letters"),
    refused(FOREIGN, "USA3111010112345", "实际为16位", "foreign-16-characters"),
    # --- 护照 -----------------------------------------------------------------------------------------------
    valid(PASSPORT, "E12345678", "E12345678", "passport"),
    valid(PASSPORT, "e1234 5678", "E12345678", "passport-lowercase-with-space"),
    valid(PASSPORT, "ｅ１２３４５６７８", "E12345678", "passport-full-width"),
    valid("passport", "G1234", "G1234", "passport-5-characters"),
    refused(PASSPORT, "E123", "5-17位", "passport-too-short"),
    refused(PASSPORT, "E" + "1" * 17, "5-17位", "passport-too-long"),
    refused(PASSPORT, "E1234-5678", "5-17位", "passport-with-dash"),
    refused(PASSPORT, LEGACY_15, "像是身份证号码", "legacy-resident-id-as-passport"),
    refused(PASSPORT, STANDARD[:17], "像是身份证号码", "17-digits-as-passport"),
    refused(PASSPORT, STANDARD, "5-17位", "18-digit-resident-id-as-passport"),
    # --- document type ----------------------------------------------------------------------------------------
    refused("驾驶证", "E12345678", "证件类型不正确", "unknown-doc-type-label"),
    refused("", STANDARD, "证件类型不正确", "empty-doc-type"),
    refused("RESIDENT_ID", STANDARD, "证件类型不正确", "doc-type-code-is-case-sensitive"),
]


@pytest.mark.parametrize(("doc_type", "raw", "is_valid", "expected"), CASES)
def test_tricky_inputs(doc_type, raw, is_valid, expected):
    """Each input is accepted with the exact normalised number, or refused with its specific reason."""
    result = check_document(doc_type, raw, today=TODAY)
    assert result["valid"] is is_valid, result
    if is_valid:
        assert result["normalised"] == expected
        assert result["reason"] == ""
        assert normalise_document(doc_type, raw, today=TODAY).number == expected
    else:
        assert expected in result["reason"]
        assert result["normalised"] == clean_number(raw)
        with pytest.raises(DocumentInvalid, match=re.escape(expected)):
            normalise_document(doc_type, raw, today=TODAY)


def test_document_invalid_is_a_value_error():
    """Callers that only know ValueError still catch a refusal."""
    with pytest.raises(ValueError, match="校验位"):
        normalise_document(RESIDENT, with_wrong_check(STANDARD), today=TODAY)


def test_unknown_doc_type_lists_all_five_labels():
    """The reason for a wrong document type names every accepted type."""
    reason = check_document("军官证", "12345", today=TODAY)["reason"]
    for label in DOC_TYPE_LABELS.values():
        assert label in reason


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(STANDARD[:16] + "\u1369" + STANDARD[17], id="ethiopic-digit-in-sequence"),
        pytest.param("\u1369" + STANDARD[1:], id="ethiopic-digit-in-region"),
        pytest.param("\u1369" + LEGACY_15[1:], id="ethiopic-digit-in-legacy-15"),
    ],
)
def test_non_decimal_digit_characters_are_refused_not_crashed(raw):
    """Characters that str.isdigit() accepts but int() does not (ETHIOPIC DIGIT ONE) give a reason, not a crash."""
    result = check_document(RESIDENT, raw, today=TODAY)
    assert result["valid"] is False
    assert result["reason"]


@pytest.mark.parametrize(
    ("doc_type", "number"),
    [
        pytest.param(RESIDENT, STANDARD, id="resident-id"),
        pytest.param(HK_MO, resident_id("810000"), id="hk-permit"),
        pytest.param(FOREIGN, resident_id("931840"), id="foreign-2023-card"),
        pytest.param(FOREIGN, "USA318501011234", id="foreign-old-card"),
    ],
)
def test_other_scripts_decimal_digits_never_give_a_non_ascii_number(doc_type, number):
    """Arabic-Indic digits (U+0660…) are either converted to ASCII or refused; a stored number is always ASCII."""
    arabic = "".join(chr(0x660 + int(c)) if c.isdigit() else c for c in number)
    mixed = number[:6] + arabic[6:]
    for raw in (arabic, mixed):
        result = check_document(doc_type, raw, today=TODAY)
        assert not result["valid"] or result["normalised"] == number, (raw, result)


# ---------------------------------------------------------------------------------------------------------------
# 2. Derived fields, helpers
# ---------------------------------------------------------------------------------------------------------------


def test_resident_id_derived_fields():
    """Birth date, sex and region come out of the number itself."""
    number = resident_id("320506", "19851207", "123")
    assert normalise_document(RESIDENT, number, today=TODAY) == Document(
        doc_type=DocType.RESIDENT_ID, number=number, birth_date=date(1985, 12, 7), sex="M", region_code="320506"
    )


@pytest.mark.parametrize(
    ("seq", "sex"),
    [("001", "M"), ("013", "M"), ("125", "M"), ("997", "M"), ("999", "M"), ("000", "F"), ("124", "F"), ("998", "F")],
)
def test_sex_from_17th_digit(seq, sex):
    """Odd 17th digit: male; even: female."""
    assert normalise_document(RESIDENT, resident_id(seq=seq), today=TODAY).sex == sex


def test_legacy_15_digit_derived_fields():
    """A legacy number's 15th digit (the 17th once converted) gives the sex; its birth date is in the 1900s."""
    document = normalise_document(RESIDENT, "110101751231124", today=TODAY)
    assert document.number == with_check("11010119751231124")
    assert (document.birth_date, document.sex, document.region_code) == (date(1975, 12, 31), "F", "110101")


def test_residence_permit_derived_fields():
    """A residence permit carries birth date, sex and its 81/82/83 region."""
    document = normalise_document(TW, resident_id("830000", "19920315", "457"), today=TODAY)
    assert document.doc_type == DocType.TW_PERMIT
    assert (document.birth_date, document.sex, document.region_code) == (date(1992, 3, 15), "M", "830000")


def test_foreign_permanent_derived_fields():
    """The 2023 card carries sex and birth date, no region; the old card only a birth date."""
    new = normalise_document(FOREIGN, resident_id("931840", "19800506", "002"), today=TODAY)
    assert (new.doc_type, new.birth_date, new.sex, new.region_code) == (
        DocType.FOREIGN_PERMANENT,
        date(1980, 5, 6),
        "F",
        "",
    )
    old = normalise_document(FOREIGN, "GBR118005061234", today=TODAY)
    assert (old.birth_date, old.sex, old.region_code) == (date(1980, 5, 6), "", "")


def test_passport_carries_no_birth_date_or_sex():
    """A passport number says nothing about its holder."""
    assert normalise_document(PASSPORT, "E12345678", today=TODAY) == Document(
        DocType.PASSPORT, "E12345678", None, "", ""
    )


def test_region_label_and_known():
    """Region codes resolve to names, including codes abolished since (沧浪区)."""
    assert "吴中区" in region_label("320506")
    assert region_label("320506").startswith("江苏省")
    assert "东城区" in region_label("110101")
    assert "沧浪区" in region_label("320502")
    assert region_label("999999") == ""
    assert region_label("") == ""
    assert all(region_known(code) for code in REGIONS)
    assert not region_known("999999")
    assert not region_known("000000")
    assert not region_known("32050")
    assert not region_known("32050A")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("resident_id", DocType.RESIDENT_ID),
        ("居民身份证", DocType.RESIDENT_ID),
        (" 居民身份证 ", DocType.RESIDENT_ID),
        ("港澳居民居住证", DocType.HK_MO_PERMIT),
        ("tw_permit", DocType.TW_PERMIT),
        ("台湾居民居住证", DocType.TW_PERMIT),
        ("外国人永久居留身份证", DocType.FOREIGN_PERMANENT),
        ("护照", DocType.PASSPORT),
        ("ｐａｓｓｐｏｒｔ", DocType.PASSPORT),
        ("身份证", None),
        ("", None),
        (None, None),
    ],
)
def test_doc_type_code(value, code):
    """Either the code or the Chinese label, full-width tolerated; anything else is None."""
    assert doc_type_code(value) == code


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        (" ３２０５０６ １９９０ｘ ", "3205061990X"),
        ("e1234\t5678\n", "E12345678"),
        ("\u3000ab c\u3000", "ABC"),
        ("", ""),
        (None, ""),
    ],
)
def test_clean_number(raw, cleaned):
    """Trim, full-width to ASCII, no inner whitespace, upper case."""
    assert clean_number(raw) == cleaned


# ---------------------------------------------------------------------------------------------------------------
# 3. Properties
# ---------------------------------------------------------------------------------------------------------------

regions = st.sampled_from(REGIONS)
births = st.dates(min_value=date(1930, 1, 1), max_value=date(2009, 11, 21))
sequences = st.integers(min_value=0, max_value=999).map(lambda n: f"{n:03d}")
WHITESPACE = " \t\n\u3000"


@st.composite
def valid_resident_ids(draw):
    """A valid 18-digit number from a real region, a birth date making the person 16 to 96, and any sequence."""
    return resident_id(draw(regions), draw(births).strftime("%Y%m%d"), draw(sequences))


@st.composite
def as_typed(draw, number):
    """The same number as a person might type it: full-width characters, spaces inside and around, lowercase x."""
    chars = []
    for c in number:
        c = c.lower() if draw(st.booleans()) else c
        c = full_width(c) if draw(st.booleans()) else c
        chars.append(c)
        if draw(st.integers(0, 4)) == 0:
            chars.append(draw(st.text(WHITESPACE, min_size=1, max_size=2)))
    return draw(st.text(WHITESPACE, max_size=3)) + "".join(chars) + draw(st.text(WHITESPACE, max_size=3))


@settings(max_examples=200, deadline=None)
@given(number=valid_resident_ids())
def test_valid_resident_id_normalises_to_itself_and_is_idempotent(number):
    """A valid number is returned unchanged, and normalising the result again changes nothing."""
    document = normalise_document(RESIDENT, number, today=TODAY)
    assert document.number == number
    assert normalise_document(RESIDENT, document.number, today=TODAY) == document
    assert check_document(RESIDENT, number, today=TODAY) == {"valid": True, "normalised": number, "reason": ""}


@settings(max_examples=200, deadline=None)
@given(data=st.data(), number=valid_resident_ids())
def test_typing_variants_normalise_to_the_same_number(data, number):
    """Full-width digits, inner and surrounding whitespace and a lowercase x do not change the result."""
    typed = data.draw(as_typed(number), label="typed")
    assert normalise_document(RESIDENT, typed, today=TODAY) == normalise_document(RESIDENT, number, today=TODAY)


@settings(max_examples=200, deadline=None)
@given(
    number=valid_resident_ids(),
    position=st.integers(min_value=0, max_value=16),
    shift=st.integers(min_value=1, max_value=9),
)
def test_single_digit_change_is_refused(number, position, shift):
    """ISO 7064 MOD 11-2 catches every single-digit substitution: a mistyped digit is never silently accepted."""
    digit = str((int(number[position]) + shift) % 10)
    changed = number[:position] + digit + number[position + 1 :]
    result = check_document(RESIDENT, changed, today=TODAY)
    assert result["valid"] is False, (number, changed)
    assert result["reason"]


@settings(max_examples=200, deadline=None)
@given(raw=st.text(), label=st.sampled_from(list(DOC_TYPE_LABELS.values())))
@example(raw="3.2e+17", label=RESIDENT)
@example(raw="", label=PASSPORT)
def test_check_document_never_raises(raw, label):
    """Any text for any document type gives an answer; the reason is non-empty exactly when it is invalid."""
    result = check_document(label, raw, today=TODAY)
    assert set(result) == {"valid", "normalised", "reason"}
    assert isinstance(result["valid"], bool)
    assert bool(result["reason"]) is (not result["valid"])
    if result["valid"]:
        assert result["normalised"].isascii() and result["normalised"].isalnum()


@settings(max_examples=200, deadline=None)
@given(
    region=regions,
    birth=st.dates(min_value=date(1930, 1, 1), max_value=date(1999, 12, 31)),
    seq=sequences,
)
def test_legacy_15_digit_and_its_18_digit_form_agree(region, birth, seq):
    """A legacy number and its 18-digit conversion are the same document."""
    legacy = region + birth.strftime("%y%m%d") + seq
    converted = resident_id(region, birth.strftime("%Y%m%d"), seq)
    document = normalise_document(RESIDENT, legacy, today=TODAY)
    assert document.number == converted
    assert document == normalise_document(RESIDENT, converted, today=TODAY)
    assert document.birth_date == birth
