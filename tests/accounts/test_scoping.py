"""Who sees what: one table of accounts x target organisations, checked through every read path of the API and the
back office. Out-of-scope objects must look exactly like missing ones, and the "12" / "123" path-prefix trap pair
must never be confused."""

import json
import re
import uuid

import pytest
from django.test import Client

from gonghui.accounts.services import api_token_create, api_token_revoke
from gonghui.common.errors import NotFound, PermissionDenied
from gonghui.orgs.models import Organisation
from gonghui.orgs.selectors import (
    employer_get,
    employers_visible_to,
    org_get,
    org_get_by_code,
    org_search,
    orgs_visible_to,
)
from tests.conftest import ROLE_ACCOUNTS

NOT_FOUND_BODY = {"code": "not_found", "message": "对象不存在或无权访问"}
UNAUTHENTICATED_BODY = {"code": "unauthenticated", "message": "未认证：请提供有效的令牌或登录"}

# Target organisations, in the column order of SCOPE_TABLE.
TARGETS = (
    "SZ",
    "SZ-GS",
    "SZ-GS-T01",
    "SZ-GS-T01-12",
    "SZ-GS-T01-123",
    "SZ-GS-T02-E1",
    "SZ-WZ",
    "SZ-WZ-T01-E1",
)

Y, N = 200, 404
# fmt: off
SCOPE_TABLE = {
    #                        SZ  SZ-GS T01  -12  -123 T02E1 SZ-WZ WZE1
    "city_cadre":           (Y,  Y,    Y,   Y,   Y,   Y,    Y,    Y),
    "district_cadre":       (N,  Y,    Y,   Y,   Y,   Y,    N,    N),
    "town_cadre":           (N,  N,    Y,   Y,   Y,   N,    N,    N),
    "grassroots_cadre":     (N,  N,    N,   Y,   N,   N,    N,    N),
    "other_district_cadre": (N,  N,    N,   N,   N,   N,    Y,    Y),
    "sysadmin":             (Y,  Y,    Y,   Y,   Y,   Y,    Y,    Y),
    "secadmin":             (Y,  Y,    Y,   Y,   Y,   Y,    Y,    Y),
    "auditor":              (Y,  Y,    Y,   Y,   Y,   Y,    Y,    Y),
    "district_auditor":     (N,  Y,    Y,   Y,   Y,   Y,    N,    N),
}
# fmt: on

CASES = [
    pytest.param(username, code, expected, id=f"{username}-{code}")
    for username, row in SCOPE_TABLE.items()
    for code, expected in zip(TARGETS, row, strict=True)
]

CHANGE_LINK_RE = re.compile(r"/admin/orgs/organisation/([0-9a-f-]{36})/change/")
EMPLOYER_LINK_RE = re.compile(r"/admin/orgs/employer/([0-9a-f-]{36})/change/")


def change_link_ids(response) -> set[str]:
    return set(CHANGE_LINK_RE.findall(response.content.decode()))


def test_table_covers_every_role_account():
    assert set(SCOPE_TABLE) == set(ROLE_ACCOUNTS)


# ---------------------------------------------------------------- one check per read path


def check_api_detail(client, org, expected, tree):
    response = client.get(f"/api/v1/orgs/{org.id}")
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["id"] == str(org.id)
        assert response.json()["code"] == org.code
    else:
        assert response.json() == NOT_FOUND_BODY


def check_api_children(client, org, expected, tree):
    response = client.get(f"/api/v1/orgs/{org.id}/children")
    assert response.status_code == expected
    if expected == 200:
        expected_codes = [o.code for o in Organisation.objects.get_children(org).order_by("path")]
        assert response.json()["count"] == len(expected_codes)
        assert [item["code"] for item in response.json()["items"]] == expected_codes
    else:
        assert response.json() == NOT_FOUND_BODY


def check_api_search(client, org, expected, tree):
    response = client.get("/api/v1/orgs/search", {"q": org.name})
    assert response.status_code == 200
    assert [item["code"] for item in response.json()] == ([org.code] if expected == 200 else [])


def check_admin_change(client, org, expected, tree):
    response = client.get(f"/admin/orgs/organisation/{org.id}/change/")
    assert response.status_code == expected


