"""Input that used to answer 500 answers 4xx with a Chinese message, and changes nothing: page windows of any size
(API `limit`/`offset`, back-office `page`), a lone surrogate ("\\ud800") in any JSON text, a NUL anywhere in API
text (PostgreSQL cannot store it), an unreadable JSON body, and ids that cannot be ids ("a/b") in the admin's record
URLs. (A union whose name cannot be a sheet name is in test_export_safety.)"""

import json
from datetime import date

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from gonghui.api.pagination import MAX_OFFSET, MAX_PAGE_SIZE
from gonghui.audit.models import AuditEvent
from gonghui.common.validators import UNREADABLE_TEXT, unreadable_text_at
from tests.conftest import create_token
from tests.members.factories import registry_sample, registry_state, resident_id

HUGE = 10**20  # beyond a 64-bit integer: SQLite and PostgreSQL both refuse it as an OFFSET or LIMIT
SURROGATE = "\ud800"


@pytest.fixture
def reg(tree, actors, system):
    return {"tree": tree, **registry_sample(tree, actors, system)}


@pytest.fixture
def cadre(login):
    return login("town_cadre")


@pytest.fixture
def token(tree):
    raw = create_token("--name", "外部系统", "--org", "SZ-GS")[0].strip()
    return Client(headers={"Authorization": f"Bearer {raw}"})


def refused_parameter(response, field: str, message: str) -> None:
    assert response.status_code == 422, response.content
    assert response.json() == {"code": "invalid_request", "message": "请求参数不正确", "errors": {field: message}}


# ---------------------------------------------------------------- API page windows


def paged_urls(reg) -> list[str]:
    t01 = reg["tree"]["SZ-GS-T01"].id
    return ["/api/v1/members", "/api/v1/join-applications", "/api/v1/transfers", f"/api/v1/orgs/{t01}/children"]


@pytest.mark.parametrize("index", range(4))
def test_an_api_list_refuses_a_window_beyond_its_bounds(reg, cadre, index):
    url = paged_urls(reg)[index]
    refused_parameter(cadre.get(url, {"offset": HUGE}), "offset", f"不能大于 {MAX_OFFSET}")
    refused_parameter(cadre.get(url, {"limit": HUGE}), "limit", f"不能大于 {MAX_PAGE_SIZE}")
    refused_parameter(cadre.get(url, {"limit": MAX_PAGE_SIZE + 1}), "limit", f"不能大于 {MAX_PAGE_SIZE}")
    refused_parameter(cadre.get(url, {"offset": -1}), "offset", "不能小于 0")
    refused_parameter(cadre.get(url, {"limit": 0}), "limit", "不能小于 1")
    # The bounds themselves are served.
    at_the_end = cadre.get(url, {"offset": MAX_OFFSET, "limit": MAX_PAGE_SIZE})
    assert at_the_end.status_code == 200
    assert at_the_end.json()["items"] == []
    assert cadre.get(url, {"limit": MAX_PAGE_SIZE}).json()["count"] >= 1


def test_the_org_children_by_token_refuse_a_huge_offset(reg, token):
    url = f"/api/v1/orgs/{reg['tree']['SZ-GS-T01'].id}/children"
    refused_parameter(token.get(url, {"offset": HUGE}), "offset", f"不能大于 {MAX_OFFSET}")


def test_the_rectification_list_refuses_a_window_beyond_its_bounds(reg, cadre):
    url = f"/api/v1/orgs/{reg['tree']['SZ-GS-T01'].id}/rectification"
    refused_parameter(cadre.get(url, {"offset": HUGE}), "offset", f"不能大于 {MAX_OFFSET}")
    refused_parameter(cadre.get(url, {"limit": HUGE}), "limit", f"不能大于 {MAX_PAGE_SIZE}")
    refused_parameter(cadre.get(url, {"offset": -1}), "offset", "不能小于 0")
    assert cadre.get(url, {"offset": MAX_OFFSET}).json() == []
    assert cadre.get(url, {"limit": MAX_PAGE_SIZE}).status_code == 200


# ---------------------------------------------------------------- lone surrogates in JSON


