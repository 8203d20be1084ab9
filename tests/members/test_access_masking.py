"""Masking: every back-office page, every member API answer and the exported roster carry masked document numbers
and mobiles only, also for cadres who may unmask; the reasoned, audited reveal is the only way to a full number."""

import html
import io
import json
import uuid
import zipfile

import pytest
from django.core.cache import cache
from django.urls import reverse

from gonghui.audit.models import AuditEvent, AuditResult
from gonghui.jobs.models import JobRun, JobStatus
from gonghui.members.cards import card_token_issue
from gonghui.members.models import TransferRequest
from tests.members.access_world import (
    APPLICANTS,
    CADRES,
    CORRECTED_DOC,
    CORRECTED_PHONE,
    E12,
    FORBIDDEN_BODY,
    MEMBERS,
    NEW_APPLICANT,
    NEWCOMER,
    NO_MEMBER_ROLES,
    NOT_FOUND,
    UNREGISTERED_DOC,
    UNREGISTERED_PHONE,
    _events,
    _new_events,
    assert_masked,
    body_bytes,
    patch_json,
    plain_numbers_in,
    post_json,
    readable_text,
    registry_state,
    resident_id,
    visible_keys,
)

pytestmark = pytest.mark.usefixtures("_fresh_rate_limits")


def test_the_scan_finds_every_form():
    number = resident_id(10)
    assert plain_numbers_in(f"<td>{number}</td>".encode()) == [number]
    assert plain_numbers_in(f'"{number.lower()}"'.encode()) == [number.lower()]
    assert plain_numbers_in(f"old {number[:6]}{number[8:17]} id".encode()) == [number[:6] + number[8:17]]
    assert plain_numbers_in(b"call 139-1234-5678") == ["139-1234-5678"]
    assert plain_numbers_in(b"<td>3205**********010X</td><td>139****5678</td>") == []
    book = io.BytesIO()
    with zipfile.ZipFile(book, "w") as archive:
        archive.writestr("xl/worksheets/sheet1.xml", f"<c><is><t>{number}</t></is></c>")
    assert plain_numbers_in(book.getvalue()) == [number]


# ---------------------------------------------------------------- 1. masking everywhere


def _api_responses_for(reg, client, username: str) -> list[tuple[str, object, set[str]]]:
    """(label, response, masks that must be in it) for every member API read and write of `username`."""
    out = []
    member_keys = visible_keys(reg, username, MEMBERS)
    scope_org = reg.accounts[username].org
    unions = sorted({MEMBERS[k][1] for k in member_keys})

    def search(label, body, must):
        cache.clear()  # many searches in one test: stay under the per-minute limit
        out.append((label, post_json(client, "/api/v1/members/search", body), must))

    for code in unions:
        cache.clear()
        response = client.get("/api/v1/members", {"org_id": str(reg.tree[code].id), "status": "all"})
        out.append(
            (f"list {code}", response, {reg.members[k].person.doc_masked for k in member_keys if MEMBERS[k][1] == code})
        )
    for key in member_keys:
        m = reg.members[key]
        masks = {m.person.doc_masked, m.person.phone_masked}
        cache.clear()
        out.append((f"list by name {key}", client.get("/api/v1/members", {"name": reg.name[key]}), masks))
        cache.clear()
        out.append((f"list by card {key}", client.get("/api/v1/members", {"card_number": m.card_number}), masks))
        search(f"search doc {key}", {"doc_number": reg.number[key]}, masks)
        search(f"search doc lowercase {key}", {"doc_number": reg.number[key].lower()}, masks)
        old_form = reg.number[key][:6] + reg.number[key][8:17]
        search(f"search doc 15 digits {key}", {"doc_number": old_form}, masks)
        search(f"search phone {key}", {"phone": reg.phone[key]}, masks)
        p = reg.phone[key]
        search(f"search phone spaced {key}", {"phone": f"{p[:3]} {p[3:7]} {p[7:]}"}, masks)
        search(f"search all statuses {key}", {"doc_number": reg.number[key], "status": "all"}, masks)
        out.append((f"detail {key}", client.get(f"/api/v1/members/{m.id}"), masks))
        token = card_token_issue(m)
        out.append((f"card verify {key}", post_json(client, "/api/v1/cards/verify", {"token": token}), set()))
    out.append(("applications", client.get("/api/v1/join-applications", {"status": "all"}), set()))
    out.append(("applications pending", client.get("/api/v1/join-applications"), set()))
    for box in ("all", "awaiting", "escalated"):
        out.append((f"transfers {box}", client.get("/api/v1/transfers", {"box": box}), set()))
    for code in [scope_org.code, *unions]:
        org = reg.tree[code]
        out.append((f"quality {code}", client.get(f"/api/v1/orgs/{org.id}/quality"), set()))
        out.append((f"rectification {code}", client.get(f"/api/v1/orgs/{org.id}/rectification"), set()))
    out.append(("directory", client.get("/api/v1/unions/directory", {"q": "工会"}), set()))
    # Writes answer with the record they wrote: masked as well.
    union = reg.tree[unions[0]]
    name, number, phone = NEWCOMER
    enrolled = post_json(
        client, "/api/v1/members", {"org_id": str(union.id), "doc_number": number, "name": name, "phone": phone}
    )
    assert enrolled.status_code == 201, enrolled.content
    out.append(("enrol", enrolled, {number[:4] + "*" * 10 + number[-4:], "137****1111"}))
    name, number, phone = NEW_APPLICANT
    applied = post_json(
        client,
        "/api/v1/join-applications",
        {"org_id": str(union.id), "doc_number": number, "name": name, "phone": phone},
    )
    assert applied.status_code == 201, applied.content
    out.append(("application submit", applied, set()))
    target = reg.members[member_keys[0]]
    corrected = patch_json(
        client, f"/api/v1/members/{target.id}/person", {"phone": CORRECTED_PHONE, "doc_number": CORRECTED_DOC}
    )
    assert corrected.status_code == 200, corrected.content
    out.append(("correct", corrected, {"137****3333", CORRECTED_DOC[:4] + "*" * 10 + CORRECTED_DOC[-4:]}))
    out.append(("detail after correction", client.get(f"/api/v1/members/{target.id}"), {"137****3333"}))
    return out