def check_admin_tree(client, org, expected, tree):
    response = client.get("/admin/orgs/tree/", {"org": str(org.id)})
    assert response.status_code == expected
    if expected == 200:
        assert response.context["org"].id == org.id


def check_admin_tree_children(client, org, expected, tree):
    response = client.get(f"/admin/orgs/tree/children/{org.id}/")
    assert response.status_code == expected
    if expected == 200:
        assert [c.code for c in response.context["children"]] == [
            o.code for o in Organisation.objects.get_children(org).order_by("path")
        ]


def check_admin_tree_search(client, org, expected, tree):
    response = client.get("/admin/orgs/tree/search/", {"q": org.name})
    assert response.status_code == 200
    assert [o.code for o in response.context["results"]] == ([org.code] if expected == 200 else [])
    body = response.content.decode()
    assert (str(org.id) in body) is (expected == 200)
    assert ("管辖范围内没有名称或代码匹配" in body) is (expected == 404)


def check_admin_changelist(client, org, expected, tree):
    response = client.get("/admin/orgs/organisation/", {"q": org.name})
    assert response.status_code == 200
    assert change_link_ids(response) == ({str(org.id)} if expected == 200 else set())


def check_admin_autocomplete(client, org, expected, tree):
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "orgs", "model_name": "employer", "field_name": "covering_union", "term": org.name},
    )
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == ([str(org.id)] if expected == 200 else [])


def check_admin_open_in_tree(client, org, expected, tree):
    response = client.get(f"/admin/orgs/organisation/{org.id}/open-in-tree/")
    if expected == 200:
        assert response.status_code == 302
        assert response["Location"] == f"/admin/orgs/tree/?org={org.id}"
    else:
        assert response.status_code == 404


CHECKS = {
    "api_detail": check_api_detail,
    "api_children": check_api_children,
    "api_search": check_api_search,
    "admin_change": check_admin_change,
    "admin_tree": check_admin_tree,
    "admin_tree_children": check_admin_tree_children,
    "admin_tree_search": check_admin_tree_search,
    "admin_changelist": check_admin_changelist,
    "admin_autocomplete": check_admin_autocomplete,
    "admin_open_in_tree": check_admin_open_in_tree,
}


@pytest.mark.parametrize(("username", "code", "expected"), CASES)
def test_scope_table(tree, login, subtests, username, code, expected):
    """Every read path answers the table's outcome; each path is reported as its own subtest."""
    client = login(username)
    for name, check in CHECKS.items():
        with subtests.test(msg=name):
            check(client, tree[code], expected, tree)


@pytest.mark.parametrize(("username", "code", "expected"), CASES)
def test_scope_table_in_selectors(tree, actors, username, code, expected):
    actor = actors[username]
    org = tree[code]
    visible_codes = set(orgs_visible_to(actor).values_list("code", flat=True))
    assert (code in visible_codes) is (expected == 200)
    if expected == 200:
        assert org_get(actor=actor, org_id=org.id).id == org.id
        assert org_get_by_code(actor=actor, code=code.lower()).id == org.id
    else:
        with pytest.raises(NotFound):
            org_get(actor=actor, org_id=org.id)
        with pytest.raises(NotFound):
            org_get_by_code(actor=actor, code=code)


# ---------------------------------------------------------------- out of scope looks exactly like missing


OUT_OF_SCOPE = [
    (username, code)
    for username, row in SCOPE_TABLE.items()
    for code, expected in zip(TARGETS, row, strict=True)
    if expected == 404
]


@pytest.mark.parametrize(("username", "code"), OUT_OF_SCOPE)
def test_out_of_scope_is_byte_identical_to_missing_on_api(tree, login, username, code):
    client = login(username)
    missing = uuid.uuid4()
    for suffix in ("", "/children"):
        hidden = client.get(f"/api/v1/orgs/{tree[code].id}{suffix}")
        absent = client.get(f"/api/v1/orgs/{missing}{suffix}")
        assert hidden.status_code == absent.status_code == 404
        assert hidden.content == absent.content
        assert hidden["Content-Type"] == absent["Content-Type"] == "application/json; charset=utf-8"
        assert json.loads(hidden.content) == NOT_FOUND_BODY


