"""Roster import: the column-wise validation against the registry's per-value normalisers."""

import dataclasses
import random
from datetime import date, timedelta

import polars as pl
import pytest
from stdnum import luhn
from stdnum.cn import ric

from gonghui.common.sheets import read_table
from gonghui.demo.people import LOCAL_REGIONS, MIGRANT_REGIONS, WorkerFactory
from gonghui.demo.rosters import HEADINGS, roster_csv, roster_row
from gonghui.imports.roster import luhn_check_digits
from gonghui.imports.roster.validate import ROSTER_COLUMNS, validate_roster
from gonghui.members.documents import DocumentInvalid, normalise_document
from gonghui.members.models import Person
from gonghui.members.people import document_number_of, normalise_mobile, quality_flags
from tests.imports.roster_factories import (
    FULL_WIDTH,
    HERE,
    UNIT,
    assert_no_person_twice,
    csv_bytes,
    outcomes,
    resident_id,
    run_import,
    with_id,
    workers,
    wrong_check,
    years_before,
)

# ---------------------------------------------------------------------------------------------------------------
# 3. Column-wise validation = the registry's per-value normalisers


def _document_values(today: date, rng: random.Random) -> list[str]:
    regions = LOCAL_REGIONS + MIGRANT_REGIONS
    adult_from, adult_to = date(1930, 1, 1), years_before(today, 17)

    def birth() -> date:
        return adult_from + timedelta(days=rng.randrange((adult_to - adult_from).days))

    def valid() -> str:
        return resident_id(rng.choice(regions), birth(), rng.randrange(1000))

    values: list[str] = []
    values += [valid() for _ in range(80)]
    values += [wrong_check(valid()) for _ in range(30)]
    values += [valid().translate(FULL_WIDTH) for _ in range(20)]
    x_ids = [n for n in (valid() for _ in range(400)) if n.endswith("X")][:10]
    values += [n.lower() for n in x_ids] + [n.translate(FULL_WIDTH).replace("Ｘ", "ｘ") for n in x_ids[:5]]
    for _ in range(20):  # 15-digit legacy numbers, some with impossible dates
        b = birth()
        values.append(f"{rng.choice(regions)}{b:%y%m%d}{rng.randrange(1000):03d}")
    values += ["320506900230123", "32050690013112", "32050690O101123"]
    values += ["3.20506E+17", "3.2050619900101E+17", "3.20506e+17", "4.11522199E+17", "320506199001010018.0"]
    values += [valid()[:15] + "000" for _ in range(20)]  # zeroed tails
    values += [resident_id(rng.choice(regions), today + timedelta(days=d), 11) for d in (1, 30, 400)]  # future
    for days in (1, 100, 2000, 5000):  # under 16
        values.append(resident_id("320508", years_before(today, 16) + timedelta(days=days), 21))
    values.append(resident_id("320508", years_before(today, 16), 23))  # 16 today: accepted
    values += [resident_id(r, birth(), 31) for r in ("999999", "000000", "320599", "990101", "810000", "830000")]
    for year in (1990, 1991, 1993, 2001, 1900):  # 29 February in years without one
        body = f"320508{year}0229123"
        values.append(body + ric.calc_check_digit(body + "0"))
    for year in (1988, 1992, 2000):  # ... and in leap years
        values.append(resident_id("320508", date(year, 2, 29), 123))
    values += [resident_id("320508", date(1899, 12, 31), 5), resident_id("320508", date(1900, 1, 1), 5)]
    values += [f"320508{rng.randrange(10**11):011d}" for _ in range(5)]  # 17 digits
    values += [valid() + "1", valid()[:10] + "AB" + valid()[12:], "320508-19900101-0012", "  " + valid() + " "]
    values += ["3205 0819 9001 0100 1" + ric.calc_check_digit("32050819900101001" + "0"), "E12345678"]
    rng.shuffle(values)
    return values


def test_documents_agree_with_normalise_document(today):
    rng = random.Random(31)
    values = _document_values(today, rng)
    assert len(values) >= 200
    table = read_table(csv_bytes([["姓名", "证件号码"], *[["张三", v] for v in values]]), "ids.csv", ROSTER_COLUMNS)
    result = validate_roster(table, today=today)
    assert result.height == len(values)
    accepted = refused = 0
    for line, value in enumerate(values, start=2):
        row = result.row(by_predicate=pl.col("_line") == line, named=True)
        try:
            document = normalise_document("resident_id", value, today=today)
        except DocumentInvalid as exc:
            refused += 1
            assert (row["status"], row["reason"]) == ("error", str(exc)), value
            assert row["doc_number"] is None
            continue
        accepted += 1
        assert row["status"] == "ok", (value, row["reason"])
        assert (row["doc_type"], row["doc_number"], row["birth_date"], row["sex"], row["region_code"]) == (
            document.doc_type,
            document.number,
            document.birth_date,
            document.sex,
            document.region_code,
        ), value
    assert accepted > 100 and refused > 80


