"""The read-only API: OpenAPI description, bearer tokens from `manage.py create_api_token`, scoped endpoints."""

import hashlib
import json

import pytest
from django.core.management import CommandError
from django.test import Client

from gonghui.accounts.models import ApiToken
from gonghui.audit.models import AuditEvent
from gonghui.orgs.services import org_create, org_update
from tests.conftest import create_token

UNAUTHENTICATED = {"code": "unauthenticated", "message": "未认证：请提供有效的令牌或登录"}
NOT_FOUND = {"code": "not_found", "message": "对象不存在或无权访问"}


@pytest.fixture
def bearer(tree):
    """bearer("SZ-GS") -> a client whose every request carries a fresh token scoped to that organisation."""

    def make(code: str | None = None) -> Client:
        raw = create_token("--name", f"系统{code}", *(["--org", code] if code else []))[0].strip()
        return Client(headers={"Authorization": f"Bearer {raw}"})

    return make


def brief(org) -> dict:
    return {
        "id": str(org.id),
        "name": org.name,
        "code": org.code,
        "org_type": org.org_type,
        "org_type_label": org.get_org_type_display(),
        "level": org.level,
        "status": org.status,
        "has_children": org.numchild > 0,
    }


# ---------------------------------------------------------------- description


def test_openapi_lists_the_endpoints(db):
    response = Client().get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    methods = {path: sorted(ops) for path, ops in schema["paths"].items()}
    assert methods == {
        "/api/v1/me": ["get"],
        "/api/v1/orgs/search": ["get"],
        "/api/v1/orgs/{org_id}": ["get"],
        "/api/v1/orgs/{org_id}/children": ["get"],
        "/api/v1/orgs/{org_id}/quality": ["get"],
        "/api/v1/orgs/{org_id}/rectification": ["get"],
        "/api/v1/orgs/{org_id}/declared-total": ["post"],
        "/api/v1/documents/check": ["post"],
        "/api/v1/cards/verify": ["post"],
        "/api/v1/members": ["get", "post"],
        "/api/v1/members/search": ["post"],
        "/api/v1/members/{membership_id}": ["get"],
        "/api/v1/members/{membership_id}/person": ["patch"],
        "/api/v1/members/{membership_id}/reveal": ["post"],
        "/api/v1/members/{membership_id}/{action}": ["post"],
        "/api/v1/join-applications": ["get", "post"],
        "/api/v1/join-applications/{application_id}/{decision}": ["post"],
        "/api/v1/transfers": ["get", "post"],
        "/api/v1/transfers/{transfer_id}/{step}": ["post"],
        "/api/v1/unions/directory": ["get"],
        "/api/v1/members/imports": ["post"],
        "/api/v1/members/imports/{job_id}": ["get"],
        "/api/v1/stats/orgs/{org_id}/dashboard": ["get"],
        "/api/v1/stats/orgs/{org_id}/services": ["get"],
        "/api/v1/stats/orgs/{org_id}/annual": ["get"],
        "/api/v1/stations/nearest": ["get"],
        "/api/v1/stations/orgs/{org_id}/coverage": ["get"],
    }
    assert schema["info"]["title"] == "数字工会平台 API"
    assert schema["info"]["version"] == "1.0.0"
    assert set(schema["components"]["securitySchemes"]) == {"BearerToken", "BackOfficeSession"}


def test_docs_page(db):
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    assert "/api/v1/openapi.json" in response.content.decode()


# ---------------------------------------------------------------- authentication


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer ghk_not-a-token"}, {"Authorization": "Token abc"}, {"Authorization": "Bearer "}],
    ids=["none", "unknown", "wrong-scheme", "empty"],
)
@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/orgs/search?q=SZ"])
def test_unauthenticated_requests_get_401(tree, headers, path):
    response = Client(headers=headers).get(path)

    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED


def test_create_api_token_prints_the_token_once_and_stores_its_hash(tree):
    out, err = create_token("--name", "省总工会数据平台", "--org", "sz-gs")

    raw = out.strip()
    assert out == raw + "\n"
    assert raw.startswith("ghk_")
    assert len(raw) == 4 + 43
    assert err == "已为“省总工会数据平台”创建令牌，范围：姑苏区总工会（SZ-GS）。令牌只显示这一次：\n"
    token = ApiToken.objects.get()
    assert token.name == "省总工会数据平台"
    assert token.org_id == tree["SZ-GS"].id
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.prefix == raw[:12]
    assert token.created_by_label == "create_api_token"
    assert token.last_used_at is None
    stored = json.dumps(list(ApiToken.objects.values()), default=str)
    assert raw not in stored
    trail = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert raw not in trail
    event = AuditEvent.objects.get(action="api_token.create")
    assert (event.actor_kind, event.actor_label, event.object_id) == ("system", "create_api_token", str(token.id))

    response = Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/me")

    assert response.status_code == 200
    assert response.json() == {
        "kind": "token",
        "label": "api:省总工会数据平台",
        "role": "api_token",
        "org": brief(tree["SZ-GS"]),
    }
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_create_api_token_defaults_to_the_root(tree):
    raw = create_token("--name", "大屏")[0].strip()

    assert ApiToken.objects.get().org_id == tree["SZ"].id
    response = Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/me")
    assert response.json()["org"]["code"] == "SZ"


def test_create_api_token_with_an_unknown_org_fails(tree):
    events = AuditEvent.objects.count()

    with pytest.raises(CommandError, match="找不到组织代码 SZ-NOPE"):
        create_token("--name", "X", "--org", "SZ-NOPE")

    assert ApiToken.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_create_api_token_before_any_organisation_fails(db):
    with pytest.raises(CommandError, match="还没有任何组织"):
        create_token("--name", "X")
    assert ApiToken.objects.count() == 0