@pytest.mark.parametrize(("username", "code"), OUT_OF_SCOPE)
def test_out_of_scope_is_identical_to_missing_in_back_office(tree, login, username, code):
    client = login(username)
    missing = uuid.uuid4()
    pairs = [
        (f"/admin/orgs/organisation/{tree[code].id}/change/", f"/admin/orgs/organisation/{missing}/change/"),
        (f"/admin/orgs/organisation/{tree[code].id}/history/", f"/admin/orgs/organisation/{missing}/history/"),
        (f"/admin/orgs/tree/?org={tree[code].id}", f"/admin/orgs/tree/?org={missing}"),
        (f"/admin/orgs/tree/children/{tree[code].id}/", f"/admin/orgs/tree/children/{missing}/"),
    ]
    for hidden_url, absent_url in pairs:
        hidden = client.get(hidden_url)
        absent = client.get(absent_url)
        assert hidden.status_code == absent.status_code == 404, hidden_url
        assert hidden.content == absent.content, hidden_url


# ---------------------------------------------------------------- the path-prefix trap, spelled out


def test_grassroots_cadre_never_reaches_the_123_union(tree, login, actors):
    e12, e123 = tree["SZ-GS-T01-12"], tree["SZ-GS-T01-123"]
    client = login("grassroots_cadre")

    # Everything addressed by id: 404.
    for url in (
        f"/api/v1/orgs/{e123.id}",
        f"/api/v1/orgs/{e123.id}/children",
        f"/admin/orgs/organisation/{e123.id}/change/",
        f"/admin/orgs/organisation/{e123.id}/history/",
        f"/admin/orgs/organisation/{e123.id}/open-in-tree/",
        f"/admin/orgs/organisation/{e123.id}/export/",
        f"/admin/orgs/tree/?org={e123.id}",
        f"/admin/orgs/tree/children/{e123.id}/",
    ):
        assert client.get(url).status_code == 404, url
    # ...while its own union answers.
    assert client.get(f"/api/v1/orgs/{e12.id}").status_code == 200
    assert client.get(f"/admin/orgs/organisation/{e12.id}/change/").status_code == 200

    # A code prefix search: "SZ-GS-T01-12" is a prefix of "SZ-GS-T01-123" as a string.
    response = client.get("/api/v1/orgs/search", {"q": "SZ-GS-T01-12"})
    assert [o["code"] for o in response.json()] == ["SZ-GS-T01-12"]
    response = client.get("/api/v1/orgs/search", {"q": "sz-gs-t01-123"})
    assert response.json() == []
    response = client.get("/api/v1/orgs/search", {"q": "公司工会委员会"})
    assert [o["code"] for o in response.json()] == ["SZ-GS-T01-12"]

    response = client.get("/admin/orgs/tree/search/", {"q": "SZ-GS-T01-12"})
    assert [o.code for o in response.context["results"]] == ["SZ-GS-T01-12"]
    assert str(e123.id) not in response.content.decode()
    assert "一二三" not in response.content.decode()

    response = client.get("/admin/orgs/organisation/", {"q": "公司工会委员会"})
    assert response.status_code == 200
    assert change_link_ids(response) == {str(e12.id)}
    assert "一二三" not in response.content.decode()
    response = client.get("/admin/orgs/organisation/", {"q": "SZ-GS-T01-123"})
    assert change_link_ids(response) == set()

    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "orgs", "model_name": "employer", "field_name": "covering_union", "term": "公司"},
    )
    assert response.json() == {
        "results": [{"id": str(e12.id), "text": "十二号公司工会委员会"}],
        "pagination": {"more": False},
    }

    actor = actors["grassroots_cadre"]
    assert [o.code for o in org_search(actor=actor, query="SZ-GS-T01-12")] == ["SZ-GS-T01-12"]
    assert list(orgs_visible_to(actor).values_list("code", flat=True)) == ["SZ-GS-T01-12"]


def test_town_cadre_sees_both_trap_unions(tree, login):
    e12, e123 = tree["SZ-GS-T01-12"], tree["SZ-GS-T01-123"]
    client = login("town_cadre")
    response = client.get("/api/v1/orgs/search", {"q": "SZ-GS-T01-12"})
    assert [o["code"] for o in response.json()] == ["SZ-GS-T01-12", "SZ-GS-T01-123"]
    response = client.get("/api/v1/orgs/search", {"q": "SZ-GS-T01-123"})
    assert [o["code"] for o in response.json()] == ["SZ-GS-T01-123"]
    response = client.get("/admin/orgs/organisation/", {"q": "公司工会委员会"})
    assert change_link_ids(response) == {str(e12.id), str(e123.id)}
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "orgs", "model_name": "employer", "field_name": "covering_union", "term": "公司"},
    )
    assert {r["id"] for r in response.json()["results"]} == {str(e12.id), str(e123.id)}


