"""Scoping table: member endpoints and pages x accounts x target unions. Out of scope looks exactly like missing,
roles without member permissions get 403, anonymous callers 401 (API) or the sign-in page (back office), and a
refused write changes nothing (registry rows, job rows and successful audit events are compared)."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import ROLE_ACCOUNTS
from tests.members.access_world import (
    ANONYMOUS,
    CADRES,
    FORBIDDEN,
    FORBIDDEN_BODY,
    HIDDEN,
    NO_MEMBER_ROLES,
    NOT_FOUND,
    OK,
    ROWS,
    UNAUTHENTICATED,
    assert_masked,
    body_bytes,
    readable_text,
    registry_state,
    target_of,
)
from tests.members.scope_endpoints import ENDPOINTS, _expected_status

pytestmark = pytest.mark.usefixtures("_fresh_rate_limits")


SCOPE_CASES = [
    pytest.param(
        name,
        username,
        target,
        outcome,
        id=f"{name}-{username or 'anonymous'}-{target}-{_expected_status(endpoint, outcome)}",
    )
    for name, endpoint in ENDPOINTS.items()
    for username, target, outcome in ROWS
]


def test_the_table_covers_every_member_api_operation_and_every_account(db):
    schema = Client().get("/api/v1/openapi.json").json()
    public = {"/api/v1/documents/check", "/api/v1/cards/verify", "/api/v1/unions/directory"}
    member_paths = {
        f"{method.upper()} {path}"
        for path, ops in schema["paths"].items()
        for method in ops
        if path not in public
        and not path.startswith("/api/v1/members/imports")  # scoping: tests/imports/test_roster_import_api.py
        and (
            path.startswith(("/api/v1/members", "/api/v1/join-applications", "/api/v1/transfers"))
            or path.endswith(("/quality", "/rectification", "/declared-total"))
        )
    }
    covered = {e.route for e in ENDPOINTS.values() if e.route}
    assert member_paths == covered
    assert {u for u, _t, _o in ROWS if u} == set(CADRES) | set(NO_MEMBER_ROLES)
    assert set(ROLE_ACCOUNTS) == set(CADRES) | set(NO_MEMBER_ROLES)


@pytest.mark.parametrize(("name", "username", "target", "outcome"), SCOPE_CASES)
def test_scope_table(reg, client_for, name, username, target, outcome):
    endpoint = ENDPOINTS[name]
    t = target_of(reg, target)
    client = client_for(username)
    if endpoint.prepare:
        endpoint.prepare(reg, t)
    before = registry_state()

    response = endpoint.call(client, t)

    status = _expected_status(endpoint, outcome)
    assert response.status_code == status, (response.status_code, body_bytes(response)[:400])
    if outcome == OK:
        if endpoint.present:
            assert endpoint.present(response, t)
        if endpoint.verify_ok:
            endpoint.verify_ok(response, t, before)
        if endpoint.scan and not endpoint.reveals:
            assert_masked(response, name)
        return

    # Refused or hidden: nothing about the target's people, no full number, nothing changed.
    text = assert_masked(response, name) if endpoint.scan else readable_text(body_bytes(response))
    for person in t.names:
        if not (endpoint.echoes_name and person == t.name):
            assert person not in text, f"{person} named in a refused or hidden answer"
    if outcome == FORBIDDEN and endpoint.forbidden == 302:
        assert not response["Location"].startswith(("/admin/jobs/", "/admin/login/"))
    elif outcome == HIDDEN and endpoint.hidden_status == 302:
        assert response["Location"] == reverse("admin:member_detail", args=[t.membership_id])
    elif outcome == ANONYMOUS and endpoint.interface == "admin":
        assert response["Location"].startswith("/admin/login/?next=")
    elif outcome == ANONYMOUS:
        assert response.json() == UNAUTHENTICATED
    elif outcome == FORBIDDEN and endpoint.interface == "api":
        assert response.json() == FORBIDDEN_BODY
    elif outcome == HIDDEN and endpoint.verify_hidden:
        endpoint.verify_hidden(response, t)
    elif outcome == HIDDEN and endpoint.present and endpoint.scope == "list":
        assert not endpoint.present(response, t)
    if endpoint.scope == "object" or outcome in (FORBIDDEN, ANONYMOUS):
        # Exactly like a missing id: the same status and the same body.
        missing = endpoint.call(client, t.missing())
        if outcome == FORBIDDEN and endpoint.by_org and missing.status_code == 404:
            # The organisation is looked up first; every one of these roles may see the organisation tree, so
            # telling a missing organisation from an existing one reveals nothing about members.
            if endpoint.interface == "api":
                assert missing.json() == NOT_FOUND
        else:
            assert missing.status_code == response.status_code
            if outcome != ANONYMOUS:
                assert body_bytes(missing) == body_bytes(response)
    if endpoint.writes:
        assert registry_state() == before
