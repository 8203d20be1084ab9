"""The scoping table's endpoints: every member endpoint and page, with what it answers in scope, out of scope and
to roles without member permissions."""

import uuid

from django.urls import reverse
from django.utils import timezone

from gonghui.jobs.models import JobRun
from tests.members.access_world import (
    ANONYMOUS,
    FORBIDDEN,
    HIDDEN,
    NEW_APPLICANT,
    NEWCOMER,
    OK,
    Endpoint,
    _admin,
    _admin_results,
    _api,
    _changelist_ids,
    _expect_application,
    _expect_declared,
    _expect_new_application,
    _expect_new_member,
    _expect_new_transfer,
    _expect_one_reveal,
    _expect_status,
    _expect_transfer,
    _expect_work_unit,
    _form_error,
    _has_membership,
    _member_url,
    _reserve_first,
    _search_finds_nothing_as_for_an_unknown_number,
    ids_in,
    registry_state,
)


def _person_form(t):
    return {"doc_type": "resident_id", "name": t.name, "work_unit": "更正后的单位", "doc_number": "", "phone": ""}


ENDPOINTS: dict[str, Endpoint] = {
    # ------------------------------------------------ API reads
    "api_members_list": Endpoint(
        "api",
        "object",
        _api("get", lambda t: "/api/v1/members", query_of=lambda t: {"org_id": t.org_id, "status": "all"}),
        route="GET /api/v1/members",
        present=_has_membership,
        by_org=True,
    ),
    "api_members_search_in_org": Endpoint(
        "api",
        "object",
        _api("post", lambda t: "/api/v1/members/search", lambda t: {"org_id": t.org_id, "name": t.name}),
        route="POST /api/v1/members/search",
        present=_has_membership,
        by_org=True,
    ),
    "api_members_search_by_doc": Endpoint(
        "api",
        "list",
        _api("post", lambda t: "/api/v1/members/search", lambda t: {"doc_number": t.number}),
        route="POST /api/v1/members/search",
        present=_has_membership,
        verify_hidden=_search_finds_nothing_as_for_an_unknown_number,
    ),
    "api_members_search_by_phone": Endpoint(
        "api",
        "list",
        _api("post", lambda t: "/api/v1/members/search", lambda t: {"phone": t.phone, "status": "all"}),
        route="POST /api/v1/members/search",
        present=_has_membership,
        verify_hidden=_search_finds_nothing_as_for_an_unknown_number,
    ),
    "api_member_detail": Endpoint(
        "api",
        "object",
        _api("get", _member_url),
        route="GET /api/v1/members/{membership_id}",
        present=lambda r, t: r.json()["id"] == t.membership_id,
    ),
    "api_applications_list": Endpoint(
        "api",
        "list",
        _api("get", lambda t: "/api/v1/join-applications", query_of=lambda t: {"status": "all"}),
        route="GET /api/v1/join-applications",
        present=lambda r, t: t.application_id in ids_in(r),
    ),
    "api_transfers_list": Endpoint(
        "api",
        "list",
        _api("get", lambda t: "/api/v1/transfers", query_of=lambda t: {"box": "all"}),
        route="GET /api/v1/transfers",
        present=lambda r, t: t.transfer_id in ids_in(r),
    ),
    "api_transfers_awaiting": Endpoint(
        "api",
        "list",
        _api("get", lambda t: "/api/v1/transfers"),
        route="GET /api/v1/transfers",
        present=lambda r, t: t.transfer_id in ids_in(r),
    ),
    "api_org_quality": Endpoint(
        "api",
        "object",
        _api("get", lambda t: f"/api/v1/orgs/{t.org_id}/quality"),
        route="GET /api/v1/orgs/{org_id}/quality",
        present=lambda r, t: r.json()["registered"] >= 1 and r.json()["org"]["code"] == t.org_code,
        by_org=True,
    ),
    "api_org_rectification": Endpoint(
        "api",
        "object",
        _api("get", lambda t: f"/api/v1/orgs/{t.org_id}/rectification"),
        route="GET /api/v1/orgs/{org_id}/rectification",
        present=_has_membership,
        by_org=True,
    ),
    # ------------------------------------------------ API writes
    "api_member_reveal": Endpoint(
        "api",
        "object",
        _api("post", lambda t: f"{_member_url(t)}/reveal", lambda t: {"field": "doc_number", "reason": "核对身份"}),
        route="POST /api/v1/members/{membership_id}/reveal",
        writes=True,
        reveals=True,
        verify_ok=_expect_one_reveal(lambda t: t.number),
    ),
    "api_member_reveal_phone": Endpoint(
        "api",
        "object",
        _api("post", lambda t: f"{_member_url(t)}/reveal", lambda t: {"field": "phone", "reason": "联系会员"}),
        route="POST /api/v1/members/{membership_id}/reveal",
        writes=True,
        reveals=True,
        verify_ok=_expect_one_reveal(lambda t: t.phone),
    ),
    "api_member_correct": Endpoint(
        "api",
        "object",
        _api("patch", lambda t: f"{_member_url(t)}/person", lambda t: {"work_unit": "更正后的单位"}),
        route="PATCH /api/v1/members/{membership_id}/person",
        writes=True,
        verify_ok=_expect_work_unit,
    ),
    "api_member_leave": Endpoint(
        "api",
        "object",
        _api("post", lambda t: f"{_member_url(t)}/leave", lambda t: {"reason": "本人申请退会"}),
        route="POST /api/v1/members/{membership_id}/{action}",
        writes=True,
        verify_ok=_expect_status("left"),
    ),
    "api_member_reserve": Endpoint(
        "api",
        "object",
        _api("post", lambda t: f"{_member_url(t)}/reserve", lambda t: {"reason": "失业保留会籍"}),
        route="POST /api/v1/members/{membership_id}/{action}",
        writes=True,
        verify_ok=_expect_status("reserved"),
    ),
    "api_member_restore": Endpoint(
        "api",
        "object",
        _api("post", lambda t: f"{_member_url(t)}/restore", lambda t: {"reason": "重新就业"}),
        route="POST /api/v1/members/{membership_id}/{action}",
        writes=True,
        prepare=_reserve_first,
        verify_ok=_expect_status("active"),
    ),
    "api_member_cancel": Endpoint(
        "api",
        "object",
        _api("post", lambda t: f"{_member_url(t)}/cancel", lambda t: {"reason": "重复录入"}),
        route="POST /api/v1/members/{membership_id}/{action}",
        writes=True,
        verify_ok=_expect_status("cancelled"),
    ),
    "api_member_enrol": Endpoint(
        "api",
        "object",
        _api(
            "post",
            lambda t: "/api/v1/members",
            lambda t: {"org_id": t.org_id, "doc_number": NEWCOMER[1], "name": NEWCOMER[0], "phone": NEWCOMER[2]},
        ),
        ok=201,
        route="POST /api/v1/members",
        writes=True,
        verify_ok=_expect_new_member,
        by_org=True,
    ),
    "api_application_submit": Endpoint(
        "api",
        "object",
        _api(
            "post",
            lambda t: "/api/v1/join-applications",
            lambda t: {"org_id": t.org_id, "doc_number": NEW_APPLICANT[1], "name": NEW_APPLICANT[0]},
        ),
        ok=201,
        route="POST /api/v1/join-applications",
        writes=True,
        verify_ok=_expect_new_application,
        by_org=True,
    ),
    "api_application_approve": Endpoint(
        "api",
        "object",
        _api("post", lambda t: f"/api/v1/join-applications/{t.application_id}/approve", lambda t: {}),
        route="POST /api/v1/join-applications/{application_id}/{decision}",
        writes=True,
        verify_ok=_expect_application("approved"),
    ),
    "api_application_reject": Endpoint(
        "api",
        "object",
        _api(
            "post", lambda t: f"/api/v1/join-applications/{t.application_id}/reject", lambda t: {"reason": "材料不全"}
        ),
        route="POST /api/v1/join-applications/{application_id}/{decision}",
        writes=True,
        verify_ok=_expect_application("rejected"),
    ),
    "api_transfer_request": Endpoint(
        "api",
        "object",
        _api(
            "post",
            lambda t: "/api/v1/transfers",
            lambda t: {"membership_id": t.membership_id, "to_org_id": t.elsewhere_id, "reason": "工作调动"},
        ),
        ok=201,
        route="POST /api/v1/transfers",
        writes=True,
        verify_ok=_expect_new_transfer,
    ),
    "api_transfer_release": Endpoint(
        "api",
        "object",
        _api("post", lambda t: f"/api/v1/transfers/{t.transfer_id}/release"),
        route="POST /api/v1/transfers/{transfer_id}/{step}",
        writes=True,
        verify_ok=_expect_transfer("pending_accept"),
    ),
    "api_transfer_withdraw": Endpoint(
        "api",
        "object",
        _api("post", lambda t: f"/api/v1/transfers/{t.transfer_id}/withdraw"),
        route="POST /api/v1/transfers/{transfer_id}/{step}",
        writes=True,
        verify_ok=_expect_transfer("withdrawn"),
    ),
    "api_declared_total": Endpoint(
        "api",
        "object",
        _api("post", lambda t: f"/api/v1/orgs/{t.org_id}/declared-total", lambda t: {"total": 88}),
        ok=201,
        route="POST /api/v1/orgs/{org_id}/declared-total",
        writes=True,
        verify_ok=_expect_declared,
        by_org=True,
    ),
    # ------------------------------------------------ back-office pages
    "admin_member_detail": Endpoint(
        "admin",
        "object",
        _admin("get", lambda t: reverse("admin:member_detail", args=[t.membership_id])),
        present=lambda r, t: r.context["membership"].id == uuid.UUID(t.membership_id),
    ),
    "admin_member_card": Endpoint(
        "admin", "object", _admin("get", lambda t: reverse("admin:member_card", args=[t.membership_id]))
    ),
    "admin_member_correct_form": Endpoint(
        "admin", "object", _admin("get", lambda t: reverse("admin:member_correct", args=[t.membership_id]))
    ),
    "admin_application_detail": Endpoint(
        "admin",
        "object",
        _admin("get", lambda t: reverse("admin:join_application_detail", args=[t.application_id])),
    ),
    "admin_transfer_detail": Endpoint(
        "admin", "object", _admin("get", lambda t: reverse("admin:transfer_detail", args=[t.transfer_id]))
    ),
    "admin_quality": Endpoint(
        "admin",
        "object",
        _admin("get", lambda t: reverse("admin:member_quality"), lambda t: {"org": t.org_id}),
        present=lambda r, t: t.membership_id in {str(i.membership.id) for i in r.context["items"]},
        by_org=True,
    ),
    "admin_search_by_doc": Endpoint(
        "admin",
        "list",
        _admin(
            "post",
            lambda t: reverse("admin:member_search"),
            lambda t: {"doc_type": "resident_id", "doc_number": t.number},
        ),
        scan=False,  # the typed number comes back: see test_back_office_search_by_number_answers_with_masks_only
        present=lambda r, t: _admin_results(r) == {t.membership_id},
        verify_hidden=lambda r, t: _assert_equal(_admin_results(r), set()),
    ),
    "admin_search_by_name": Endpoint(
        "admin",
        "list",
        _admin("post", lambda t: reverse("admin:member_search"), lambda t: {"doc_type": "resident_id", "name": t.name}),
        present=lambda r, t: _admin_results(r) == {t.membership_id},
        verify_hidden=lambda r, t: _assert_equal(_admin_results(r), set()),
        echoes_name=True,
    ),
    "admin_membership_changelist": Endpoint(
        "admin",
        "list",
        _admin("get", lambda t: reverse("admin:members_membership_changelist"), lambda t: {"q": t.name}),
        present=lambda r, t: _changelist_ids(r) == {t.membership_id},
        verify_hidden=lambda r, t: _assert_equal(_changelist_ids(r), set()),
        echoes_name=True,
    ),
    "admin_application_changelist": Endpoint(
        "admin",
        "list",
        _admin("get", lambda t: reverse("admin:members_joinapplication_changelist")),
        present=lambda r, t: t.application_id in _changelist_ids(r),
        verify_hidden=lambda r, t: _assert_not_in(t.application_id, _changelist_ids(r)),
    ),
    "admin_transfer_changelist": Endpoint(
        "admin",
        "list",
        _admin("get", lambda t: reverse("admin:members_transferrequest_changelist")),
        present=lambda r, t: t.transfer_id in _changelist_ids(r),
        verify_hidden=lambda r, t: _assert_not_in(t.transfer_id, _changelist_ids(r)),
    ),
    "admin_declared_changelist": Endpoint(
        "admin",
        "list",
        _admin("get", lambda t: reverse("admin:members_declaredtotal_changelist")),
        present=lambda r, t: t.org_code in {o.org.code for o in r.context["cl"].result_list},
        verify_hidden=lambda r, t: _assert_not_in(t.org_code, {o.org.code for o in r.context["cl"].result_list}),
    ),
    "admin_enrol_prefill": Endpoint(
        "admin",
        "list",
        _admin("get", lambda t: reverse("admin:member_enrol"), lambda t: {"org": t.org_id}),
        present=lambda r, t: r.context["form"].initial.get("org_code") == t.org_code,
        verify_hidden=lambda r, t: _assert_equal(r.context["form"].initial.get("org_code"), None),
    ),
    # Django admin's own object views of the member models: history is scoped like the lists, "change" always
    # hands over to our detail page (which decides), deletion is never offered.
    "admin_membership_history": Endpoint(
        "admin",
        "object",
        _admin("get", lambda t: f"/admin/members/membership/{t.membership_id}/history/"),
        forbidden=404,
    ),
    "admin_application_history": Endpoint(
        "admin",
        "object",
        _admin("get", lambda t: f"/admin/members/joinapplication/{t.application_id}/history/"),
        forbidden=404,
    ),
    "admin_transfer_history": Endpoint(
        "admin",
        "object",
        _admin("get", lambda t: f"/admin/members/transferrequest/{t.transfer_id}/history/"),
        forbidden=404,
    ),
    "admin_membership_change": Endpoint(
        "admin",
        "object",
        _admin("get", lambda t: f"/admin/members/membership/{t.membership_id}/change/"),
        ok=302,
        hidden=302,
        forbidden=302,
        verify_ok=lambda r, t, before: _assert_equal(
            r["Location"], reverse("admin:member_detail", args=[t.membership_id])
        ),
    ),
    "admin_membership_delete": Endpoint(
        "admin",
        "object",
        _admin("post", lambda t: f"/admin/members/membership/{t.membership_id}/delete/", lambda t: {"post": "yes"}),
        ok=403,
        hidden=403,
        writes=True,
        verify_ok=lambda r, t, before: _assert_equal(registry_state(), before),
    ),
    # ------------------------------------------------ back-office writes
    "admin_member_leave": Endpoint(
        "admin",
        "object",
        _admin(
            "post",
            lambda t: reverse("admin:member_detail", args=[t.membership_id]),
            lambda t: {"action": "leave", "reason": "本人申请退会"},
        ),
        ok=302,
        writes=True,
        verify_ok=_expect_status("left"),
    ),
    "admin_member_reserve": Endpoint(
        "admin",
        "object",
        _admin(
            "post",
            lambda t: reverse("admin:member_detail", args=[t.membership_id]),
            lambda t: {"action": "reserve", "reason": "失业保留会籍"},
        ),
        ok=302,
        writes=True,
        verify_ok=_expect_status("reserved"),
    ),
    "admin_member_transfer": Endpoint(
        "admin",
        "object",
        _admin(
            "post",
            lambda t: reverse("admin:member_detail", args=[t.membership_id]),
            lambda t: {"action": "transfer", "reason": "工作调动", "to_org_id": t.elsewhere_id},
        ),
        ok=302,
        writes=True,
        verify_ok=_expect_new_transfer,
    ),
    "admin_member_reveal": Endpoint(
        "admin",
        "object",
        _admin(
            "post",
            lambda t: reverse("admin:member_detail", args=[t.membership_id]),
            lambda t: {"action": "reveal", "field": "doc_number", "reason": "核对身份"},
        ),
        writes=True,
        reveals=True,
        verify_ok=_expect_one_reveal(lambda t: t.number),
    ),
    "admin_member_correct": Endpoint(
        "admin",
        "object",
        _admin("post", lambda t: reverse("admin:member_correct", args=[t.membership_id]), _person_form),
        ok=302,
        writes=True,
        verify_ok=_expect_work_unit,
    ),
    "admin_application_approve": Endpoint(
        "admin",
        "object",
        _admin(
            "post",
            lambda t: reverse("admin:join_application_detail", args=[t.application_id]),
            lambda t: {"action": "approve", "reason": ""},
        ),
        ok=302,
        writes=True,
        verify_ok=_expect_application("approved"),
    ),
    "admin_transfer_release": Endpoint(
        "admin",
        "object",
        _admin(
            "post", lambda t: reverse("admin:transfer_detail", args=[t.transfer_id]), lambda t: {"action": "release"}
        ),
        ok=302,
        writes=True,
        verify_ok=_expect_transfer("pending_accept"),
    ),
    "admin_export": Endpoint(
        "admin",
        "object",
        _admin("post", lambda t: reverse("admin:member_export"), lambda t: {"org": t.org_id}),
        ok=302,
        # A refused export is a refused service call: its message is shown on the data-quality page (a redirect);
        # `writes` proves no job was queued.
        forbidden=302,
        writes=True,
        verify_ok=lambda r, t, before: _assert_equal(
            r["Location"], reverse("admin:job_status", args=[JobRun.objects.get(kind="member_roster_export").id])
        ),
        by_org=True,
    ),
    "admin_enrol": Endpoint(
        "admin",
        "list",
        _admin(
            "post",
            lambda t: reverse("admin:member_enrol"),
            lambda t: {
                "org_code": t.org_code,
                "doc_type": "resident_id",
                "doc_number": NEWCOMER[1],
                "name": NEWCOMER[0],
            },
        ),
        ok=302,
        hidden=200,
        writes=True,
        scan=False,  # a refused enrolment shows the form again with the number typed, to be corrected
        verify_ok=_expect_new_member,
        verify_hidden=_form_error("找不到该组织，或不在您的管辖范围内"),
    ),
    "admin_declared_add": Endpoint(
        "admin",
        "list",
        _admin(
            "post",
            lambda t: reverse("admin:members_declaredtotal_add"),
            lambda t: {"org_code": t.org_code, "total": "88", "as_of": str(timezone.localdate())},
        ),
        ok=302,
        hidden=200,
        writes=True,
        verify_ok=_expect_declared,
        verify_hidden=_form_error("的组织，或不在您的管辖范围内"),
    ),
}


def _assert_equal(a, b):
    assert a == b
    return True


def _assert_not_in(item, collection):
    assert item not in collection
    return True


def _expected_status(endpoint: Endpoint, outcome: str) -> int:
    return {
        OK: endpoint.ok,
        HIDDEN: endpoint.hidden_status,
        FORBIDDEN: endpoint.forbidden,
        ANONYMOUS: 401 if endpoint.interface == "api" else 302,
    }[outcome]