def test_other_document_types_agree_with_normalise_document(today):
    def gb(prefix: str, birth: date, seq: int) -> str:
        body = f"{prefix}{birth:%Y%m%d}{seq:03d}"
        return body + ric.calc_check_digit(body + "0")

    cases = [
        ("港澳居民居住证", gb("810000", date(1985, 3, 4), 12)),
        ("港澳居民居住证", gb("820000", date(1985, 3, 4), 13)),
        ("港澳居民居住证", gb("830000", date(1985, 3, 4), 13)),
        ("台湾居民居住证", gb("830000", date(1979, 11, 30), 7)),
        ("台湾居民居住证", wrong_check(gb("830000", date(1979, 11, 30), 7))),
        ("外国人永久居留身份证", gb("931560", date(1980, 1, 2), 4)),
        ("外国人永久居留身份证", gb("831560", date(1980, 1, 2), 4)),
        ("外国人永久居留身份证", "USA318001012345"),
        ("外国人永久居留身份证", "USA31080123"),
        ("居民身份证", gb("810000", date(1985, 3, 4), 12)),
        ("resident_id", gb("320508", date(1985, 3, 4), 12)),
        ("身份证", gb("320508", date(1985, 3, 4), 12)),
        ("居民身份证", gb("320508", date(1985, 3, 4), 12).translate(FULL_WIDTH)),
    ]
    table = read_table(
        csv_bytes([["姓名", "证件类型", "证件号码"], *[["张三", t, v] for t, v in cases]]), "ids.csv", ROSTER_COLUMNS
    )
    result = validate_roster(table, today=today)
    for line, (doc_type, value) in enumerate(cases, start=2):
        row = result.row(by_predicate=pl.col("_line") == line, named=True)
        try:
            document = normalise_document(doc_type, value, today=today)
        except DocumentInvalid as exc:
            assert (row["status"], row["reason"]) == ("error", str(exc)), (doc_type, value)
            continue
        assert row["status"] == "ok", (doc_type, value, row["reason"])
        assert (row["doc_type"], row["doc_number"], row["birth_date"]) == (
            document.doc_type,
            document.number,
            document.birth_date,
        )
        assert (row["sex"] or "") == document.sex and (row["region_code"] or "") == document.region_code


def _other_script(number: str, position: int, zero: str) -> str:
    assert number[position] == "0"
    return number[:position] + zero + number[position + 1 :]


@pytest.mark.parametrize("zero", ["\u0660", "\u0966"], ids=["arabic-indic", "devanagari"])
@pytest.mark.parametrize("position", [14, 15])
def test_decimal_digits_of_other_scripts_are_normalised_like_the_registry_does(today, zero, position):
    """`clean_number` turns decimal digits of any script into ASCII; the column-wise fast path must either do the
    same or leave the value to `normalise_document`."""
    number = resident_id("320508", date(1990, 1, 1), 1)  # 32050819900101001?
    value = _other_script(number, position, zero)
    assert normalise_document("resident_id", value, today=today).number == number
    table = read_table(csv_bytes([["姓名", "证件号码"], ["张三", value]]), "ids.csv", ROSTER_COLUMNS)
    row = validate_roster(table, today=today).row(0, named=True)
    assert row["status"] == "ok"
    assert row["doc_number"] == number


@pytest.mark.parametrize("zero", ["\u0660", "\u0966"], ids=["arabic-indic", "devanagari"])
def test_other_script_digit_in_the_sex_position_does_not_crash_validation(today, zero):
    number = resident_id("320508", date(1990, 1, 1), 100)  # position 16 (the sex digit) is 0
    value = _other_script(number, 16, zero)
    assert normalise_document("resident_id", value, today=today).number == number
    table = read_table(csv_bytes([["姓名", "证件号码"], ["张三", value]]), "ids.csv", ROSTER_COLUMNS)
    row = validate_roster(table, today=today).row(0, named=True)  # raised polars InvalidOperationError
    assert (row["status"], row["doc_number"], row["sex"]) == ("ok", number, "F")


def test_other_script_digits_do_not_register_a_person_twice(tree, system, today):
    """The consequence at registry level: the same ID written with an Arabic-Indic zero and with an ASCII zero."""
    w = workers(32, today, 1)[0]
    number = resident_id("320508", w.birth_date, 11 if w.sex == "M" else 12)  # sequence 011/012: position 14 is 0
    w = with_id(w, number)
    run_import(
        system, tree[HERE], "a.csv", roster_csv([roster_row(1, with_id(w, _other_script(number, 14, "\u0660")))])
    )
    second = run_import(system, tree["SZ-GS-T01-123"], "b.csv", roster_csv([roster_row(1, w)]))
    assert outcomes(second) == {2: "conflict"}
    assert Person.objects.count() == 1
    assert_no_person_twice()