def test_api_detail_breadcrumbs_stop_at_scope_root(tree, login):
    response = login("grassroots_cadre").get(f"/api/v1/orgs/{tree['SZ-GS-T01-12'].id}")
    assert response.json()["parent_id"] is None
    assert response.json()["breadcrumbs"] == []
    response = login("town_cadre").get(f"/api/v1/orgs/{tree['SZ-GS-T01-12'].id}")
    assert response.json()["parent_id"] == str(tree["SZ-GS-T01"].id)
    assert [b["code"] for b in response.json()["breadcrumbs"]] == ["SZ-GS-T01"]
    response = login("city_cadre").get(f"/api/v1/orgs/{tree['SZ-GS-T01-12'].id}")
    assert [b["code"] for b in response.json()["breadcrumbs"]] == ["SZ", "SZ-GS", "SZ-GS-T01"]


def test_search_lists_only_the_subtree(tree, login):
    expected = {
        "city_cadre": ["SZ", "SZ-GS", "SZ-WZ", "SZ-GS-T01", "SZ-GS-T02", "SZ-WZ-T01"],
        "district_cadre": ["SZ-GS", "SZ-GS-T01", "SZ-GS-T02"],
        "town_cadre": ["SZ-GS-T01"],
        "grassroots_cadre": [],
        "other_district_cadre": ["SZ-WZ", "SZ-WZ-T01"],
    }
    for username, codes in expected.items():
        response = login(username).get("/api/v1/orgs/search", {"q": "总工会"})
        assert response.status_code == 200
        assert [o["code"] for o in response.json()] == codes, username


# ---------------------------------------------------------------- bearer tokens