def test_revoked_token_is_refused(tree, system):
    from gonghui.accounts.services import api_token_revoke

    raw = create_token("--name", "X", "--org", "SZ-GS")[0].strip()
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    assert client.get("/api/v1/me").status_code == 200

    api_token_revoke(actor=system, token=ApiToken.objects.get())

    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED


def test_back_office_session_works_for_reads(login, tree):
    response = login("town_cadre").get("/api/v1/me")

    assert response.status_code == 200
    assert response.json() == {
        "kind": "user",
        "label": "town_cadre",
        "role": "upper_cadre",
        "org": brief(tree["SZ-GS-T01"]),
    }


# ---------------------------------------------------------------- organisations


def test_children_are_paginated_in_path_order(tree, bearer):
    client = bearer("SZ-GS")
    t01 = tree["SZ-GS-T01"]

    everything = client.get(f"/api/v1/orgs/{t01.id}/children")
    first = client.get(f"/api/v1/orgs/{t01.id}/children?limit=2&offset=0")
    rest = client.get(f"/api/v1/orgs/{t01.id}/children?limit=2&offset=2")
    beyond = client.get(f"/api/v1/orgs/{t01.id}/children?limit=2&offset=4")

    children = [tree["SZ-GS-T01-C1"], tree["SZ-GS-T01-12"], tree["SZ-GS-T01-123"]]
    assert everything.status_code == 200
    assert everything.json() == {"items": [brief(o) for o in children], "count": 3}
    assert first.json() == {"items": [brief(o) for o in children[:2]], "count": 3}
    assert rest.json() == {"items": [brief(children[2])], "count": 3}
    assert beyond.json() == {"items": [], "count": 3}


def test_children_of_the_scope_root(tree, bearer):
    response = bearer("SZ").get(f"/api/v1/orgs/{tree['SZ'].id}/children")

    assert response.json() == {"items": [brief(tree["SZ-GS"]), brief(tree["SZ-WZ"])], "count": 2}


def test_out_of_scope_looks_exactly_like_missing(tree, bearer):
    client = bearer("SZ-GS")
    missing = "00000000-0000-0000-0000-000000000000"

    for path in (
        f"/api/v1/orgs/{tree['SZ-WZ'].id}",
        f"/api/v1/orgs/{tree['SZ-WZ'].id}/children",
        f"/api/v1/orgs/{tree['SZ'].id}",
        f"/api/v1/orgs/{missing}",
        f"/api/v1/orgs/{missing}/children",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json() == NOT_FOUND, path


def test_org_detail(tree, bearer, system):
    org_update(actor=system, org=tree["SZ-GS-T01"], contact_phone="13812345678", contact_person="王红")
    t01 = tree["SZ-GS-T01"]
    t01.refresh_from_db()

    response = bearer("SZ-GS").get(f"/api/v1/orgs/{t01.id}")

    assert response.status_code == 200
    assert response.json() == {
        **brief(t01),
        "parent_id": str(tree["SZ-GS"].id),
        "depth": 3,
        "region_code": "320508",
        "uscc": None,
        "founded_on": None,
        "term_ends_on": None,
        "address": "",
        "contact_person": "王红",
        "contact_phone_masked": "138****5678",
        "children_count": 3,
        "breadcrumbs": [brief(tree["SZ-GS"])],
    }
    assert "13812345678" not in response.content.decode()
    # Nothing above the token's scope is shown: its own organisation has no visible parent.
    own = bearer("SZ-GS").get(f"/api/v1/orgs/{tree['SZ-GS'].id}").json()
    assert (own["parent_id"], own["breadcrumbs"]) == (None, [])


def test_search_puts_the_exact_code_first(tree, bearer, system):
    # A shallower organisation whose *name* contains the code would sort first by depth.
    org_create(
        actor=system,
        parent=tree["SZ"],
        name="原SZ-GS-T01-12联络处工会联合会",
        code="SZ-LL",
        org_type="county",
        region_code="320507",
    )

    response = bearer("SZ").get("/api/v1/orgs/search?q=sz-gs-t01-12")

    assert response.status_code == 200
    assert [o["code"] for o in response.json()] == ["SZ-GS-T01-12", "SZ-LL", "SZ-GS-T01-123"]


def test_search_by_name_and_scope(tree, bearer):
    client = bearer("SZ-GS")

    assert [o["code"] for o in client.get("/api/v1/orgs/search?q=街道总工会").json()] == ["SZ-GS-T01", "SZ-GS-T02"]
    assert client.get("/api/v1/orgs/search?q=吴中").json() == []
    assert client.get("/api/v1/orgs/search?q=SZ-WZ").json() == []
    assert [o["code"] for o in client.get("/api/v1/orgs/search?q=SZ-GS-T01&limit=2").json()] == [
        "SZ-GS-T01",
        "SZ-GS-T01-C1",
    ]
    assert [o["code"] for o in bearer("SZ").get("/api/v1/orgs/search?q=SZ-WZ").json()] == [
        "SZ-WZ",
        "SZ-WZ-T01",
        "SZ-WZ-T01-E1",
    ]


def test_search_without_a_query_is_a_422(tree, bearer):
    response = bearer("SZ").get("/api/v1/orgs/search")

    assert response.status_code == 422
    assert response.json() == {
        "code": "invalid_request",
        "message": "请求参数不正确",
        "errors": {"q": "参数缺失或格式不正确"},
    }
