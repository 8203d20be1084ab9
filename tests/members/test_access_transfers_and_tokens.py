"""Transfers (接转): the receiving union sees an incoming transfer before the member is in its subtree. API tokens
never read the roster but verify cards; the public document check stores and records nothing. CSRF on session
writes. The per-account search rate limit."""

import uuid
from types import SimpleNamespace

import pytest
from django.core import signing
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from gonghui.accounts.services import api_token_create
from gonghui.audit.models import AuditEvent, AuditResult
from gonghui.common import ratelimit
from gonghui.members.cards import CARD_TOKEN_SALT, card_token_issue
from gonghui.members.models import Membership
from gonghui.members.search import SEARCHES_PER_MINUTE
from tests.members.access_world import (
    CORRECTED_PHONE,
    E12,
    FORBIDDEN_BODY,
    NEWCOMER,
    NO_MEMBER_ROLES,
    NOT_FOUND,
    UNREGISTERED_DOC,
    WZE1,
    _events,
    assert_masked,
    ids_in,
    items,
    patch_json,
    post_json,
    registry_state,
)

pytestmark = pytest.mark.usefixtures("_fresh_rate_limits")


# ---------------------------------------------------------------- 3. transfers across subtrees


def test_incoming_transfer_is_visible_to_the_target_before_and_the_member_after_acceptance(reg, client_for):
    source, target = client_for("grassroots_cadre"), client_for("other_district_cadre")
    transfer = reg.transfers["m12_out"]
    old = reg.members["m12_out"]
    number = reg.number["m12_out"]

    # Before release: the target union sees the request (with the person's name), not the member record.
    listed = target.get("/api/v1/transfers", {"box": "all"})
    assert str(transfer.id) in ids_in(listed)
    assert str(transfer.id) not in ids_in(target.get("/api/v1/transfers"))  # not its step yet
    assert_masked(listed, "incoming transfer list")
    page = target.get(reverse("admin:transfer_detail", args=[transfer.id]))
    assert page.status_code == 200
    assert (page.context["can_accept"], page.context["can_release"]) == (False, False)
    assert_masked(page, "incoming transfer page")
    for response in (
        target.get(f"/api/v1/members/{old.id}"),
        post_json(target, f"/api/v1/members/{old.id}/reveal", {"field": "doc_number", "reason": "接收前核对"}),
        target.get("/api/v1/members", {"org_id": str(reg.tree[E12].id)}),
    ):
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert target.get(reverse("admin:member_detail", args=[old.id])).status_code == 404
    reveal_page = target.post(
        reverse("admin:member_detail", args=[old.id]), {"action": "reveal", "field": "phone", "reason": "接收前核对"}
    )
    assert reveal_page.status_code == 404
    assert items(post_json(target, "/api/v1/members/search", {"doc_number": number, "status": "all"})) == []
    state = registry_state()
    early = post_json(target, f"/api/v1/transfers/{transfer.id}/accept")
    assert early.status_code == 409
    refused_release = post_json(target, f"/api/v1/transfers/{transfer.id}/release")
    assert refused_release.status_code in (403, 404)
    assert registry_state() == state

    released = post_json(source, f"/api/v1/transfers/{transfer.id}/release")
    assert released.status_code == 200
    assert released.json()["status"] == "pending_accept"
    assert str(transfer.id) in ids_in(target.get("/api/v1/transfers"))
    assert target.get(f"/api/v1/members/{old.id}").status_code == 404

    accepted = post_json(target, f"/api/v1/transfers/{transfer.id}/accept")

    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "completed"
    assert_masked(accepted, "accepted transfer")
    new_id = accepted.json()["new_membership_id"]
    # The receiving union now holds the member; the old record stays outside its subtree.
    detail = target.get(f"/api/v1/members/{new_id}")
    assert detail.status_code == 200
    assert (detail.json()["status"], detail.json()["union"]["code"]) == ("active", WZE1)
    assert_masked(detail, "new membership")
    assert target.get(f"/api/v1/members/{old.id}").status_code == 404
    assert [m["id"] for m in items(post_json(target, "/api/v1/members/search", {"doc_number": number}))] == [new_id]
    # The source union keeps the old record (transferred out) and does not see the new one.
    old_detail = source.get(f"/api/v1/members/{old.id}")
    assert old_detail.status_code == 200
    assert old_detail.json()["status"] == "transferred_out"
    assert_masked(old_detail, "old membership")
    new_for_source = source.get(f"/api/v1/members/{new_id}")
    missing = source.get(f"/api/v1/members/{uuid.uuid4()}")
    assert (
        (new_for_source.status_code, new_for_source.json())
        == (404, NOT_FOUND)
        == (
            missing.status_code,
            missing.json(),
        )
    )
    assert source.get(reverse("admin:member_detail", args=[new_id])).status_code == 404
    assert source.get(reverse("admin:member_detail", args=[old.id])).status_code == 200
    assert items(post_json(source, "/api/v1/members/search", {"doc_number": number})) == []
    found = items(post_json(source, "/api/v1/members/search", {"doc_number": number, "status": "all"}))
    assert [(m["id"], m["status"]) for m in found] == [(str(old.id), "transferred_out")]
    listed = source.get("/api/v1/members", {"org_id": str(reg.tree[E12].id), "status": "all"})
    assert str(old.id) in ids_in(listed) and new_id not in ids_in(listed)
    assert new_id not in ids_in(source.get(f"/api/v1/orgs/{reg.tree[E12].id}/rectification"))
    # ...and can no longer change it, nor reveal the numbers of a person who has moved on.
    state = registry_state()
    assert post_json(source, f"/api/v1/members/{old.id}/leave", {"reason": "退会"}).status_code == 409
    assert patch_json(source, f"/api/v1/members/{old.id}/person", {"work_unit": "改"}).status_code == 403
    for field in ("doc_number", "phone"):
        refused = post_json(source, f"/api/v1/members/{old.id}/reveal", {"field": field, "reason": "核对"})
        assert (refused.status_code, refused.json()) == (
            403,
            {"code": "permission_denied", "message": "该会籍已转出，不能查看完整号码"},
        )
        page = source.post(
            reverse("admin:member_detail", args=[old.id]), {"action": "reveal", "field": field, "reason": "核对"}
        )
        assert page.status_code == 200
        assert_masked(page, "old union's reveal after the transfer")
    assert registry_state() == state
    # The receiving union, which now holds the member, may.
    revealed = post_json(target, f"/api/v1/members/{new_id}/reveal", {"field": "phone", "reason": "核对"})
    assert (revealed.status_code, revealed.json()["value"]) == (200, reg.phone["m12_out"])