@pytest.mark.parametrize("username", CADRES)
def test_member_api_answers_carry_masks_only(reg, client_for, username):
    client = client_for(username)
    responses = _api_responses_for(reg, client, username)

    for label, response, must in responses:
        assert response.status_code in (200, 201), (label, response.status_code, response.content[:300])
        text = assert_masked(response, f"{username} {label}")
        for mask in must:
            assert mask in text, f"{label}: the masked number {mask} should be shown"
    # The scan is not vacuous: the answers name the members and carry their masks.
    member_keys = visible_keys(reg, username, MEMBERS)
    joined = "".join(readable_text(body_bytes(r)) for _label, r, _m in responses)
    for key in member_keys:
        assert reg.name[key] in joined
        assert reg.members[key].person.doc_masked in joined


def _admin_pages_for(reg, client, username: str) -> list[tuple[str, object, set[str]]]:
    out = []
    member_keys = visible_keys(reg, username, MEMBERS)
    applicant_keys = visible_keys(reg, username, APPLICANTS)
    scope_org = reg.accounts[username].org
    unions = sorted({MEMBERS[k][1] for k in member_keys})

    def get(label, url, params=None, must=(), **extra):
        cache.clear()
        out.append((label, client.get(url, params or {}, **extra), set(must)))

    get("workbench", reverse("admin:index"))
    get("search form", reverse("admin:member_search"))
    get("enrol form", reverse("admin:member_enrol"), {"org": str(reg.tree[unions[0]].id)})
    get("application form", reverse("admin:member_enrol"), {"mode": "application"})
    get("union directory", reverse("admin:union_directory"), {"q": "工会"})
    get("quality", reverse("admin:member_quality"))
    for code in [scope_org.code, *unions]:
        get(f"quality {code}", reverse("admin:member_quality"), {"org": str(reg.tree[code].id)})
    for key in member_keys:
        m = reg.members[key]
        masks = {m.person.doc_masked, m.person.phone_masked}
        get(f"detail {key}", reverse("admin:member_detail", args=[m.id]), must=masks)
        get(f"correct {key}", reverse("admin:member_correct", args=[m.id]), must=masks)
        get(f"card {key}", reverse("admin:member_card", args=[m.id]))
        get(f"card qr {key}", reverse("admin:member_card", args=[m.id]), headers={"HX-Request": "true"})
        get(f"roster by name {key}", reverse("admin:members_membership_changelist"), {"q": reg.name[key]}, masks)
        get(f"roster by card {key}", reverse("admin:members_membership_changelist"), {"q": m.card_number}, masks)
    for key in applicant_keys:
        a = reg.applications[key]
        masks = {a.person.doc_masked, a.person.phone_masked}
        get(f"application {key}", reverse("admin:join_application_detail", args=[a.id]), must=masks)
    for transfer in TransferRequest.objects.all():
        if transfer.from_org.path.startswith(scope_org.path) or transfer.to_org.path.startswith(scope_org.path):
            get(f"transfer {transfer.person.name}", reverse("admin:transfer_detail", args=[transfer.id]))
    get("roster", reverse("admin:members_membership_changelist"))
    get("roster all statuses", reverse("admin:members_membership_changelist"), {"status__exact": "transferred_out"})
    get("applications", reverse("admin:members_joinapplication_changelist"))
    get("transfers", reverse("admin:members_transferrequest_changelist"))
    get("declared totals", reverse("admin:members_declaredtotal_changelist"))
    get("declared total form", reverse("admin:members_declaredtotal_add"))
    get("data quality", reverse("admin:member_quality"), {"org": str(scope_org.id), "page": "1"})
    return out