def _phone_values(rng: random.Random) -> list[str]:
    prefixes = ["130", "131", "135", "138", "139", "145", "147", "150", "152", "157", "166", "170", "171", "173",
                "175", "177", "180", "185", "187", "189", "191", "192", "196", "198", "199"]  # fmt: skip
    values = []
    for _ in range(60):
        mobile = rng.choice(prefixes) + f"{rng.randrange(10**8):08d}"
        style = rng.randrange(9)
        values.append(
            [
                mobile,
                f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}",
                f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
                "+86" + mobile,
                "+86 " + mobile,
                "0086" + mobile,
                "86" + mobile,
                mobile.translate(FULL_WIDTH),
                f"(+86){mobile}",
            ][style]
        )
    for _ in range(40):  # anything that starts with 1 and has 11 digits
        values.append("1" + f"{rng.randrange(10**10):010d}")
    values += ["0512-65241234", "051265241234", "65241234", "1380013800", "138001380001", "12800138000",
               "10012345678", "14012345678", "+85213800138000", "+86 0138 0013 8000", "138.0013.8000",
               "13800138000转8", "手机13800138000", "abc", "1", "86-13800138000", "＋86 13800138000",
               "(0086)13800138000", "138 0013 8000 ", "８６１３８００１３８０００", "008613800138000",
               "+8613800138000 ", "86 13800138000", "+86-138-0013-8000", "400-800-8888"]  # fmt: skip
    rng.shuffle(values)
    return values


def test_phones_agree_with_normalise_mobile(today):
    values = _phone_values(random.Random(33))
    number = resident_id("320508", date(1990, 1, 1), 11)
    table = read_table(
        csv_bytes([["姓名", "证件号码", "手机号码"], *[["张三", number, v] for v in values]]), "p.csv", ROSTER_COLUMNS
    )
    result = validate_roster(table, today=today)
    for line, value in enumerate(values, start=2):
        row = result.row(by_predicate=pl.col("_line") == line, named=True)
        try:
            phone = normalise_mobile(value)
        except ValueError as exc:
            assert (row["status"], row["reason"], row["phone"]) == ("error", str(exc), None), value
            continue
        assert (row["status"], row["phone"]) == ("ok", phone), (value, row["reason"])


def test_luhn_check_digits_agree_with_stdnum():
    rng = random.Random(34)
    bodies = [f"{rng.randrange(10**16):016d}" for _ in range(3000)] + ["0" * 16, "9" * 16, "3205082026000001"]
    frame = pl.DataFrame({"body": bodies})
    digits = frame.select(luhn_check_digits(pl.col("body"), 16).alias("d")).get_column("d").to_list()
    assert digits == [luhn.calc_check_digit(b) for b in bodies]


def test_imported_quality_flags_equal_the_registry_rule(tree, system, today):
    factory = WorkerFactory(35, today)
    w = [factory.worker(UNIT) for _ in range(10)]

    def born(worker, birth: date):
        seq = 11 if worker.sex == "M" else 12
        return dataclasses.replace(worker, doc_number=resident_id("320508", birth, seq), birth_date=birth)

    people = [
        w[0],
        dataclasses.replace(w[1], phone=""),
        dataclasses.replace(w[2], education=""),
        dataclasses.replace(w[3], work_unit=""),
        dataclasses.replace(w[4], ethnicity="", phone=""),
        born(w[5], years_before(today, 101)),  # 101 today
        born(w[6], years_before(today, 101) + timedelta(days=1)),  # 100 for one more day
        born(w[7], years_before(today, 100)),
        born(w[8], years_before(today, 16)),  # 16 today
        dataclasses.replace(w[9], employment_form=""),
    ]
    rows = [roster_row(i + 1, p) for i, p in enumerate(people)]
    for row in rows:  # joined today: old joining dates would be before a young person's 16th birthday
        row[HEADINGS.index("入会日期")] = ""
    job = run_import(system, tree[HERE], "q.csv", roster_csv(rows))
    assert outcomes(job) == {}

    def check():
        flags = {}
        for person in Person.objects.all():
            assert person.quality_flags == quality_flags(person, today=today), person.name
            flags[document_number_of(person)] = person.quality_flags
        return flags

    flags = check()
    assert len(set(flags.values())) >= 4  # the file really exercises several flags
    assert flags[people[0].doc_number] == 0

    # An upsert that fills some of the gaps recomputes the flags the same way.
    rows[1][HEADINGS.index("手机号码")] = "13912345678"
    rows[2][HEADINGS.index("学历")] = "大专"
    rows[4][HEADINGS.index("民族")] = "汉族"
    upsert = run_import(system, tree[HERE], "q.csv", roster_csv(rows), mode="upsert")
    assert {line for line, status in outcomes(upsert).items() if status == "updated"} == {3, 4, 6}
    flags = check()
    assert flags[people[1].doc_number] == 0
