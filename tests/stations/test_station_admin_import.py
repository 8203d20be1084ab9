"""Service stations in the back office: importing the station sheet and the demand points."""

import io
import re

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from gonghui.common.geo import gcj02_to_wgs84
from gonghui.stations.models import DemandPoint, Station
from tests.stations.page_factories import (
    C1,
    E12,
    E123,
    MISSING_CODE,
    SZ,
    T01,
    WZ,
    audits,
    csv_upload,
    station_state,
    text,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def xlsx_upload(name: str, rows: list[list]) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("站点")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    book.close()
    return SimpleUploadedFile(name, buffer.getvalue())


def result_section(page: str) -> str:
    start = page.index('<section class="gh-card" id="gh-station-import-result">')
    return page[start : page.index("</section>", start)]


def import_summary(page: str) -> tuple[str, list[str]]:
    """(the message, [added, updated, unchanged, errors]) of an import result."""
    section = result_section(page)
    message = re.search(r'<p id="gh-station-import-message"><strong>(.*?)</strong></p>', section).group(1)
    counts = re.search(r"<tbody><tr>(.*?)</tr></tbody></table>", section).group(1)
    return message, re.findall(r'<td class="gh-num">([^<]*)</td>', counts)


def import_rows(page: str) -> list[tuple[str, str, str, str]]:
    """(line, name, result, reason) of each row of an import result, in the order shown."""
    section = result_section(page)
    table = section[section.index('id="gh-station-import-rows"') :]
    rows = re.findall(r'<tr><td class="gh-num">(\d+)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>', table)
    return [(line, name, re.sub(r"<[^>]+>", "", result), reason) for line, name, result, reason in rows]


# ================================================================ 3. the station import

# One sheet as the spreadsheet shows it: a title on line 1, the header on line 2, the stations from line 3.
TITLE = "2026年双塔街道服务站点登记表"


HEADER = "站点名称,管理单位代码,站点类型,地址,纬度,经度,坐标系,开放时间,周日,法定节假日,设施,联系电话,备注"


ROW_SAME = (  # 双塔驿站 exactly as registered
    "双塔驿站,SZ-GS-T01,户外劳动者服务站点,苏州市姑苏区双塔街道1号,31.3027,120.6,,24小时,,,饮水、充电,"
    "0512-65001234,夏季供应绿豆汤"
)


ROW_SWAPPED = "十二号新驿站,SZ-GS-T01-12,,人民路18号,120.61,31.305,,08:00-18:00,休息,闭站,饮水,,"


ROW_FIXED = "十二号新驿站,SZ-GS-T01-12,,人民路18号,31.305,120.61,,08:00-18:00,休息,闭站,饮水,,"


ROW_WUZHONG = "吴中驿站,SZ-WZ-T01,,木渎,31.25,120.6,,,,,,,"


ROW_BOOKS = "竹辉书屋,SZ-GS-T01-C1,职工书屋,竹辉路10号,31.3095,120.601,GCJ-02,09:00-21:00,,10:00-16:00,图书、无线网络,,"


def import_page(client: Client, upload, **extra):
    return client.post(reverse("admin:station_import"), {"file": upload, **extra})


def test_the_import_page_explains_the_sheet(login):
    response = login("grassroots_cadre").get(reverse("admin:station_import"))
    assert response.status_code == 200
    page = text(response)
    assert '<h2 class="gh-h2">站点导入</h2>' in page
    assert "必填列：站点名称、管理单位代码、纬度、经度（还需地址；类型不填时为户外劳动者服务站点）。" in page
    assert '<input type="checkbox" name="dry_run" value="1" id="id_dry_run" checked>' in page
    assert 'id="gh-station-import-result"' not in page


def test_a_sheet_with_a_bad_row_is_reported_line_by_line_and_nothing_is_written(layout, login):
    before = station_state()
    rows = [TITLE, HEADER, ROW_SAME, ROW_SWAPPED, ROW_WUZHONG, ROW_BOOKS]
    response = import_page(login("town_cadre"), csv_upload("站点.csv", rows))
    assert response.status_code == 200
    page = text(response)
    assert '<h3 class="gh-h3">导入结果：站点.csv</h3>' in page
    assert import_summary(page) == ("有 2 行错误，整个文件未导入。", ["1", "0", "1", "2"])
    # The title is line 1 and the header line 2, as the spreadsheet shows them; errors come first.
    assert import_rows(page) == [
        ("4", "十二号新驿站", "有错误", "经纬度填反了：120.61 像是经度、31.305 像是纬度，请交换后重新填写"),
        ("5", "吴中驿站", "有错误", "管理单位代码“SZ-WZ-T01”不存在或不在您的管辖范围内"),
        ("3", "双塔驿站", "无变化", ""),
        ("6", "竹辉书屋", "新增", ""),
    ]
    assert "未识别的列" not in page
    assert station_state() == before


def test_a_preview_checks_every_row_and_writes_nothing(layout, login):
    before = station_state()
    rows = [TITLE, HEADER, ROW_SAME, ROW_FIXED, ROW_BOOKS]
    response = import_page(login("town_cadre"), csv_upload("站点.csv", rows), dry_run="1")
    page = text(response)
    assert '<h3 class="gh-h3">预览结果：站点.csv</h3>' in page
    assert import_summary(page) == ("检查通过，取消“仅预览”后再上传即可导入。", ["2", "0", "1", "0"])
    assert import_rows(page) == [
        ("3", "双塔驿站", "无变化", ""),
        ("4", "十二号新驿站", "新增", ""),
        ("5", "竹辉书屋", "新增", ""),
    ]
    assert station_state() == before


def test_the_corrected_sheet_is_written_in_one_go(layout, tree, login):
    rows = [TITLE, HEADER, ROW_SAME, ROW_FIXED, ROW_BOOKS, ",,,,,,,,,,,,"]  # a blank row at the end
    response = import_page(login("town_cadre"), csv_upload("站点.csv", rows))
    page = text(response)
    assert import_summary(page) == ("已导入。", ["2", "0", "1", "0"])
    assert import_rows(page) == [
        ("3", "双塔驿站", "无变化", ""),
        ("4", "十二号新驿站", "新增", ""),
        ("5", "竹辉书屋", "新增", ""),
    ]
    new = Station.objects.get(name="十二号新驿站")
    assert (new.org.code, new.kind, new.address, new.lat, new.lng, new.always_open) == (
        E12,
        "outdoor",  # a blank type is an outdoor workers' station
        "人民路18号",
        31.305,
        120.61,
        False,
    )
    assert new.hours == {**{str(day): [["08:00", "18:00"]] for day in range(1, 7)}, "7": []}
    assert (new.holiday_rule, new.holiday_hours, new.facilities, new.status) == ("closed", [], ["water"], "open")
    books = Station.objects.get(name="竹辉书屋")
    assert (books.org.code, books.kind, books.lat, books.lng) == (
        C1,
        "books",
        *(round(v, 7) for v in gcj02_to_wgs84(31.3095, 120.601)),
    )
    assert books.hours == {str(day): [["09:00", "21:00"]] for day in range(1, 8)}
    assert (books.holiday_rule, books.holiday_hours, books.facilities) == (
        "special",
        [["10:00", "16:00"]],
        ["books", "wifi"],
    )
    assert sorted(name for _, _, _, name, _, _ in audits("station.create")) == sorted(
        ["双塔驿站", "竹辉妈妈驿站", "木渎驿站", "十二号驿站", "一二三驿站", "十二号新驿站", "竹辉书屋"]
    )
    assert audits("stations.import") == [
        (
            "town_cadre",
            "station",
            "",
            "站点导入",
            tree[T01].path,
            {"file": "站点.csv", "added": 2, "updated": 0, "unchanged": 1, "error": 0},
        )
    ]


def test_an_xlsx_sheet_with_numbers_updates_the_rows_that_changed(layout, login):
    heading = ["序号", "站点名称", "管理单位代码", "站点类型", "地址", "纬度", "经度", "开放时间", "法定节假日", "设施"]
    rows = [
        ["双塔街道服务站点（更新）"],
        [*heading, "联系电话", "备注"],
        [1, "双塔驿站", T01, "户外劳动者服务站点", "苏州市姑苏区双塔街道1号", 31.3027, 120.6, "24小时", None]
        + ["饮水，充电，热饭", "0512-65001234", "夏季供应绿豆汤"],
        [2, "竹辉妈妈驿站", C1, "妈妈驿站", "竹辉路8号", 31.309, 120.6, "08:00-20:00", "闭站", "饮水、卫生间、母婴室"],
    ]
    client = login("town_cadre")
    response = import_page(client, xlsx_upload("站点.xlsx", rows))
    assert import_summary(text(response)) == ("已导入。", ["0", "2", "0", "0"])
    assert import_rows(text(response)) == [("3", "双塔驿站", "更新", ""), ("4", "竹辉妈妈驿站", "更新", "")]
    shuangta = Station.objects.get(id=layout.shuangta.id)
    assert (shuangta.facilities, shuangta.phone) == (["water", "meals", "charging"], "051265001234")
    zhuhui = Station.objects.get(id=layout.zhuhui.id)
    assert zhuhui.hours == {str(day): [["08:00", "20:00"]] for day in range(1, 8)}  # Saturday and Sunday too now
    assert (zhuhui.kind, zhuhui.holiday_rule, zhuhui.facilities) == (
        "mothers",
        "closed",
        ["water", "toilet", "nursing"],
    )
    assert {label: details for _, _, _, label, _, details in audits("station.update")} == {
        "双塔驿站": {"fields": ["facilities"]},
        "竹辉妈妈驿站": {"fields": ["hours"]},
    }
    # The same sheet again changes nothing.
    before = station_state()
    response = import_page(client, xlsx_upload("站点.xlsx", rows))
    assert import_summary(text(response)) == ("已导入。", ["0", "0", "2", "0"])
    assert station_state()["stations"] == before["stations"]


def test_columns_missing_from_the_sheet_leave_existing_stations_as_they_are(layout, login):
    lines = [
        "站点名称,管理单位代码,地址,纬度,经度,开放时间,周六,周日,法定节假日,设施",
        "双塔驿站,SZ-GS-T01,苏州市姑苏区双塔街道1号,31.3027,120.6,24小时,,,,饮水、充电",
        "竹辉妈妈驿站,SZ-GS-T01-C1,竹辉路8号,31.309,120.6,08:00-20:00,09:00-17:00,休息,闭站,饮水、卫生间、母婴室",
    ]
    before = station_state()
    page = text(import_page(login("town_cadre"), csv_upload("站点.csv", lines)))
    assert import_rows(page) == [("2", "双塔驿站", "无变化", ""), ("3", "竹辉妈妈驿站", "无变化", "")]
    assert station_state()["stations"] == before["stations"]


def test_the_grassroots_cadre_imports_for_its_own_union_only(layout, tree, login):
    client = login("grassroots_cadre")
    rows = [HEADER, ROW_FIXED, "一二三新驿站,SZ-GS-T01-123,,人民路1号,31.3011,120.6,,全天,,,,,"]
    before = station_state()
    page = text(import_page(client, csv_upload("站点.csv", rows)))
    assert import_summary(page) == ("有 1 行错误，整个文件未导入。", ["1", "0", "0", "1"])
    assert import_rows(page) == [
        ("3", "一二三新驿站", "有错误", "管理单位代码“SZ-GS-T01-123”不存在或不在您的管辖范围内"),
        ("2", "十二号新驿站", "新增", ""),
    ]
    assert station_state() == before
    page = text(import_page(client, csv_upload("站点.csv", rows[:2])))
    assert import_summary(page) == ("已导入。", ["1", "0", "0", "0"])
    assert Station.objects.get(name="十二号新驿站").org.code == E12


def test_a_file_without_the_header_or_without_rows_is_refused_as_a_whole(layout, login):
    client = login("town_cadre")
    before = station_state()
    response = import_page(client, csv_upload("站点.csv", ["名称,地址", "双塔驿站,x"]))
    page = text(response)
    assert response.status_code == 200
    assert "没有找到表头：前20行中没有一行同时包含“站点名称”、“管理单位代码”、“纬度”、“经度”列，请使用导入模板" in page
    assert 'id="gh-station-import-result"' not in page
    response = import_page(client, csv_upload("站点.csv", [HEADER]))
    assert "表头下方没有数据" in text(response)
    response = client.post(reverse("admin:station_import"), {})
    assert "请选择要导入的文件" in text(response)
    assert station_state() == before


# ================================================================ 4. the demand import

DEMAND_HEADER = "名称,纬度,经度,人数,坐标系"


DEMAND_ROWS = [
    "双塔配送站,31.3000,120.6000,40,",
    "环卫所,31.3200,120.6000,25,",
    "工地,31.3210,120.6010,15,WGS84",
    "快递点,31.3500,120.6500,10,",
]


def test_the_demand_import_replaces_the_points_of_the_chosen_organisation(layout, tree, login):
    client = login("town_cadre")
    url = f"{reverse('admin:demand_import')}?org={T01}"
    page = text(client.get(url))
    assert '<h2 class="gh-h2">需求点导入 · 双塔街道总工会</h2>' in page
    assert f'<input type="hidden" name="org" value="{T01}">' in page
    before = station_state()
    rows = ["双塔街道户外劳动者聚集点", DEMAND_HEADER, *DEMAND_ROWS, "坏点,0,0,3.5,"]
    page = text(client.post(url, {"org": T01, "file": csv_upload("需求点.csv", rows)}))
    assert import_summary(page) == ("有 1 行错误，整个文件未导入。", ["4", "0", "0", "1"])
    assert import_rows(page)[0] == (
        "7",
        "坏点",
        "有错误",
        "坐标是 0,0（没有定位），请填写站点的实际经纬度；人数应为 1 至 1000000 之间的整数",
    )
    assert [row[:3] for row in import_rows(page)[1:]] == [
        ("3", "双塔配送站", "新增"),
        ("4", "环卫所", "新增"),
        ("5", "工地", "新增"),
        ("6", "快递点", "新增"),
    ]
    assert station_state() == before
    page = text(client.post(url, {"org": T01, "file": csv_upload("需求点.csv", rows[:-1])}))
    assert import_summary(page) == ("已导入。", ["4", "0", "0", "0"])
    assert sorted(DemandPoint.objects.values_list("org__code", "name", "lat", "lng", "workers")) == sorted(
        [
            (T01, "双塔配送站", 31.3, 120.6, 40),
            (T01, "环卫所", 31.32, 120.6, 25),
            (T01, "工地", 31.321, 120.601, 15),
            (T01, "快递点", 31.35, 120.65, 10),
        ]
    )
    # A second sheet replaces the first.
    page = text(client.post(url, {"org": T01, "file": csv_upload("需求点2.csv", [DEMAND_HEADER, DEMAND_ROWS[0]])}))
    assert import_summary(page) == ("已导入。", ["1", "0", "0", "0"])
    assert list(DemandPoint.objects.values_list("name", flat=True)) == ["双塔配送站"]
    assert sorted(audits("stations.demand_import"), key=lambda event: event[5]["file"]) == [
        ("town_cadre", "organisation", str(tree[T01].id), "双塔街道总工会", tree[T01].path, detail)
        for detail in (
            {"file": "需求点.csv", "points": 4, "replaced": 0},
            {"file": "需求点2.csv", "points": 1, "replaced": 4},
        )
    ]


def test_without_an_org_the_demand_import_is_for_the_cadres_own_union(login):
    page = text(login("grassroots_cadre").get(reverse("admin:demand_import")))
    assert '<h2 class="gh-h2">需求点导入 · 十二号公司工会委员会</h2>' in page


@pytest.mark.parametrize("username, code", [("town_cadre", WZ), ("town_cadre", SZ), ("grassroots_cadre", E123)])
def test_the_demand_import_for_an_org_out_of_scope_is_the_missing_page(layout, login, username, code):
    client = login(username)
    url = reverse("admin:demand_import")
    before = station_state()
    for method in ("get", "post"):
        call = getattr(client, method)
        data = {"file": csv_upload("需求点.csv", [DEMAND_HEADER, *DEMAND_ROWS])} if method == "post" else {}
        hidden = call(f"{url}?org={code}", data)
        data = {"file": csv_upload("需求点.csv", [DEMAND_HEADER, *DEMAND_ROWS])} if method == "post" else {}
        absent = call(f"{url}?org={MISSING_CODE}", data)
        assert hidden.status_code == absent.status_code == 404
        assert hidden.content == absent.content
    assert station_state() == before