def bearer(raw: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_bearer_token_sees_its_subtree_only(tree, system):
    _token, raw = api_token_create(actor=system, org=tree["SZ-GS"], name="区数据平台")
    client = bearer(raw)

    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["kind"] == "token"
    assert me.json()["label"] == "api:区数据平台"
    assert me.json()["org"]["code"] == "SZ-GS"

    for code in ("SZ-GS", "SZ-GS-T01", "SZ-GS-T01-12", "SZ-GS-T01-123", "SZ-GS-T02", "SZ-GS-T02-E1"):
        assert client.get(f"/api/v1/orgs/{tree[code].id}").status_code == 200, code
    missing = client.get(f"/api/v1/orgs/{uuid.uuid4()}")
    for code in ("SZ", "SZ-WZ", "SZ-WZ-T01", "SZ-WZ-T01-E1"):
        for suffix in ("", "/children"):
            response = client.get(f"/api/v1/orgs/{tree[code].id}{suffix}")
            assert response.status_code == 404, code
            assert response.content == missing.content

    children = client.get(f"/api/v1/orgs/{tree['SZ-GS'].id}/children")
    assert children.json()["count"] == 2
    assert [o["code"] for o in children.json()["items"]] == ["SZ-GS-T01", "SZ-GS-T02"]
    search = client.get("/api/v1/orgs/search", {"q": "总工会"})
    assert [o["code"] for o in search.json()] == ["SZ-GS", "SZ-GS-T01", "SZ-GS-T02"]
    search = client.get("/api/v1/orgs/search", {"q": "木渎"})
    assert search.json() == []


def test_bearer_token_for_the_12_union_does_not_see_123(tree, system):
    _token, raw = api_token_create(actor=system, org=tree["SZ-GS-T01-12"], name="十二号接口")
    client = bearer(raw)
    assert client.get(f"/api/v1/orgs/{tree['SZ-GS-T01-12'].id}").status_code == 200
    response = client.get(f"/api/v1/orgs/{tree['SZ-GS-T01-123'].id}")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND_BODY
    search = client.get("/api/v1/orgs/search", {"q": "SZ-GS-T01-12"})
    assert [o["code"] for o in search.json()] == ["SZ-GS-T01-12"]


def test_revoked_token_is_unauthenticated(tree, system):
    token, raw = api_token_create(actor=system, org=tree["SZ-GS"], name="待吊销")
    assert bearer(raw).get(f"/api/v1/orgs/{tree['SZ-GS'].id}").status_code == 200
    api_token_revoke(actor=system, token=token)
    for url in ("/api/v1/me", f"/api/v1/orgs/{tree['SZ-GS'].id}", "/api/v1/orgs/search?q=SZ"):
        response = bearer(raw).get(url)
        assert response.status_code == 401, url
        assert response.json() == UNAUTHENTICATED_BODY


@pytest.mark.parametrize(
    "header",
    [
        "Bearer garbage",
        "Bearer ",
        "Bearer " + "x" * 300,
        "Token abc",
        "",
    ],
)
def test_garbage_or_missing_token_is_unauthenticated(tree, system, header):
    api_token_create(actor=system, org=tree["SZ"], name="真令牌")
    client = Client(HTTP_AUTHORIZATION=header) if header else Client()
    for url in ("/api/v1/me", f"/api/v1/orgs/{tree['SZ'].id}", f"/api/v1/orgs/{uuid.uuid4()}"):
        response = client.get(url)
        assert response.status_code == 401, url
        assert response.json() == UNAUTHENTICATED_BODY


def test_token_of_dissolved_org_is_unauthenticated(tree, system):
    from gonghui.orgs.services import org_dissolve

    _token, raw = api_token_create(actor=system, org=tree["SZ-GS-T01-C1"], name="社区")
    assert bearer(raw).get("/api/v1/me").status_code == 200
    org_dissolve(actor=system, org=tree["SZ-GS-T01-C1"], reason="撤并")
    response = bearer(raw).get("/api/v1/me")
    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED_BODY


# ---------------------------------------------------------------- employers


EMPLOYER_SCOPE = {
    # username: employer_set keys visible
    "city_cadre": {"covered", "uncovered", "wuzhong"},
    "district_cadre": {"covered", "uncovered"},
    "town_cadre": {"covered", "uncovered"},
    "grassroots_cadre": {"covered"},
    "other_district_cadre": {"wuzhong"},
    "sysadmin": {"covered", "uncovered", "wuzhong"},
}


@pytest.mark.parametrize(("username", "visible"), list(EMPLOYER_SCOPE.items()))
def test_employers_visible_to(employer_set, actors, login, username, visible):
    actor = actors[username]
    expected_ids = {employer_set[key].id for key in visible}
    assert set(employers_visible_to(actor).values_list("id", flat=True)) == expected_ids
    client = login(username)
    response = client.get("/admin/orgs/employer/")
    assert response.status_code == 200
    assert set(EMPLOYER_LINK_RE.findall(response.content.decode())) == {str(i) for i in expected_ids}
    for key, employer in employer_set.items():
        status = client.get(f"/admin/orgs/employer/{employer.id}/change/").status_code
        assert status == (200 if key in visible else 404), key
        if key in visible:
            assert employer_get(actor=actor, employer_id=employer.id).id == employer.id
        else:
            with pytest.raises(NotFound):
                employer_get(actor=actor, employer_id=employer.id)


def test_town_cadre_employer_scope(employer_set, actors, login):
    actor = actors["town_cadre"]
    assert sorted(employers_visible_to(actor).values_list("name", flat=True)) == sorted(
        ["十二号有限公司", "双塔物流有限公司"]
    )
    client = login("town_cadre")
    hidden = client.get(f"/admin/orgs/employer/{employer_set['wuzhong'].id}/change/")
    absent = client.get(f"/admin/orgs/employer/{uuid.uuid4()}/change/")
    assert hidden.status_code == absent.status_code == 404
    assert hidden.content == absent.content
    response = client.get("/admin/orgs/employer/", {"q": "木渎"})
    assert EMPLOYER_LINK_RE.findall(response.content.decode()) == []


@pytest.mark.parametrize("username", ["secadmin", "auditor", "district_auditor"])
def test_roles_without_employer_view_are_refused(employer_set, actors, login, username):
    with pytest.raises(PermissionDenied):
        employers_visible_to(actors[username])
    client = login(username)
    assert client.get("/admin/orgs/employer/").status_code == 403
    assert client.get(f"/admin/orgs/employer/{employer_set['covered'].id}/change/").status_code == 403
