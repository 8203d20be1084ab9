"""The error pages are Chinese and lead back into the interface they belong to: the back office's to the workbench,
the portal's home. They name nothing of the request, so they are the same bytes for everyone."""

from django.test import Client
from django.urls import reverse

from gonghui.accounts.models import User


def _text(response) -> str:
    return response.content.decode()


def test_a_missing_back_office_page_leads_to_the_workbench(tree, login):
    response = login("grassroots_cadre").get("/admin/no-such-page/")
    assert response.status_code == 404
    page = _text(response)
    assert "<h1>页面不存在</h1>" in page and "您访问的页面不存在或您无权查看。" in page
    assert '<a href="/admin/">返回工作台</a>' in page
    assert 'href="/"' not in page and "Not Found" not in page


def test_a_refused_back_office_action_is_a_chinese_403_and_changes_nothing(tree, login):
    """A grassroots cadre may not create accounts; Django's stock page said "403 Forbidden" in English."""
    users = User.objects.count()
    response = login("grassroots_cadre").post(reverse("admin:accounts_user_add"), {"username": "x"})
    assert response.status_code == 403
    page = _text(response)
    assert "<h1>无权访问</h1>" in page
    assert "您的账号没有进行此项操作的权限。如需办理，请联系上级工会或系统管理员。" in page
    assert '<a href="/admin/">返回工作台</a>' in page
    assert "Forbidden" not in page
    assert User.objects.count() == users


def test_the_portal_keeps_its_own_pages(db):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    page = _text(response)
    assert "<h1>页面不存在</h1>" in page and '<a href="/">返回首页</a>' in page
    assert "返回工作台" not in page


def test_a_stale_form_token_is_a_chinese_page_in_each_interface(tree, accounts):
    client = Client(enforce_csrf_checks=True)
    client.force_login(accounts["grassroots_cadre"])
    back_office = client.post(reverse("admin:member_search"), {"number": "1"})
    assert back_office.status_code == 403
    assert "<h1>页面已过期</h1>" in _text(back_office) and "返回工作台" in _text(back_office)
    portal = Client(enforce_csrf_checks=True).post("/login/", {"phone": "13800138000"})
    assert portal.status_code == 403
    assert "<h1>页面已过期</h1>" in _text(portal) and "返回首页" in _text(portal)


def test_the_same_refusal_is_the_same_bytes_for_everyone(tree, login):
    first = login("grassroots_cadre").get("/admin/no-such-page/")
    second = login("district_cadre").get("/admin/another-missing-page/")
    assert first.content == second.content