def test_the_common_parent_sees_both_sides_and_the_prefix_twin_sees_neither(reg, client_for):
    """SZ-GS-T01-12 -> SZ-GS-T01-123: the town sees the transfer and both records; an account of -123 would see
    only the incoming one; nobody at SZ-WZ sees anything."""
    transfer = reg.transfers["m12_move"]
    town, wz = client_for("town_cadre"), client_for("other_district_cadre")

    assert str(transfer.id) in ids_in(town.get("/api/v1/transfers", {"box": "all"}))
    assert town.get(reverse("admin:transfer_detail", args=[transfer.id])).status_code == 200
    assert str(transfer.id) not in ids_in(wz.get("/api/v1/transfers", {"box": "all"}))
    assert wz.get(reverse("admin:transfer_detail", args=[transfer.id])).status_code == 404
    assert post_json(wz, f"/api/v1/transfers/{transfer.id}/release").status_code == 404


# ---------------------------------------------------------------- 4. API tokens and public endpoints


@pytest.fixture
def bearer(tree, system):
    _token, raw = api_token_create(actor=system, org=tree["SZ"], name="市级大屏")
    return Client(headers={"Authorization": f"Bearer {raw}"}, raise_request_exception=False)


def test_api_tokens_never_read_the_roster(reg, bearer):
    m = reg.members["m12"]
    org = reg.tree[E12]
    state = registry_state()
    calls = [
        bearer.get("/api/v1/members", {"org_id": str(org.id)}),
        bearer.get("/api/v1/members", {"name": reg.name["m12"]}),
        bearer.get("/api/v1/members"),
        post_json(bearer, "/api/v1/members/search", {"doc_number": reg.number["m12"]}),
        post_json(bearer, "/api/v1/members/search", {"phone": reg.phone["m12"]}),
        bearer.get(f"/api/v1/members/{m.id}"),
        bearer.get(f"/api/v1/members/{uuid.uuid4()}"),
        post_json(bearer, f"/api/v1/members/{m.id}/reveal", {"field": "doc_number", "reason": "核对"}),
        bearer.get("/api/v1/join-applications"),
        bearer.get("/api/v1/transfers", {"box": "all"}),
        bearer.get(f"/api/v1/orgs/{org.id}/quality"),
        bearer.get(f"/api/v1/orgs/{org.id}/rectification"),
        post_json(bearer, f"/api/v1/members/{m.id}/leave", {"reason": "退会"}),
        post_json(bearer, f"/api/v1/orgs/{org.id}/declared-total", {"total": 1}),
    ]

    for response in calls:
        assert (response.status_code, response.json()) == (403, FORBIDDEN_BODY), response.request["PATH_INFO"]
        assert reg.name["m12"] not in response.content.decode()
    assert registry_state() == state
    assert not AuditEvent.objects.filter(action__in=["member.search_by_number", "person.reveal"]).exists()


