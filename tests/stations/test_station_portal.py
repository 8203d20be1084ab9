"""Service stations in the portal: a station's page and members' ratings."""

import re
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gonghui.audit.models import AuditEvent
from gonghui.common.sms import MemorySmsSender
from gonghui.members.member_accounts import member_account_bind, phone_code_send, phone_code_sign_in
from gonghui.stations.models import Station, StationRating
from tests.stations.page_factories import NOW, P, Worker, station_page, station_state, text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


STARS_REFUSED = "请选择 1 到 5 颗星"


def last_code(phone: str) -> str:
    sent = [body for to, body in MemorySmsSender.outbox if to == phone]
    return re.search(r"\d{6}", sent[-1]).group(0)


def portal_sign_in(phone: str, client: Client | None = None, url: str | None = None):
    """Sign in on the portal's login page (`url` may carry ?next=); the response to the sign-in."""
    client = client or Client()
    url = url or reverse("portal:login")
    client.post(url, {"phone": phone, "action": "send"})
    response = client.post(url, {"phone": phone, "code": last_code(phone)})
    assert response.status_code == 302
    return response


def portal_member(who: Worker) -> Client:
    """The worker signed in on the portal and bound to their record through the binding page."""
    client = Client()
    portal_sign_in(who.phone, client)
    response = client.post(
        reverse("portal:bind"), {"name": who.name, "doc_type": "resident_id", "doc_number": who.number}
    )
    assert response.status_code == 302
    return client


def bind_through_services(who: Worker) -> None:
    sent = phone_code_send(phone=who.phone)
    account = phone_code_sign_in(phone=who.phone, code=sent.code)
    member_account_bind(account=account, name=who.name, doc_type="resident_id", doc_number=who.number)


def nav_links(page: str) -> list[tuple[str, str]]:
    """(href, text) of the station page's walking-direction links."""
    return re.findall(
        r'<li><a class="btn btn-ghost btn-block" href="([^"]*)" rel="noopener noreferrer" target="_blank">'
        r"([^<]*)</a></li>",
        page,
    )


def test_a_station_page_shows_hours_holidays_facilities_navigation_and_distance(layout):
    response = station_page(layout.zhuhui, **P)
    assert response.status_code == 200
    page = text(response)
    assert "<h1>竹辉妈妈驿站</h1>" in page
    assert '<p class="muted">妈妈驿站 · 竹辉社区工会管理 · <a href="/map/">返回地图</a></p>' in page
    assert '<p class="ok">现在开放</p>' in page
    assert '<p class="muted">距离您 1.0 公里，步行约16分钟，骑行约6分钟。</p>' in page
    # Walking directions in the three Chinese web maps, to the station in GCJ-02 (31.309, 120.6 WGS84 is
    # 31.306816, 120.604171 there) from the asked point (31.3, 120.6 → 31.297812, 120.604170); names URL-encoded.
    assert nav_links(page) == [
        (
            "https://uri.amap.com/navigation?from=120.604170,31.297812,%E5%87%BA%E5%8F%91%E7%82%B9"
            "&amp;to=120.604171,31.306816,%E7%AB%B9%E8%BE%89%E5%A6%88%E5%A6%88%E9%A9%BF%E7%AB%99"
            "&amp;mode=walk&amp;coordinate=gaode&amp;callnative=1&amp;src=gonghui",
            "用高德地图导航",
        ),
        (
            "https://apis.map.qq.com/uri/v1/routeplan?type=walk&amp;from=%E5%87%BA%E5%8F%91%E7%82%B9"
            "&amp;fromcoord=31.297812,120.604170&amp;to=%E7%AB%B9%E8%BE%89%E5%A6%88%E5%A6%88%E9%A9%BF%E7%AB%99"
            "&amp;tocoord=31.306816,120.604171&amp;referer=gonghui",
            "用腾讯地图导航",
        ),
        (
            "https://api.map.baidu.com/direction?origin=latlng:31.297812,120.604170|name:%E5%87%BA%E5%8F%91%E7%82%B9"
            "&amp;destination=latlng:31.306816,120.604171|name:%E7%AB%B9%E8%BE%89%E5%A6%88%E5%A6%88%E9%A9%BF%E7%AB%99"
            "&amp;mode=walking&amp;coord_type=gcj02&amp;output=html&amp;src=webapp.gonghui.stations",
            "用百度地图导航",
        ),
    ]
    assert "geo:" not in page and "WGS84" not in page
    assert (
        '<dl class="kv"><dt>周一</dt><dd>08:00-20:00</dd><dt>周二</dt><dd>08:00-20:00</dd><dt>周三</dt>'
        "<dd>08:00-20:00</dd><dt>周四</dt><dd>08:00-20:00</dd><dt>周五</dt><dd>08:00-20:00</dd><dt>周六</dt>"
        "<dd>09:00-17:00</dd><dt>周日</dt><dd>休息</dd></dl>"
    ) in page
    assert '<p class="muted">法定节假日：闭站</p>' in page
    assert '<ul class="chips"><li>饮水</li><li>卫生间</li><li>母婴室</li></ul>' in page
    assert "tel:" not in page
    assert "<p>暂无评价</p>" in page
    login_link = f"/login/?next=/stations/{layout.zhuhui.id}/%3Flat%3D31.3%26lng%3D120.6"
    assert f'<p class="muted"><a href="{login_link}">登录</a>后可以评价站点。</p>' in page


