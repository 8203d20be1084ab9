"""The back office speaks Chinese: the admin theme's own strings (filters, search, empty lists, theme switch, date
ranges, sign-out) and Django's wrong-password message come from our zh-hans catalogue, and the catalogue covers
every string the installed theme's templates and code translate."""

import html
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

CATALOGUE = Path(settings.BASE_DIR) / "gonghui" / "locale" / "zh_Hans" / "LC_MESSAGES"


def visible_text(page: str) -> str:
    """The page's text as a reader sees it (scripts and tags removed, whitespace collapsed)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def attributes(page: str) -> list[str]:
    return [html.unescape(v) for v in re.findall(r'(?:placeholder|title|aria-label)="([^"]*)"', page)]


def test_changelist_with_filters_speaks_chinese(login):
    """The audit list has a date-range filter, choice filters with a submit button and a search box."""
    response = login("auditor").get("/admin/audit/auditevent/")
    assert response.status_code == 200
    page = response.content.decode()
    text = visible_text(page)
    for chinese in [
        "筛选",
        "应用筛选",
        "按时间",
        "按结果",
        "浅色",
        "深色",
        "跟随系统",
        "退出登录",
        "修改密码",
    ]:
        assert chinese in text, chinese
    for english in [
        "Filters",
        "Apply Filters",
        "Reset filters",
        "No results found",
        "yielded",
        "Light",
        "Dark",
        "System",
        "Log out",
        "Type to search",
        "Date from",
        "Date to",
    ]:
        assert not re.search(rf"\b{english}\b", text), english
    assert "以 时间" not in text
    assert "修改密码 退出登录" in text and not re.search("注销(?!会籍)", text)  # 注销会籍 is a membership action
    attrs = attributes(page)
    assert "输入关键词搜索" in attrs
    assert {"起", "止"} <= set(attrs) or {"起始日期", "截止日期"} <= set(attrs)  # date or date-time range
    assert not {"Type to search", "Date from", "Date to", "Date", "From", "To"} & set(attrs)


def test_empty_list_and_add_page(login):
    """A search that finds nothing shows the empty-list panel in Chinese; Django's 增加 reads as "increase", so
    adding a record is 新增 throughout."""
    client = login("sysadmin")
    text = visible_text(client.get("/admin/accounts/user/", {"q": "没有这样的账号"}).content.decode())
    assert "0 条结果 ( 显示全部 )" in text
    assert "没有找到记录 当前条件下没有记录，可调整或重置筛选条件。" in text and "重置筛选" in text
    assert "No results" not in text and "yielded" not in text
    assert "新增账号" in text and "按角色" in text
    text = visible_text(client.get("/admin/accounts/user/add/").content.decode())
    assert text.startswith("新增账号 | 数字工会平台")
    assert "保存并继续新增" in text and "增加" not in text


def test_wrong_password_message_is_plain_chinese(accounts):
    response = Client().post("/admin/login/", {"username": "auditor", "password": PASSWORD + "x"})
    assert response.status_code == 200
    text = visible_text(response.content.decode())
    assert "用户名或密码不正确，请重新输入（注意区分大小写）。" in text
    assert "工作人员账户" not in text and "Please enter" not in text


def test_login_page_title_and_favicon():
    page = Client().get("/admin/login/").content.decode()
    assert re.search(r'<link rel="icon" href="/static/common/favicon.svg" type="image/svg\+xml"\s*>', page)
    assert "欢迎登录" in visible_text(page)


def test_favicon_is_served_as_svg():
    response = Client().get("/static/common/favicon.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.startswith(b'<svg xmlns="http://www.w3.org/2000/svg"')
    assert b"#c8161d" in body


def _unfold_msgids() -> set[str]:
    """Every literal msgid the installed admin theme passes to gettext: {% translate %} tags in its templates, and
    gettext calls in its Python (read with ast, so that implicitly joined literals and calls inside f-strings count,
    which makemessages misses)."""
    import ast

    import unfold

    root = Path(unfold.__file__).parent
    found: set[str] = set()
    tag = re.compile(r"""\{%\s*(?:trans|translate)\s+(["'])((?:(?!\1).)+)\1""")
    names = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy"}
    for path in [*root.rglob("*.html"), *root.rglob("*.py")]:
        parts = path.relative_to(root).parts
        # The theme's optional integrations (constance, guardian, import-export...) are not installed here; its
        # filters are, and the back office uses them.
        if parts[0] == "contrib" and parts[1] != "filters":
            continue
        source = path.read_text(encoding="utf-8")
        if path.suffix == ".html":
            found.update(m.group(2) for m in tag.finditer(source))
            continue
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) in names
                and node.args
                and isinstance(node.args[-1], ast.Constant)
                and isinstance(node.args[-1].value, str)
            ):
                found.add(node.args[-1].value)
    return found


def test_every_theme_string_has_a_chinese_translation():
    """A string of the theme that gettext returns unchanged would show in English: none may."""
    msgids = _unfold_msgids()
    assert len(msgids) > 100  # the extraction really read the theme
    identical_by_nature = {"%(class_name)s %(instance)s"}
    with translation.override("zh-hans"):
        untranslated = sorted(m for m in msgids if m not in identical_by_nature and translation.gettext(m) == m)
    assert untranslated == []


@pytest.mark.parametrize(
    ("msgid", "chinese"),
    [
        (" By %(filter_title)s ", "按%(filter_title)s"),
        ("Log out", "退出登录"),
        ("Filters", "筛选"),
        ("Type to search", "输入关键词搜索"),
        ("Delete selected %(model)s", "删除所选%(model)s"),
        ("Action:", "操作："),
    ],
)
def test_catalogue_overrides_awkward_translations(msgid, chinese):
    with translation.override("zh-hans"):
        assert translation.gettext(msgid) == chinese


def test_compiled_catalogue_matches_its_source(tmp_path):
    """The committed .mo is the compiled .po (a change to one without the other would ship the old words)."""
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(CATALOGUE / "django.po")], check=True)
    assert compiled.read_bytes() == (CATALOGUE / "django.mo").read_bytes()
