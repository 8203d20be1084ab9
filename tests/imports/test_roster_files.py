"""Roster import (会员名册导入): the files people actually send (GBK CSV with a title row, .xlsx with IDs typed as
numbers, .xls, UTF-8 with BOM, blank and ragged rows)."""

import io

import pytest
import xlwt
from stdnum import luhn

from gonghui.common.sheets import SheetUnreadable, decode_csv, read_table
from gonghui.demo.people import WorkerFactory
from gonghui.demo.rosters import HEADINGS, roster_csv, roster_row
from gonghui.imports.roster.validate import ROSTER_COLUMNS
from gonghui.members.models import Membership, Person
from tests.imports.roster_factories import (
    BEYOND_HEADER,
    ELSEWHERE,
    ELSEWHERE_NAME,
    FULL_WIDTH,
    HERE,
    TITLE,
    UNIT,
    _fifteen_digits,
    _numeric_id_workbook,
    _read_back,
    _report,
    _report_rows,
    _zeroed_is_refused,
    assert_no_person_twice,
    csv_bytes,
    doc_reason,
    members_of,
    outcomes,
    person_by_number,
    reasons,
    run_import,
    with_id,
    workers,
)


def test_gbk_csv_with_title_row_blank_and_ragged_rows(gbk_import, tree, today):
    payload = gbk_import["payload"]
    with pytest.raises(UnicodeDecodeError):
        gbk_import["content"].decode("utf-8")  # really GBK, not UTF-8
    assert decode_csv(gbk_import["content"])[1] == "GBK/GB18030"

    assert payload["summary"] == {
        "rows": 9, "added": 5, "updated": 0, "unchanged": 0, "conflict": 1, "duplicate": 1, "error": 2,
    }  # fmt: skip
    assert payload["unknown_columns"] == ["紧急联系人"]
    # The JSON rows are exactly the rows that were not simply added, in line order.
    assert [(r["row"], r["status"]) for r in payload["rows"]] == [
        (7, "conflict"),
        (8, "duplicate"),
        (9, "error"),
        (12, "error"),
    ]
    by_row = {r["row"]: r["reason"] for r in payload["rows"]}
    assert by_row[7].startswith("该人员已是其他工会会员（证件号码 ") and ELSEWHERE_NAME not in by_row[7]
    assert "第3、8行" in by_row[8] and "只导入第3行" in by_row[8]
    assert by_row[9] == BEYOND_HEADER
    assert by_row[12] == doc_reason(gbk_import["wrong_check"], today)

    job = gbk_import["job"]
    assert job.result["header_line"] == 2
    assert job.result["encoding"] == "GBK/GB18030"


def test_gbk_import_writes_exactly_the_added_people_normalised(gbk_import, tree):
    here = members_of(tree[HERE])
    expected = {w.doc_number.upper(): w for w in gbk_import["added"].values()}
    assert set(here) == set(expected)  # full-width digits and the lower-case x were normalised
    for number, person in here.items():
        assert person.name == expected[number].name
        assert number.isascii() and number == number.upper()
        assert luhn.is_valid(Membership.objects.get(person=person, org=tree[HERE]).card_number)
    # The line-13 row had only five cells: imported with what it had.
    short = here[gbk_import["added"][13].doc_number]
    assert short.education == "" and short.phone_masked == ""
    # The member of another union stays there only; the duplicated person exists once.
    elsewhere = person_by_number(gbk_import["elsewhere"].doc_number)
    assert list(elsewhere.memberships.values_list("org__code", flat=True)) == [ELSEWHERE]
    assert person_by_number(gbk_import["workers"][4].doc_number) is None  # the ragged row was not imported
    assert person_by_number(gbk_import["wrong_check"]) is None
    assert_no_person_twice()