def test_api_token_verifies_a_card(reg, bearer):
    m = reg.members["m12"]
    token = card_token_issue(m)
    assert signing.loads(token, salt=CARD_TOKEN_SALT) == {"m": str(m.id), "c": m.card_number}
    events = _events()

    response = post_json(bearer, "/api/v1/cards/verify", {"token": token})

    assert response.status_code == 200
    assert response.json() == {
        "valid": True,
        "reason": "",
        "name_masked": "张*",
        "union_name": reg.tree[E12].name,
        "card_number": m.card_number,
        "status_label": "正式会员",
    }
    assert_masked(response, "card verify")
    assert _events() == events + 1
    event = AuditEvent.objects.get(action="card.verify")
    assert (event.actor_kind, event.result) == ("token", AuditResult.SUCCESS)
    bad = post_json(bearer, "/api/v1/cards/verify", {"token": token[:-2] + "xx"})
    assert (bad.status_code, bad.json()["valid"]) == (200, False)


@pytest.mark.parametrize(("username", "status"), [*((u, 403) for u in NO_MEMBER_ROLES), (None, 401)])
def test_card_verification_needs_the_permission(reg, client_for, username, status):
    response = post_json(client_for(username), "/api/v1/cards/verify", {"token": card_token_issue(reg.members["m12"])})

    assert response.status_code == status
    assert reg.members["m12"].card_number not in response.content.decode()
    assert not AuditEvent.objects.filter(action="card.verify", result=AuditResult.SUCCESS).exists()


def test_public_document_check_needs_no_sign_in_and_stores_nothing(reg, django_assert_num_queries):
    counts = registry_state()
    total_events = _events()
    client = Client()

    registered = post_json(client, "/api/v1/documents/check", {"type": "居民身份证", "number": reg.number["m12"]})
    unknown = post_json(client, "/api/v1/documents/check", {"type": "居民身份证", "number": UNREGISTERED_DOC})
    invalid = post_json(client, "/api/v1/documents/check", {"type": "居民身份证", "number": "320508199005170111"})

    assert registered.status_code == unknown.status_code == invalid.status_code == 200
    # The answer does not tell whether the number is registered.
    assert registered.json() == {"valid": True, "normalised": reg.number["m12"], "reason": ""}
    assert unknown.json() == {"valid": True, "normalised": UNREGISTERED_DOC, "reason": ""}
    assert invalid.json()["valid"] is False
    for response in (registered, unknown, invalid):
        assert reg.name["m12"] not in response.content.decode()
        assert set(response.json()) == {"valid", "normalised", "reason"}
    assert registry_state() == counts
    assert _events() == total_events
    with django_assert_num_queries(0):
        post_json(client, "/api/v1/documents/check", {"type": "居民身份证", "number": reg.number["m12"]})


# ---------------------------------------------------------------- 5. CSRF


