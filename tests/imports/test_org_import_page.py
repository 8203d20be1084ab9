"""Organisation-tree import: the back-office page and template."""

import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from python_calamine import CalamineWorkbook

from gonghui.audit.models import AuditEvent
from gonghui.common.sheets import read_table
from gonghui.imports.orgs import ORG_COLUMNS
from gonghui.orgs.models import Organisation, OrgType
from tests.imports.org_import_factories import HEAD, NOT_FOUND, NOT_MINE, SUBTREE, state, xlsx_bytes

# ---------------------------------------------------------------------------------------------------------------
# Back office

PAGE = "/admin/orgs/import/"
TEMPLATE = "/admin/orgs/import/template/"
REFUSED = "组织架构导入须由上级工会干部或系统管理员办理，当前角色无权导入"


def upload(content: bytes, name: str = "组织架构.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_page_previews_then_imports(tree, login):
    client = login("district_cadre")
    form = client.get(PAGE)
    assert form.status_code == 200
    page = form.content.decode()
    assert 'id="gh-org-import-form"' in page and 'href="/admin/orgs/import/template/"' in page
    before = state()

    preview = client.post(PAGE, {"file": upload(xlsx_bytes(SUBTREE)), "dry_run": "1"})

    assert preview.status_code == 200
    body = preview.content.decode()
    assert "预览结果（未写入）：共5行：新增5行，更新0行，无变化0行" in body
    assert body.count('class="gh-outcome-added"') == 5
    assert state() == before

    done = client.post(PAGE, {"file": upload(xlsx_bytes(SUBTREE))})

    assert done.status_code == 200
    assert "导入完成：共5行：新增5行，更新0行，无变化0行" in done.content.decode()
    assert Organisation.objects.filter(code__startswith="SZ-GS-T03").count() == 4
    assert AuditEvent.objects.get(action="org.import").actor_label == "district_cadre"


def test_page_lists_errors_first_and_writes_nothing(tree, login):
    client = login("district_cadre")
    rows = [
        HEAD,
        SUBTREE[5],
        ["乙工会", "SZ-GS-T09-B", "独立基层工会", "SZ-GS-NOPE", "320508"],
        ["", "SZ-WZ", "", "", ""],
    ]
    before = state()

    response = client.post(PAGE, {"file": upload(xlsx_bytes(rows))})

    body = response.content.decode()
    assert response.status_code == 200
    assert "共3行：新增1行，更新0行，无变化0行，有错误2行。未写入任何数据：请按各行说明修改后重新上传" in body
    table = body[body.index('id="gh-org-import-rows"') :]
    lines = re.findall(r'<tr class="gh-outcome-(\w+)"><td class="gh-num">(\d+)</td>', table)
    assert lines == [("error", "4"), ("error", "5"), ("added", "3")]
    assert NOT_FOUND.format("SZ-GS-NOPE") in table and NOT_MINE.format("SZ-WZ") in table
    assert state() == before


def test_page_reports_unusable_files(tree, login):
    client = login("district_cadre")
    before = state()

    wrong = client.post(PAGE, {"file": upload(b"%PDF-1.4", "组织.pdf")})
    missing = client.post(PAGE, {"dry_run": "1"})

    assert "不支持的文件类型，请上传 .xlsx、.xls、.ods 或 .csv 文件" in wrong.content.decode()
    assert "请选择要导入的文件" in missing.content.decode()
    assert state() == before


@pytest.mark.parametrize("username", ["grassroots_cadre", "auditor", "secadmin"])
def test_page_and_template_refuse_roles_without_structure_permission(tree, login, username):
    client = login(username)
    before = state()

    form = client.get(PAGE)
    post = client.post(PAGE, {"file": upload(xlsx_bytes(SUBTREE))})
    template = client.get(TEMPLATE)

    assert (form.status_code, post.status_code, template.status_code) == (403, 403, 403)
    assert REFUSED in form.content.decode() and REFUSED in post.content.decode()
    assert 'id="gh-org-import-form"' not in post.content.decode()
    assert state() == before


def test_sidebar_links_the_page_for_roles_that_may_import(tree, login):
    assert PAGE in login("district_cadre").get("/admin/").content.decode()
    assert PAGE in login("sysadmin").get("/admin/").content.decode()
    assert PAGE not in login("grassroots_cadre").get("/admin/").content.decode()


def test_template_download(tree, login):
    response = login("town_cadre").get(TEMPLATE)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == (
        "attachment; filename*=UTF-8''%E7%BB%84%E7%BB%87%E6%9E%B6%E6%9E%84%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"
    )
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    assert book.sheet_names == ["组织架构", "选项", "说明"]
    table = read_table(response.content, "组织架构导入模板.xlsx", ORG_COLUMNS)
    assert set(table.mapped) == set(ORG_COLUMNS.synonyms)
    assert (table.header_line, table.rows, table.unknown, table.ignored) == (2, 0, [], [])
    assert [row[-1] for row in book.get_sheet_by_name("选项").to_python()] == list(OrgType.labels)
    parts = zipfile.ZipFile(io.BytesIO(response.content))
    sheet = parts.read("xl/worksheets/sheet1.xml").decode()
    assert '<dataValidation type="list"' in sheet and "选项!$C$1:$C$9" in sheet
    # Every column carries the text format "@" (style 1), so codes and dates keep the form they are typed in.
    assert '<numFmt numFmtId="164" formatCode="@"/>' in parts.read("xl/styles.xml").decode()
    assert re.findall(r'<col min="(\d+)" max="\d+" width="[\d.]+" style="1"', sheet) == [str(n) for n in range(1, 12)]
    guide = [row[0] for row in book.get_sheet_by_name("说明").to_python()]
    assert guide[0] == "组织架构导入说明" and "上级组织代码" in guide