def test_xlsx_ids_typed_as_numbers_are_errors_that_mention_excel(tree, system, today):
    factory = WorkerFactory(12, today)
    pool = [factory.worker(UNIT) for _ in range(40)]
    # Numeric rows whose damaged value the registry refuses (see the next test for the other kind).
    damaged = [w for w in pool if not w.doc_number.endswith("X")]
    damaged = [w for w in damaged if _zeroed_is_refused(w.doc_number, today)][:3]
    plain = [w for w in pool if w not in damaged][:3]
    rows = [(plain[0], False), (damaged[0], True), (plain[1], False), (damaged[1], True), (damaged[2], True),
            (plain[2], False)]  # fmt: skip
    job = run_import(system, tree[HERE], "名册.xlsx", _numeric_id_workbook(TITLE, rows))

    assert job.result["header_line"] == 2
    assert outcomes(job) == {4: "error", 6: "error", 7: "error"}
    for line, (worker, _) in ((4, rows[1]), (6, rows[3]), (7, rows[4])):
        reason = reasons(job)[line]
        assert "Excel" in reason
        assert reason == doc_reason(_read_back(worker.doc_number), today)
    assert set(members_of(tree[HERE])) == {w.doc_number for w in plain}
    # The date cell of 入会日期 was read as a date.
    for worker in plain:
        assert Membership.objects.get(person=person_by_number(worker.doc_number)).joined_on == worker.joined_on


def test_xlsx_numeric_id_whose_zeroed_tail_happens_to_pass_the_check_is_still_refused(tree, system, today):
    """An 18-digit ID stored as a number always loses its last three digits. About one number in eleven then still
    carries a correct check digit ("…000" where the check of "…00" is 0); the import must not take that for a
    valid ID of someone else."""
    factory = WorkerFactory(13, today)
    pool = [w for w in (factory.worker(UNIT) for _ in range(200)) if not w.doc_number.endswith("X")]
    unlucky = next(w for w in pool if not _zeroed_is_refused(w.doc_number, today))
    assert _fifteen_digits(unlucky.doc_number) != unlucky.doc_number  # the number in the file is not the person's ID
    job = run_import(system, tree[HERE], "名册.xlsx", _numeric_id_workbook(TITLE, [(unlucky, True)]))

    assert outcomes(job) == {3: "error"}
    assert "Excel" in reasons(job)[3]
    assert Person.objects.count() == 0


def test_xls_written_with_xlwt(tree, system, today):
    pool = workers(14, today, 20)
    numeric = next(x for x in pool if not x.doc_number.endswith("X") and _zeroed_is_refused(x.doc_number, today))
    w = [x for x in pool if x != numeric][:3]
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("会员名册")
    sheet.write(0, 0, TITLE)
    for column, heading in enumerate(HEADINGS):
        sheet.write(1, column, heading)
    placed = {3: w[0], 5: w[1], 6: w[2]}  # line 4 is left blank
    for line, worker in placed.items():
        for column, value in enumerate(roster_row(line - 2, worker)):
            sheet.write(line - 1, column, value)
    for column, value in enumerate(roster_row(9, numeric)):
        sheet.write(6, column, int(value) if HEADINGS[column] == "证件号码" else value)  # line 7
    buffer = io.BytesIO()
    book.save(buffer)

    job = run_import(system, tree[HERE], "名册.xls", buffer.getvalue())
    assert job.result["summary"] == {
        "rows": 4, "added": 3, "updated": 0, "unchanged": 0, "conflict": 0, "duplicate": 0, "error": 1,
    }  # fmt: skip
    assert outcomes(job) == {7: "error"}
    assert "Excel" in reasons(job)[7]
    assert set(members_of(tree[HERE])) == {x.doc_number for x in placed.values()}


def test_utf8_csv_with_bom(tree, system, today):
    w = workers(15, today, 3)
    rows = [roster_row(1, w[0]), roster_row(2, with_id(w[1], w[1].doc_number.translate(FULL_WIDTH))), [],
            roster_row(3, w[2])]  # fmt: skip
    content = roster_csv(rows)  # utf-8-sig
    assert content.startswith(b"\xef\xbb\xbf")
    job = run_import(system, tree[HERE], "roster.csv", content)

    assert job.result["encoding"] == "UTF-8 (BOM)"
    assert job.result["header_line"] == 1
    assert job.result["unknown_columns"] == []  # the BOM is not glued to the first heading (序号)
    assert "序号" in job.result["ignored_columns"]
    assert outcomes(job) == {}
    assert job.result["summary"]["added"] == 3
    assert set(members_of(tree[HERE])) == {x.doc_number for x in w}