def test_session_writes_without_the_csrf_token_are_refused(reg, client_for):
    client = client_for("grassroots_cadre", csrf=True)
    m = reg.members["m12"]
    transfer = reg.transfers["m12_move"]
    application = reg.applications["a12"]
    state = registry_state()
    events = _events()

    refused = [
        post_json(client, f"/api/v1/members/{m.id}/leave", {"reason": "本人申请退会"}),
        post_json(client, f"/api/v1/members/{m.id}/reveal", {"field": "doc_number", "reason": "核对"}),
        patch_json(client, f"/api/v1/members/{m.id}/person", {"phone": CORRECTED_PHONE}),
        post_json(client, f"/api/v1/transfers/{transfer.id}/release"),
        post_json(client, f"/api/v1/join-applications/{application.id}/approve"),
        post_json(client, f"/api/v1/orgs/{reg.tree[E12].id}/declared-total", {"total": 5}),
        post_json(
            client,
            "/api/v1/members",
            {"org_id": str(reg.tree[E12].id), "doc_number": NEWCOMER[1], "name": NEWCOMER[0]},
        ),
        client.post(reverse("admin:member_detail", args=[m.id]), {"action": "leave", "reason": "本人申请退会"}),
        client.post(
            reverse("admin:member_detail", args=[m.id]), {"action": "reveal", "field": "doc_number", "reason": "核对"}
        ),
        client.post(reverse("admin:transfer_detail", args=[transfer.id]), {"action": "release"}),
    ]

    for response in refused:
        assert response.status_code == 403, (response.request["PATH_INFO"], response.status_code)
        assert_masked(response, "csrf refusal")
    assert registry_state() == state
    assert _events() == events

    # The same session with the token goes through: the refusal above was the missing token.
    client.get(reverse("admin:member_search"))
    token = client.cookies["csrftoken"].value
    accepted = post_json(client, f"/api/v1/members/{m.id}/leave", {"reason": "本人申请退会"}, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200
    assert Membership.objects.get(id=m.id).status == "left"


def test_bearer_requests_are_not_taken_for_a_session(reg, bearer):
    """A bearer token carries no cookie to forge; it still cannot write members."""
    response = post_json(bearer, f"/api/v1/members/{reg.members['m12'].id}/leave", {"reason": "退会"})

    assert response.status_code == 403
    assert Membership.objects.get(id=reg.members["m12"].id).status == "active"


# ---------------------------------------------------------------- 6. rate limit


@pytest.fixture
def frozen_window(monkeypatch):
    """All requests of the test fall in one rate-limit window."""
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_000.0))


def test_more_than_thirty_searches_a_minute_are_refused(reg, client_for, frozen_window):
    cache.clear()
    client = client_for("grassroots_cadre")
    body = {"doc_number": reg.number["m12"]}
    assert SEARCHES_PER_MINUTE == 30

    answers = [post_json(client, "/api/v1/members/search", body) for _ in range(SEARCHES_PER_MINUTE)]
    refused = post_json(client, "/api/v1/members/search", body)

    assert [a.status_code for a in answers] == [200] * 30
    assert refused.status_code == 429
    assert refused.json() == {"code": "rate_limited", "message": "查询过于频繁，请一分钟后再试"}
    # The refused search is not run and not audited; the roster list and the back office share the count.
    assert AuditEvent.objects.filter(action="member.search_by_number").count() == 30
    listing = client.get("/api/v1/members", {"name": reg.name["m12"]})
    assert (listing.status_code, listing.json()["code"]) == (429, "rate_limited")
    page = client.post(reverse("admin:member_search"), {"doc_type": "resident_id", "name": reg.name["m12"]})
    assert page.status_code == 200
    assert page.context["results"] is None
    assert "查询过于频繁" in page.content.decode()
    # Another account has its own allowance.
    other = post_json(client_for("town_cadre"), "/api/v1/members/search", body)
    assert other.status_code == 200
    assert ids_in(other) == {str(reg.members["m12"].id)}


def test_searches_by_name_in_the_roster_changelist_count_too(reg, client_for, frozen_window):
    cache.clear()
    client = client_for("grassroots_cadre")
    for _ in range(SEARCHES_PER_MINUTE):
        assert client.get(reverse("admin:members_membership_changelist"), {"q": "张"}).status_code == 200

    refused = client.get(reverse("admin:members_membership_changelist"), {"q": "张"})
    api = post_json(client, "/api/v1/members/search", {"name": "张三"})

    assert refused.status_code == 302
    assert (api.status_code, api.json()["code"]) == (429, "rate_limited")
