"""The statistics exports of the back office, read back from the files (the clock is fixed at 2026-05-20 12:00)."""

import io
from urllib.parse import quote

import docx
import pytest

from gonghui.audit.models import AuditEvent
from tests.backoffice.stats_pages_factories import (
    DOCX,
    E12,
    GS,
    GUSU_2025_MEMBERS,
    GUSU_2026,
    MADE,
    MISSING_CODE,
    REPORTS,
    SZ,
    T01,
    XLSX,
    build_data,
    dashboard,
    exports,
    fix_clock,
    report,
    sheet_rows,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    fix_clock(monkeypatch)


@pytest.fixture
def data(tree, system):
    return build_data(tree, system)


# ---------------------------------------------------------------- the exports

MEMBER_HEADINGS = [
    "单位",
    "期末会员数（人）",
    "上年同期（人）",
    "新入会（人）",
    "接转转入（人）",
    "接转转出（人）",
    "退会及注销（人）",
    "净增（人）",
    "女职工会员（人）",
    "农民工会员（人）",
    "新就业形态会员（人）",
]
MEMBER_NOTES = [
    "说明：会员数含正式会员和保留会籍；期末会员数为统计期末（本期未结束时为统计日期）的人数。",
    "合计为本单位及全部下级组织之和（含直属本单位的会员），各行之和可能小于合计。",
]


def padded(first: str, width: int) -> list[str]:
    return [first] + [""] * (width - 1)


def test_the_member_table_of_the_district_for_the_running_year(data, login, tree):
    response = report(login("district_cadre"), "members")

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    filename = "姑苏区总工会会员统计表（2026年）.xlsx"
    assert response["Content-Disposition"] == f"attachment; filename*=UTF-8''{quote(filename)}"
    rows = sheet_rows(response)
    assert rows[0] == padded("姑苏区总工会会员统计表", 11)
    # A running period is dated the day of the export, not the end of the current month.
    assert rows[1] == ["填报单位：姑苏区总工会", *[""] * 5, "统计期间：2026年\u3000统计日期：2026年05月20日", *[""] * 4]
    assert rows[2] == MEMBER_HEADINGS
    assert rows[3:6] == [
        ["双塔街道总工会", 5, 2, 3, 1, 1, 1, 2, 2, 2, 2],
        ["沧浪街道总工会", 2, 2, 1, 0, 0, 0, 1, 1, 0, 1],
        ["合计", 7, 4, 4, 1, 1, 1, 3, 3, 2, 3],
    ]
    assert rows[6:] == [padded("", 11), *(padded(note, 11) for note in MEMBER_NOTES), padded(MADE, 11)]
    assert exports() == [
        (
            "district_cadre",
            "organisation",
            str(tree[GS].id),
            "姑苏区总工会",
            tree[GS].path,
            {"report": "members", "title": "会员统计表", "period": "2026年"},
        )
    ]


def test_the_member_table_of_the_city_for_a_past_quarter(data, login, tree):
    response = report(login("city_cadre"), "members", org=SZ, period="quarter", year="2026", quarter="1")

    assert response.status_code == 200
    filename = "苏州市总工会会员统计表（2026年第1季度）.xlsx"
    assert response["Content-Disposition"] == f"attachment; filename*=UTF-8''{quote(filename)}"
    rows = sheet_rows(response)
    assert rows[0][0] == "苏州市总工会会员统计表"
    assert rows[1][0] == "填报单位：苏州市总工会"
    assert rows[1][6] == "统计期间：2026年第1季度\u3000统计日期：2026年03月31日"
    assert rows[2] == MEMBER_HEADINGS
    # At the end of March 2026 beside the end of March 2025; women, 农民工 and new employment then, not now.
    assert rows[3:6] == [
        ["姑苏区总工会", 5, 3, 2, 0, 0, 1, 1, 2, 1, 1],
        ["吴中区总工会", 2, 1, 1, 0, 0, 0, 1, 1, 0, 0],
        ["合计", 7, 4, 3, 0, 0, 1, 2, 3, 1, 1],
    ]
    assert exports() == [
        (
            "city_cadre",
            "organisation",
            str(tree[SZ].id),
            "苏州市总工会",
            tree[SZ].path,
            {"report": "members", "title": "会员统计表", "period": "2026年第1季度"},
        )
    ]


def test_the_member_table_of_the_town_lists_every_union_below(data, login):
    rows = sheet_rows(report(login("town_cadre"), "members", period="custom", start="2026-01", end="2026-05"))

    assert rows[1][6] == "统计期间：2026年1月至2026年5月\u3000统计日期：2026年05月20日"
    assert rows[3:7] == [
        ["竹辉社区工会", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ["十二号公司工会委员会", 3, 2, 2, 0, 1, 0, 1, 2, 2, 2],
        ["一二三公司工会委员会", 2, 0, 1, 1, 0, 1, 1, 0, 0, 0],
        ["合计", 5, 2, 3, 1, 1, 1, 2, 2, 2, 2],
    ]


FOUNDING_HEADINGS = [
    "单位",
    "基层工会（个）",
    "企业/单位（家）",
    "已建会（家）",
    "25人以上企业（家）",
    "其中已建会（家）",
    "建会率（%）",
    "100人以上企业（家）",
    "其中已建会（家）",
    "建会率（%）",
]


def test_the_founding_table_of_the_district(data, login, tree):
    response = report(login("district_cadre"), "founding")

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    filename = "姑苏区总工会建会情况表（2026年05月20日）.xlsx"
    assert response["Content-Disposition"] == f"attachment; filename*=UTF-8''{quote(filename)}"
    rows = sheet_rows(response)
    assert rows[0] == padded("姑苏区总工会建会情况表", 10)
    assert rows[1] == ["填报单位：姑苏区总工会", *[""] * 4, "统计日期：2026年05月20日", *[""] * 4]
    assert rows[2] == FOUNDING_HEADINGS
    assert rows[3:6] == [
        ["双塔街道总工会", 2, 4, 2, 3, 2, 66.7, 2, 1, 50.0],
        ["沧浪街道总工会", 1, 2, 1, 2, 1, 50.0, 0, 0, ""],
        ["合计", 3, 6, 3, 5, 3, 60.0, 2, 1, 50.0],
    ]
    assert rows[6:] == [
        padded("", 10),
        padded("说明：建会率 = 已建会企业数 ÷ 企业总数 × 100%，按职工人数 25 人以上、100 人以上分别计算；", 10),
        padded("企业按所在镇(街道)/园区统计，已建会指有工会覆盖（独立建会或纳入联合基层工会）。", 10),
        padded("合计为本单位全部辖区之和；已撤销、已合并组织不单列，其辖区内登记的企业仍计入合计。", 10),
        padded(MADE, 10),
    ]
    assert exports() == [
        (
            "district_cadre",
            "organisation",
            str(tree[GS].id),
            "姑苏区总工会",
            tree[GS].path,
            {"report": "founding", "title": "建会情况表", "period": "2026-05-20"},
        )
    ]


def test_the_founding_table_of_the_city(data, login):
    rows = sheet_rows(report(login("city_cadre"), "founding"))

    assert rows[0][0] == "苏州市总工会建会情况表"
    assert rows[3:6] == [
        ["姑苏区总工会", 3, 6, 3, 5, 3, 60.0, 2, 1, 50.0],
        ["吴中区总工会", 1, 1, 1, 1, 1, 100.0, 1, 1, 100.0],
        ["合计", 4, 7, 4, 6, 4, 66.7, 3, 2, 66.7],
    ]


SUMMARY_HEADINGS = ["类别", "指标", "数值", "单位", "表述参考", "说明"]


# (section, name, value, unit, sentence, note) of the district's running year 2026 (to the end of May).
def test_the_annual_summary_as_a_workbook(data, login, tree):
    response = report(login("district_cadre"), "annual_xlsx", year="2026")

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    filename = "姑苏区总工会2026年度工作统计.xlsx"
    assert response["Content-Disposition"] == f"attachment; filename*=UTF-8''{quote(filename)}"
    rows = sheet_rows(response)
    assert rows[0] == padded("姑苏区总工会2026年度工作统计", 6)
    assert rows[1] == [
        "填报单位：姑苏区总工会",
        "",
        "",
        "统计年度：2026年\u3000统计日期：2026年05月20日（年度未结束）",
        "",
        "",
    ]
    assert rows[2] == SUMMARY_HEADINGS
    assert rows[3:21] == [[s, n, v, u, sentence + "。", note] for s, n, v, u, sentence, note in GUSU_2026]
    assert rows[21:] == [
        padded("", 6),
        padded("说明：注明“当前数”的指标为导出时的数值；其余为统计年度内或年底的数值。各指标口径见统计口径说明。", 6),
        padded(MADE, 6),
    ]
    assert exports() == [
        (
            "district_cadre",
            "organisation",
            str(tree[GS].id),
            "姑苏区总工会",
            tree[GS].path,
            {"report": "annual_xlsx", "title": "年度工作统计（Excel）", "period": "2026年"},
        )
    ]


def test_the_annual_summary_of_a_complete_year(data, login):
    rows = sheet_rows(report(login("district_cadre"), "annual_xlsx", year="2025"))

    assert rows[0][0] == "姑苏区总工会2025年度工作统计"
    assert rows[1][3] == "统计年度：2025年\u3000统计日期：2025年12月31日"
    assert rows[3:10] == [[s, n, v, u, sentence + "。", note] for s, n, v, u, sentence, note in GUSU_2025_MEMBERS]


@pytest.mark.parametrize("year", ["2027", "1999", "abc"])
def test_a_year_that_cannot_be_summarised_falls_back_to_the_current_one(data, login, year):
    response = report(login("district_cadre"), "annual_xlsx", year=year)

    assert response.status_code == 200
    rows = sheet_rows(response)
    assert rows[0][0] == "姑苏区总工会2026年度工作统计"
    assert rows[3][4] == "截至5月20日共有会员 7 人，比上年同期增加 3 人。"
    assert [e[5]["period"] for e in exports()] == ["2026年"]


def test_the_annual_summary_as_a_word_document(data, login, tree):
    response = report(login("district_cadre"), "annual_docx")

    assert response.status_code == 200
    assert response["Content-Type"] == DOCX
    filename = "姑苏区总工会2026年度工作统计.docx"
    assert response["Content-Disposition"] == f"attachment; filename*=UTF-8''{quote(filename)}"
    document = docx.Document(io.BytesIO(response.content))

    def sentences(section):
        return "；".join(item[4] for item in GUSU_2026 if item[0] == section) + "。"

    assert [(p.style.name, p.text) for p in document.paragraphs] == [
        ("Heading 1", "姑苏区总工会2026年度工作统计"),
        ("Normal", "填报单位：姑苏区总工会\u3000统计年度：2026年\u3000统计日期：2026年05月20日（年度未结束）"),
        ("Heading 2", "会员发展"),
        ("Normal", sentences("会员发展")),
        ("Heading 2", "组织建设"),
        ("Normal", sentences("组织建设")),
        ("Heading 2", "会员实名制"),
        ("Normal", sentences("会员实名制")),
        ("Heading 2", "职工服务"),
        ("Normal", sentences("职工服务")),
        ("Heading 2", "统计数据"),
        ("Normal", MADE),
    ]
    assert document.paragraphs[3].text == (
        "截至5月20日共有会员 7 人，比上年同期增加 3 人；今年以来新增会员 4 人；"
        "办理会员接转转入 1 人、转出 1 人；退会 1 人，注销会籍 0 人；女职工会员 3 人，占会员总数的 42.9%；"
        "农民工会员 2 人，占会员总数的 28.6%；新就业形态劳动者会员 3 人。"
    )
    assert len(document.tables) == 1
    table = [[cell.text for cell in row.cells] for row in document.tables[0].rows]
    assert table[0] == ["类别", "指标", "数值", "单位", "说明"]
    assert table[1:] == [[s, n, str(v), u, note] for s, n, v, u, _sentence, note in GUSU_2026]
    assert exports() == [
        (
            "district_cadre",
            "organisation",
            str(tree[GS].id),
            "姑苏区总工会",
            tree[GS].path,
            {"report": "annual_docx", "title": "年度工作统计（Word）", "period": "2026年"},
        )
    ]


def test_each_download_is_one_export_event(data, login, tree):
    client = login("town_cadre")
    for name in REPORTS:
        assert report(client, name, org=E12).status_code == 200
    assert report(client, "members").status_code == 200

    assert [(e[0], e[2], e[5]["report"]) for e in exports()] == [
        ("town_cadre", str(tree[E12].id), "members"),
        ("town_cadre", str(tree[E12].id), "founding"),
        ("town_cadre", str(tree[E12].id), "annual_xlsx"),
        ("town_cadre", str(tree[E12].id), "annual_docx"),
        ("town_cadre", str(tree[T01].id), "members"),
    ]
    assert AuditEvent.objects.filter(action="stats.export").count() == 5


@pytest.mark.parametrize("name", ["unknown", "member", "annual", "MEMBERS", "annual_pdf"])
def test_an_unknown_report_is_missing(data, login, name):
    client = login("district_cadre")
    response = report(client, name)
    assert response.status_code == 404
    assert response.content == dashboard(client, org=MISSING_CODE).content
    assert AuditEvent.objects.filter(action="stats.export").count() == 0