@pytest.mark.parametrize("username", CADRES)
def test_back_office_pages_carry_masks_only(reg, client_for, username):
    client = client_for(username)
    pages = _admin_pages_for(reg, client, username)

    for label, response, must in pages:
        assert response.status_code == 200, (label, response.status_code)
        text = assert_masked(response, f"{username} {label}")
        for mask in must:
            assert mask in text, f"{label}: the masked number {mask} should be shown"
    joined = "".join(readable_text(body_bytes(r)) for _label, r, _m in pages)
    for key in visible_keys(reg, username, MEMBERS):
        assert reg.name[key] in joined
        assert reg.members[key].person.doc_masked in joined


@pytest.mark.parametrize("field", ["doc_number", "phone"])
@pytest.mark.parametrize("username", ["grassroots_cadre", "city_cadre"])
def test_back_office_search_by_number_answers_with_masks_only(reg, client_for, username, field):
    """The search by personal number is sent by POST so the number stays out of URLs and logs; the answer page
    shows the matching members masked and must not print the number back either."""
    m = reg.members["m12"]
    value = reg.number["m12"] if field == "doc_number" else reg.phone["m12"]

    response = client_for(username).post(reverse("admin:member_search"), {"doc_type": "resident_id", field: value})

    assert response.status_code == 200
    assert [r.id for r in response.context["results"]] == [m.id]
    text = readable_text(response.content)
    assert m.person.doc_masked in text
    assert_masked(response, f"back-office search by {field}")


def test_data_quality_page_lists_failing_records_masked(reg, client_for):
    response = client_for("district_cadre").get(reverse("admin:member_quality"), {"org": str(reg.tree["SZ-GS"].id)})

    assert response.status_code == 200
    listed = {item.membership.id for item in response.context["items"]}
    assert listed == {reg.members[k].id for k in visible_keys(reg, "district_cadre", MEMBERS)}
    text = assert_masked(response, "data quality")
    for key in visible_keys(reg, "district_cadre", MEMBERS):
        assert reg.members[key].person.doc_masked in text