def surrogate_requests(reg) -> list[tuple[str, str, dict, str]]:
    """(method, url, body, the field named in the refusal) for every kind of JSON body the API takes."""
    member = reg["member"].id
    union = str(reg["tree"]["SZ-GS-T01-12"].id)
    person = {"org_id": union, "doc_number": resident_id(date(1991, 2, 3), 41)}
    return [
        ("post", "/api/v1/members/search", {"name": SURROGATE}, "name"),
        ("post", "/api/v1/members/search", {"card_number": f"12{SURROGATE}"}, "card_number"),
        ("post", "/api/v1/members/search", {"doc_number": SURROGATE}, "doc_number"),
        ("post", "/api/v1/members", {**person, "name": f"张{SURROGATE}"}, "name"),
        ("post", "/api/v1/members", {**person, "name": "张四", "doc_number": SURROGATE}, "doc_number"),
        ("post", "/api/v1/join-applications", {**person, "name": "赵六", "work_unit": SURROGATE}, "work_unit"),
        ("patch", f"/api/v1/members/{member}/person", {"name": SURROGATE}, "name"),
        ("patch", f"/api/v1/members/{member}/person", {"work_unit": f"公司{SURROGATE}"}, "work_unit"),
        ("post", f"/api/v1/members/{member}/leave", {"reason": SURROGATE}, "reason"),
        ("post", f"/api/v1/members/{member}/reveal", {"field": "doc_number", "reason": SURROGATE}, "reason"),
        (
            "post",
            "/api/v1/transfers",
            {"membership_id": str(member), "to_org_id": union, "reason": SURROGATE},
            "reason",
        ),
        ("post", f"/api/v1/transfers/{reg['transfer'].id}/refuse", {"reason": SURROGATE}, "reason"),
        ("post", f"/api/v1/join-applications/{reg['application'].id}/reject", {"reason": SURROGATE}, "reason"),
        ("post", "/api/v1/documents/check", {"type": "居民身份证", "number": SURROGATE}, "number"),
        ("post", "/api/v1/cards/verify", {"token": SURROGATE}, "token"),
        ("post", "/api/v1/members/search", {"name": "张三", SURROGATE: "x"}, "request"),
        ("post", "/api/v1/members/search", {"name": ["张三", SURROGATE]}, "name.1"),
    ]


@pytest.mark.parametrize("index", range(17))
def test_a_lone_surrogate_in_a_json_body_is_refused_before_anything_is_read_or_written(reg, cadre, index):
    method, url, body, field = surrogate_requests(reg)[index]
    before, events = registry_state(), AuditEvent.objects.count()

    response = getattr(cadre, method)(url, data=json.dumps(body), content_type="application/json")

    assert response.status_code == 422, response.content
    assert response.json() == {
        "code": "validation_failed",
        "message": UNREADABLE_TEXT,
        "errors": {field: UNREADABLE_TEXT},
    }
    assert registry_state() == before
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("method", "url", "data", "field"),
    [
        ("get", "/api/v1/orgs/search", {"q": "双塔\x00"}, "q"),
        ("get", "/api/v1/members", {"name": "张\x00"}, "name"),
        ("get", "/api/v1/unions/directory", {"q": "\x00"}, "q"),
        ("post", "/api/v1/members/imports", {"org_code": "SZ\x00", "mode": "add"}, "org_code"),
    ],
)
def test_a_nul_in_a_query_string_or_a_form_is_refused(reg, cadre, method, url, data, field):
    before, events = registry_state(), AuditEvent.objects.count()
    response = getattr(cadre, method)(url, data)
    assert response.status_code == 422, response.content
    refusal = {"code": "validation_failed", "message": UNREADABLE_TEXT, "errors": {field: UNREADABLE_TEXT}}
    assert response.json() == refusal
    assert registry_state() == before
    assert AuditEvent.objects.count() == events


def test_a_nul_in_a_json_body_is_refused(reg, cadre):
    body = json.dumps({"name": "张\u0000三"})
    response = cadre.post("/api/v1/members/search", data=body, content_type="application/json")
    assert (response.status_code, response.json()["errors"]) == (422, {"name": UNREADABLE_TEXT})