def test_the_page_of_an_always_open_station_and_of_one_open_in_the_evening(layout):
    page = text(station_page(layout.shuangta))
    assert '<dl class="kv"><dt>每天</dt><dd>全天</dd></dl>' in page
    assert '<p class="muted">节假日照常开放（全天）</p>' in page
    assert '<a class="btn btn-ghost btn-block" href="tel:051265001234">联系电话 051265001234</a>' in page
    assert "<p>夏季供应绿豆汤</p>" in page
    assert "距离您" not in page  # no point given
    page = text(station_page(layout.mudu))
    assert "<p><strong>现在不在开放时间</strong></p>" in page
    assert "<dt>周三</dt><dd>18:00-22:00</dd>" in page
    assert '<p class="muted">法定节假日：10:00-16:00</p>' in page
    assert '<ul class="chips"><li>饮水</li><li>热饭</li></ul>' in page


def test_a_paused_station_says_so_and_a_withdrawn_one_is_gone(layout):
    response = station_page(layout.paused)
    assert response.status_code == 200
    page = text(response)
    assert '<p class="alert" role="alert">该站点暂停开放。</p>' in page
    assert "后可以评价站点" not in page and 'name="stars"' not in page
    assert '<p class="muted">未登记设施。</p>' in page
    closed = station_page(layout.closed)
    missing = Client().get(reverse("portal:station_detail", args=[uuid.uuid4()]))
    garbled = Client().get(reverse("portal:station_detail", args=["not-a-station"]))
    assert closed.status_code == missing.status_code == garbled.status_code == 404
    assert closed.content == missing.content == garbled.content
    assert "一二三驿站" not in text(closed)


@pytest.mark.parametrize(
    "query",
    [{"lat": "nan", "lng": "120.6"}, {"lat": "999", "lng": "120.6"}, {"lat": "120.6", "lng": "31.3"}],
    ids=["nan", "out-of-range", "swapped"],
)
def test_a_station_page_shows_no_distance_from_a_point_that_is_not_one(layout, query):
    response = station_page(layout.shuangta, **query)
    assert response.status_code == 200
    assert "距离您" not in text(response)


# ---------------------------------------------------------------- ratings


def rate(client: Client, station: Station, **data):
    return client.post(reverse("portal:station_rate", args=[station.id]), data)


def test_rating_needs_a_signed_in_member(layout, member):
    before = station_state()
    url = reverse("portal:station_rate", args=[layout.shuangta.id])
    response = rate(Client(), layout.shuangta, stars="5")
    # Signed out (or the session ran out while the page was open): sign in, then back to the station's page.
    assert (response.status_code, response["Location"]) == (
        302,
        f"/login/?next=%2Fstations%2F{layout.shuangta.id}%2F",
    )
    assert Client().get(url).status_code == 405
    # Signed in but not yet bound to a member record: the rating is refused as a missing page.
    assert station_state() == before
    client = Client()
    portal_sign_in("13900001111", client)
    before = station_state()
    response = rate(client, layout.shuangta, stars="5")
    assert response.status_code == 404
    assert station_state() == before