@pytest.mark.parametrize("username", ["grassroots_cadre", "district_cadre", "other_district_cadre"])
def test_exported_roster_is_masked(reg, client_for, django_capture_on_commit_callbacks, username):
    client = client_for(username)
    root = reg.accounts[username].org

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:member_export"), {"org": str(root.id)})

    job = JobRun.objects.get(requested_by_id=reg.accounts[username].id, kind="member_roster_export")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:job_status", args=[job.id])
    assert job.status == JobStatus.SUCCEEDED, job.error
    with job.result_file.open("rb") as f:
        workbook = f.read()
    holding = [k for k in visible_keys(reg, username, MEMBERS) if reg.members[k].is_holding]
    assert job.result == {"rows": len(holding)}
    text = assert_masked(workbook, f"roster export of {username}")
    for key in holding:
        assert reg.name[key] in text
        assert reg.members[key].person.doc_masked in text
        assert reg.members[key].person.phone_masked in text
    others = set(MEMBERS) - set(holding)
    for key in others:
        assert reg.name[key] not in text, f"{key} is outside {username}'s subtree"
    assert_masked(client.get(reverse("admin:job_status", args=[job.id])), "job page")
    download = client.get(reverse("admin:job_download", args=[job.id]))
    assert download.status_code == 200
    assert body_bytes(download) == workbook
    assert AuditEvent.objects.filter(action="member.export", actor_label=username).count() == 1
    assert AuditEvent.objects.filter(action="job.download", actor_label=username).count() == 1


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("grassroots_cadre", (404,)),
        ("other_district_cadre", (404,)),
        ("city_cadre", (404,)),
        ("sysadmin", (404,)),
        ("secadmin", (403, 404)),
        ("auditor", (403, 404)),
    ],
)
def test_an_exported_roster_is_only_for_the_one_who_asked(
    reg, client_for, django_capture_on_commit_callbacks, username, expected
):
    with django_capture_on_commit_callbacks(execute=True):
        client_for("district_cadre").post(reverse("admin:member_export"), {"org": str(reg.tree["SZ-GS"].id)})
    job = JobRun.objects.get(kind="member_roster_export")
    downloads = AuditEvent.objects.filter(action="job.download").count()
    client = client_for(username)

    for url in (reverse("admin:job_status", args=[job.id]), reverse("admin:job_download", args=[job.id])):
        response = client.get(url)
        assert response.status_code in expected, (url, response.status_code)
        assert reg.name["m12"] not in readable_text(body_bytes(response))
    assert AuditEvent.objects.filter(action="job.download").count() == downloads


def test_audit_trail_never_holds_a_full_number(reg, client_for, django_capture_on_commit_callbacks):
    """After searches by number, reveals, corrections, enrolment and an export, neither the audit rows nor the
    auditor's pages carry a full number (the revealed value is not recorded)."""
    cadre = client_for("grassroots_cadre")
    m = reg.members["m12"]
    for body in ({"doc_number": reg.number["m12"]}, {"phone": reg.phone["m12"]}):
        assert post_json(cadre, "/api/v1/members/search", body).status_code == 200
    for field in ("doc_number", "phone"):
        reveal = {"field": field, "reason": "核对会员身份"}
        assert post_json(cadre, f"/api/v1/members/{m.id}/reveal", reveal).status_code == 200
    patch = {"phone": CORRECTED_PHONE, "doc_number": CORRECTED_DOC}
    assert patch_json(cadre, f"/api/v1/members/{m.id}/person", patch).status_code == 200
    name, number, phone = NEWCOMER
    enrol = {"org_id": str(reg.tree[E12].id), "doc_number": number, "name": name, "phone": phone}
    assert post_json(cadre, "/api/v1/members", enrol).status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        cadre.post(reverse("admin:member_export"), {"org": str(reg.tree[E12].id)})

    rows = json.dumps(list(AuditEvent.objects.values()), default=str, ensure_ascii=False)
    assert_masked(rows.encode(), "audit rows")
    jobs = json.dumps(list(JobRun.objects.values()), default=str, ensure_ascii=False)
    assert_masked(jobs.encode(), "job rows")
    assert {"person.reveal", "member.search_by_number", "person.correct", "membership.enrol"} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )
    auditor = client_for("auditor")
    listing = auditor.get("/admin/audit/auditevent/")
    assert listing.status_code == 200
    assert_masked(listing, "audit list")
    for event in AuditEvent.objects.all():
        page = auditor.get(f"/admin/audit/auditevent/{event.id}/change/")
        assert page.status_code == 200
        assert_masked(page, f"audit event {event.action}")