def test_an_unreadable_json_body_is_a_chinese_400(reg, cadre):
    response = cadre.post("/api/v1/members/search", data=b'{"name": ', content_type="application/json")
    assert (response.status_code, response.json()) == (
        400,
        {"code": "invalid_request", "message": "请求内容不是有效的 JSON"},
    )


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ("张三", None),
        (SURROGATE, ""),
        ("\udfff", ""),
        ("😀", None),  # a real character outside the BMP is not a surrogate once decoded
        ({"a": {"b": [1, "x", f"y{SURROGATE}"]}}, "a.b.2"),
        ({SURROGATE: 1}, ""),
        ({"a": {SURROGATE: 1}}, "a"),
        ([1, 2.5, None, True], None),
        ("a\x00b", ""),
        ({"a": ["\x00"]}, "a.0"),
        ("a\x01b", None),
    ],
)
def test_unreadable_text_at(value, where):
    assert unreadable_text_at(value) == where


# ---------------------------------------------------------------- admin record URLs


BAD_IDS = ["a/b", "..%2F", "x", "1", "00000000-0000-0000-0000-000000000000/x", "%ED%A0%80"]


def record_urls() -> list[str]:
    """Every URL of one record of every admin (change, history, delete and the added actions), with `{}` for the id."""
    import gonghui.urls  # noqa: F401 (registers the admins)
    from gonghui.backoffice.site import backoffice_site

    urls = []
    for model, model_admin in backoffice_site._registry.items():
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for pattern in model_admin.urls:
            if isinstance(pattern, URLPattern) and "object_id" in pattern.pattern.converters:
                urls.append(base + str(pattern.pattern).replace("<path:object_id>", "{}"))
    return urls


@pytest.mark.parametrize("username", ["sysadmin", "secadmin", "city_cadre"])
def test_an_id_that_cannot_be_an_id_is_a_404_on_every_record_page(tree, login, username):
    client = login(username)
    urls = record_urls()
    assert len(urls) >= 60
    answers = {}
    for url in urls:
        for bad in BAD_IDS:
            for method in ("get", "post"):
                answers[(method, url.format(bad))] = getattr(client, method)(url.format(bad)).status_code
    assert {key: status for key, status in answers.items() if status not in (403, 404)} == {}


@pytest.mark.parametrize("model", ["membership", "joinapplication", "transferrequest", "correctionrequest"])
def test_a_record_page_with_a_slash_in_the_id_is_the_plain_404(tree, login, model):
    client = login("city_cadre")
    missing = client.get(f"/admin/members/{model}/00000000-0000-0000-0000-000000000000/change/")
    for bad in ("a/b", "..%2F"):
        response = client.get(f"/admin/members/{model}/{bad}/change/")
        assert response.status_code == 404
        assert response.content == client.get(f"/admin/members/{model}/a-b/change/").content
    assert missing.status_code in (302, 404)


def test_a_token_id_with_a_slash_is_a_404_for_the_security_administrator(tree, login):
    client = login("secadmin")
    for url in ("/admin/accounts/apitoken/1/revoke/", "/admin/accounts/apitoken/a/b/revoke/"):
        assert client.post(url).status_code == 404
        assert client.get(url).status_code == 404


# ---------------------------------------------------------------- back-office pages


def test_the_org_tree_beyond_its_last_page_shows_the_last_page(tree, login):
    client = login("town_cadre")
    first = client.get(reverse("admin:org_tree"), {"org": str(tree["SZ-GS-T01"].id)})
    for page in (str(HUGE), "99"):
        response = client.get(reverse("admin:org_tree"), {"org": str(tree["SZ-GS-T01"].id), "page": page})
        assert response.status_code == 200
        assert response.context["page"] == 1
        assert response.context["children"] == first.context["children"]
    fragment = client.get(reverse("admin:org_tree_children", args=[tree["SZ-GS-T01"].id]), {"page": str(HUGE)})
    assert fragment.status_code == 200
    assert [o.code for o in fragment.context["children"]] == ["SZ-GS-T01-C1", "SZ-GS-T01-12", "SZ-GS-T01-123"]


def test_the_rectification_list_beyond_its_last_page_shows_the_last_page(reg, login):
    client = login("town_cadre")
    response = client.get(reverse("admin:member_quality"), {"org": str(reg["tree"]["SZ-GS-T01"].id), "page": HUGE})
    assert response.status_code == 200
    assert response.context["page"] == 1