def test_a_member_rates_and_rating_again_replaces_the_stars(layout, member):
    client = portal_member(member)
    form_page = text(client.get(reverse("portal:station_detail", args=[layout.shuangta.id])))
    assert f'<form method="post" action="/stations/{layout.shuangta.id}/rate/">' in form_page
    response = rate(client, layout.shuangta, stars="4", comment="水很凉")
    assert (response.status_code, response["Location"]) == (302, f"/stations/{layout.shuangta.id}/?rated=1")
    page = text(client.get(response["Location"]))
    assert '<p class="ok" role="status">感谢您的评价！</p>' in page
    assert "<p>4.0 星（1 人评价）</p>" in page
    response = rate(client, layout.shuangta, stars="2")
    assert response.status_code == 302
    assert "<p>2.0 星（1 人评价）</p>" in text(client.get(response["Location"]))
    assert list(StationRating.objects.values_list("station_id", "person_id", "stars", "comment")) == [
        (layout.shuangta.id, member.person.id, 2, "")
    ]
    station = Station.objects.get(id=layout.shuangta.id)
    assert (station.rating_count, station.rating_total, station.rating) == (1, 2, 2.0)
    # Each rating is audited as the member who gave it (their masked phone), not as a cadre or the system.
    rated = AuditEvent.objects.filter(action="station.rate").order_by("at", "id")
    assert [(e.actor_label.startswith("会员"), e.object_id, e.details) for e in rated] == [
        (True, str(station.id), {"stars": 4}),
        (True, str(station.id), {"stars": 2}),
    ]


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"stars": "0"}, "stars", STARS_REFUSED),
        ({"stars": "6"}, "stars", STARS_REFUSED),
        ({"stars": "四"}, "stars", STARS_REFUSED),
        ({"stars": "4.5"}, "stars", STARS_REFUSED),
        ({}, "stars", STARS_REFUSED),
        ({"stars": "5", "comment": "好" * 201}, "comment", "评价不能超过 200 字"),
    ],
)
def test_a_rating_outside_one_to_five_stars_is_refused(layout, member, data, field, message):
    client = portal_member(member)
    before = station_state()
    response = rate(client, layout.shuangta, **data)
    assert response.status_code == 200
    page = text(response)
    assert f'<p class="err" role="alert">{message}</p>' in page
    assert station_state() == before
    # What was chosen and typed is still there: the stars picked (when one of the five) and the comment.
    checked = re.findall(
        r'<input type="radio" id="station-rating-(\d)" name="stars" value="\d" required( checked)?>', page
    )
    stars = data.get("stars", "")
    assert [n for n, tick in checked if tick] == ([stars] if stars in {"1", "2", "3", "4", "5"} else [])
    assert f'name="comment" maxlength="200" value="{data.get("comment", "")}"' in page


def test_the_station_rating_is_five_stars(layout, member):
    page = text(portal_member(member).get(reverse("portal:station_detail", args=[layout.shuangta.id])))
    stars = re.findall(r'<label for="station-rating-(\d)" title="(\d星)"><span aria-hidden="true">★</span>', page)
    assert stars == [(str(n), f"{n}星") for n in range(1, 6)]


def test_a_paused_or_withdrawn_station_cannot_be_rated(layout, member):
    client = portal_member(member)
    before = station_state()
    response = rate(client, layout.paused, stars="5")
    assert response.status_code == 200
    assert '<p class="alert" role="alert">该站点暂停开放。</p>' in text(response)
    assert rate(client, layout.closed, stars="5").status_code == 404
    assert station_state() == before


def test_after_signing_in_to_rate_the_member_is_back_on_the_station_page(layout, member, monkeypatch):
    bind_through_services(member)
    later = NOW + timedelta(minutes=5)  # a new sign-in code may be asked for a minute after the last one
    monkeypatch.setattr(timezone, "now", lambda: later)
    client = Client()
    response = rate(client, layout.shuangta, stars="5")
    signed_in = portal_sign_in(member.phone, client, url=response["Location"])
    final = client.get(signed_in["Location"], follow=True)
    assert final.status_code == 200
    assert final.request["PATH_INFO"] == reverse("portal:station_detail", args=[layout.shuangta.id])