@pytest.mark.parametrize("username", ["grassroots_cadre", "district_cadre", "city_cadre"])
def test_api_reveal_returns_the_number_and_writes_one_audit_event(reg, client_for, username):
    client = client_for(username)
    m = reg.members["m12"]
    for field, value in (("doc_number", reg.number["m12"]), ("phone", reg.phone["m12"])):
        before = set(AuditEvent.objects.values_list("id", flat=True))

        response = post_json(client, f"/api/v1/members/{m.id}/reveal", {"field": field, "reason": " 核对会员身份 "})

        assert response.status_code == 200
        assert response.json() == {"field": field, "value": value}
        [event] = _new_events(before)
        assert (event.action, event.result, event.actor_label) == ("person.reveal", AuditResult.SUCCESS, username)
        assert (event.object_type, event.object_id) == ("person", str(m.person.id))
        assert event.details == {"field": field, "reason": "核对会员身份"}
        assert event.object_org_path == reg.tree[E12].path
        assert value not in json.dumps(event.details) + event.object_label
    # Revealing is one answer: the record itself is still shown masked afterwards.
    assert_masked(client.get(f"/api/v1/members/{m.id}"), "detail after reveal")
    assert_masked(client.get(reverse("admin:member_detail", args=[m.id])), "page after reveal")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"field": "doc_number", "reason": ""}, "validation_failed"),
        ({"field": "doc_number", "reason": "   "}, "validation_failed"),
        ({"field": "phone", "reason": "\n\t"}, "validation_failed"),
        ({"field": "doc_number", "reason": "查" * 501}, "validation_failed"),
        ({"field": "doc_number"}, "invalid_request"),
        ({"field": "name", "reason": "核对"}, "invalid_request"),
        ({"field": "doc_number_enc", "reason": "核对"}, "invalid_request"),
        ({"reason": "核对"}, "invalid_request"),
    ],
    ids=["empty", "blank", "whitespace", "too-long", "missing-reason", "other-field", "raw-field", "missing-field"],
)
def test_api_reveal_without_a_valid_reason_is_refused_and_not_audited(reg, client_for, body, code):
    client = client_for("grassroots_cadre")
    m = reg.members["m12"]
    events = _events()

    response = post_json(client, f"/api/v1/members/{m.id}/reveal", body)

    assert response.status_code == 422
    assert response.json()["code"] == code
    assert_masked(response, "refused reveal")
    assert _events() == events


def test_back_office_reveal_needs_a_reason_and_is_audited_once(reg, client_for):
    client = client_for("grassroots_cadre")
    m = reg.members["m12"]
    url = reverse("admin:member_detail", args=[m.id])
    events = _events()

    refused = client.post(url, {"action": "reveal", "field": "doc_number", "reason": "  "})

    assert refused.status_code == 200
    assert "请填写查看原因" in refused.content.decode()
    assert_masked(refused, "refused back-office reveal")
    assert _events() == events

    before = set(AuditEvent.objects.values_list("id", flat=True))
    shown = client.post(url, {"action": "reveal", "field": "doc_number", "reason": "会员本人来电核对"})

    assert shown.status_code == 200
    page = shown.content.decode()
    assert f'<span data-field="doc_number">{reg.number["m12"]}</span>' in page
    assert reg.phone["m12"] not in page  # only the field asked for
    [event] = _new_events(before)
    assert (event.action, event.details) == ("person.reveal", {"field": "doc_number", "reason": "会员本人来电核对"})

    before = set(AuditEvent.objects.values_list("id", flat=True))
    shown = client.post(url, {"action": "reveal", "field": "phone", "reason": "会员本人来电核对"})
    assert f'<span data-field="phone">{reg.phone["m12"]}</span>' in shown.content.decode()
    assert reg.number["m12"] not in shown.content.decode()
    [event] = _new_events(before)
    assert event.details["field"] == "phone"

    bogus = client.post(url, {"action": "reveal", "field": "doc_number_enc", "reason": "核对"})
    assert bogus.status_code == 200
    assert_masked(bogus, "reveal of an unknown field")
    assert _events() == events + 2
    # The next view of the page is masked again.
    assert_masked(client.get(url), "page after reveal")


@pytest.mark.parametrize("username", NO_MEMBER_ROLES)
def test_administrators_cannot_reveal(reg, client_for, username):
    client = client_for(username)
    m = reg.members["m12"]
    state = registry_state()
    events = _events()

    api = post_json(client, f"/api/v1/members/{m.id}/reveal", {"field": "doc_number", "reason": "审计核查"})
    page = client.post(
        reverse("admin:member_detail", args=[m.id]), {"action": "reveal", "field": "doc_number", "reason": "审计核查"}
    )

    assert (api.status_code, api.json()) == (403, FORBIDDEN_BODY)
    assert_masked(api, "api reveal")
    assert_masked(page, "page reveal")
    assert reg.name["m12"] not in page.content.decode()
    assert not AuditEvent.objects.filter(action="person.reveal").exists()
    assert registry_state() == state
    assert _events() == events
    assert page.status_code == 403, "back-office reveal by a role without member permissions must be refused with 403"