def test_a_cell_far_beyond_the_header_late_in_a_csv_is_still_an_error(tree, system, today):
    """The CSV reader sizes its columns from the first lines of the file; a row further down with a value many
    columns to the right of the header must still be refused (and the value kept in the report), not cut off."""
    w = workers(17, today, 80)
    rows = [roster_row(i + 1, x) for i, x in enumerate(w)]
    rows[74] = [*rows[74], *[""] * 12, "错列的内容"]  # line 76: a value 13 columns right of the last heading
    job = run_import(system, tree[HERE], "late.csv", roster_csv(rows))
    assert outcomes(job) == {76: "error"}
    assert reasons(job)[76] == BEYOND_HEADER
    assert person_by_number(w[74].doc_number) is None
    _, report = _report_rows(_report(job))
    assert len(report) == 1 and "错列的内容" in report[0]


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no-bom", "bom"])
def test_a_damaged_byte_in_a_utf8_csv_is_refused_not_read_as_gbk(bom, today):
    """A UTF-8 roster with one damaged byte must not be decoded as GB18030 (every name would be garbled)."""
    rows = [roster_row(i + 1, x) for i, x in enumerate(workers(31, today, 5))]
    content = bom + roster_csv(rows).removeprefix(b"\xef\xbb\xbf")
    fourth = content.index(rows[3][1].encode())  # the name on line 5 (header on line 1)
    damaged = content[:fourth] + b"\xff" + content[fourth + 1 :]
    with pytest.raises(SheetUnreadable) as refused:
        decode_csv(damaged)
    assert refused.value.message == (
        "文件是 UTF-8 编码，但第5行有无法识别的字符（文件可能已损坏），请检查该行后重新保存为 CSV"
    )


def test_gbk_text_is_still_read_as_gbk(today):
    rows = [roster_row(i + 1, x) for i, x in enumerate(workers(32, today, 5))]
    content = roster_csv(rows).removeprefix(b"\xef\xbb\xbf").decode("utf-8").encode("gb18030")
    text, encoding = decode_csv(content)
    assert encoding == "GBK/GB18030" and rows[3][1] in text


def test_the_header_check_of_a_large_csv_reads_only_its_head(today):
    """The edge check parses the first rows only; the head is cut at a line break, so it decodes as the file does."""
    rows = [roster_row(i + 1, x) for i, x in enumerate(workers(33, today, 20))] * 600  # ~1.9 MB
    for content in (roster_csv(rows), roster_csv(rows).removeprefix(b"\xef\xbb\xbf").decode().encode("gb18030")):
        assert len(content) > 1 << 20
        head = read_table(content, "big.csv", ROSTER_COLUMNS, limit=21)
        whole = read_table(content, "big.csv", ROSTER_COLUMNS)
        assert head.rows == 20 and whole.rows == 12_000
        assert head.encoding == whole.encoding and head.mapped == whole.mapped
        assert head.frame.rows() == whole.frame.head(20).rows()


@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted"])
def test_csv_width_comes_from_the_widest_record_with_or_without_quotes(quoted):
    """Plain CSV is sized by counting commas per line; once a quote appears, commas and line breaks inside quotes
    do not separate cells, so the csv module sizes it. Either way the far cell is read, and nothing more."""
    lines = ["姓名,证件号码,手机号码", "张三,110101199003074514,13800138000"]
    if quoted:
        lines += ['"李四, 备注里有逗号",110101199003071234,"多行\n,,,,,,,,,,,,"', "王五,110101199003075678,,,,,远处"]
    else:
        lines += ["李四,110101199003071234,", "王五,110101199003075678,,,,,远处"]
    table = read_table("\n".join(lines).encode(), "x.csv", ROSTER_COLUMNS)
    far = [c for c in table.original.columns if c.endswith("（无表头）")]
    assert far == ["第7列（无表头）"]
    assert table.original.get_column(far[0]).to_list() == [None, None, "远处"]
    assert table.rows == 3


def test_duplicate_headings_do_not_break_the_reader(tree, system, today):
    """Two columns with the same heading (a second 备注 column, say) are common in hand-made sheets; the reader has
    an explicit rule for a field named twice ("已使用前一列") and must not crash on identical text."""
    w = workers(16, today, 2)
    content = csv_bytes(
        [
            ["姓名", "证件号码", "备注", "备注"],
            [w[0].name, w[0].doc_number, "甲", "乙"],
            [w[1].name, w[1].doc_number, "", ""],
        ]
    )
    table = read_table(content, "dup.csv", ROSTER_COLUMNS)
    assert table.mapped["remarks"] == "备注"
    job = run_import(system, tree[HERE], "dup.csv", content)
    assert job.result["summary"]["added"] == 2