def test_cadre_of_another_subtree_cannot_reveal(reg, client_for):
    client = client_for("other_district_cadre")
    m = reg.members["m12"]
    events = _events()
    body = {"field": "doc_number", "reason": "核对"}

    api = post_json(client, f"/api/v1/members/{m.id}/reveal", body)
    missing = post_json(client, f"/api/v1/members/{uuid.uuid4()}/reveal", body)
    page = client.post(reverse("admin:member_detail", args=[m.id]), {"action": "reveal", **body})
    missing_page = client.post(reverse("admin:member_detail", args=[uuid.uuid4()]), {"action": "reveal", **body})

    assert (api.status_code, api.json()) == (404, NOT_FOUND) == (missing.status_code, missing.json())
    assert (page.status_code, page.content) == (404, missing_page.content)
    assert _events() == events


@pytest.mark.parametrize("criterion", ["doc_number", "phone"])
def test_a_search_outside_the_subtree_answers_like_an_unknown_number(reg, client_for, criterion):
    """Neither the answer nor the audit entry tells a registered number outside the subtree from an unknown one."""
    client = client_for("other_district_cadre")
    known = reg.number["m12"] if criterion == "doc_number" else reg.phone["m12"]
    unknown = UNREGISTERED_DOC if criterion == "doc_number" else UNREGISTERED_PHONE
    answers = []
    for value in (known, unknown):
        before = set(AuditEvent.objects.values_list("id", flat=True))
        response = post_json(client, "/api/v1/members/search", {criterion: value, "status": "all"})
        [event] = _new_events(before)
        answers.append((response.status_code, response.json(), event.action, event.object_id, event.result))
        assert set(event.details["criteria"]) == {"doc" if criterion == "doc_number" else "mobile"}
        assert_masked(json.dumps(event.details, ensure_ascii=False).encode(), "search audit")

    assert answers[0] == answers[1] == (200, {"items": [], "count": 0}, "member.search_by_number", "", "success")


@pytest.mark.parametrize("action", ["leave", "cancel"])
def test_a_union_cannot_reveal_a_member_who_has_left_it(reg, client_for, action):
    client = client_for("grassroots_cadre")
    m = reg.members["m12"]
    assert post_json(client, f"/api/v1/members/{m.id}/{action}", {"reason": "本人申请"}).status_code == 200
    events = _events()

    api = post_json(client, f"/api/v1/members/{m.id}/reveal", {"field": "doc_number", "reason": "核对"})
    page = client.post(
        reverse("admin:member_detail", args=[m.id]), {"action": "reveal", "field": "doc_number", "reason": "核对"}
    )

    ended = {"leave": "已退会", "cancel": "已注销"}[action]
    refusal = f"该会籍{ended}，不能查看完整号码"
    assert (api.status_code, api.json()) == (403, {"code": "permission_denied", "message": refusal})
    assert page.status_code == 200
    assert refusal in html.unescape(page.content.decode())
    assert_masked(page, "reveal of an ended membership")
    assert _events() == events
    # The record itself stays readable, masked.
    detail = client.get(f"/api/v1/members/{m.id}")
    assert detail.json()["status"] == {"leave": "left", "cancel": "cancelled"}[action]
    assert_masked(detail, "ended membership")


@pytest.mark.parametrize("username", NO_MEMBER_ROLES)
def test_administrators_workbench_and_directory_show_no_member(reg, client_for, username):
    client = client_for(username)

    for url, params in ((reverse("admin:index"), {}), (reverse("admin:union_directory"), {"q": "工会"})):
        response = client.get(url, params)
        assert response.status_code == 200
        text = assert_masked(response, url)
        for key in MEMBERS:
            assert reg.name[key] not in text
            assert reg.members[key].person.doc_masked not in text
            assert reg.members[key].card_number not in text
