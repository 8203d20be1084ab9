"""Who may see and change member records, and in what form personal numbers leave the platform.

1. Masking: every back-office page, every member API answer and the exported roster carry masked document numbers
   and mobiles only, also for cadres who may unmask; the reasoned, audited reveal is the only way to a full number.
2. Scoping table: member endpoints and pages x accounts x target unions. Out of scope looks exactly like missing,
   roles without member permissions get 403, anonymous callers 401 (API) or the sign-in page (back office), and a
   refused write changes nothing (registry rows, job rows and successful audit events are compared).
3. Transfers (接转): the receiving union sees an incoming transfer before the member is in its subtree.
4. API tokens never read the roster but verify cards; the public document check stores and records nothing.
5. CSRF on session writes. 6. The per-account search rate limit.
"""

import html
import io
import json
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import SimpleNamespace

import pytest
from django.core import signing
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from stdnum.cn import ric

from gonghui.accounts.services import api_token_create
from gonghui.audit.models import AuditEvent, AuditResult
from gonghui.common import ratelimit
from gonghui.jobs.models import JobRun, JobStatus
from gonghui.members.cards import CARD_TOKEN_SALT, card_token_issue
from gonghui.members.models import CardSerial, DeclaredTotal, JoinApplication, Membership, Person, TransferRequest
from gonghui.members.search import SEARCHES_PER_MINUTE
from gonghui.members.services import (
    declared_total_record,
    join_application_submit,
    member_enrol,
    membership_reserve,
    transfer_request,
)
from gonghui.orgs.models import OrgType
from gonghui.orgs.services import org_create
from tests.conftest import ROLE_ACCOUNTS

E12, E123, T2E1, WZE1 = "SZ-GS-T01-12", "SZ-GS-T01-123", "SZ-GS-T02-E1", "SZ-WZ-T01-E1"

NOT_FOUND = {"code": "not_found", "message": "对象不存在或无权访问"}
FORBIDDEN_BODY = {"code": "permission_denied", "message": "当前角色无权执行此操作"}
UNAUTHENTICATED = {"code": "unauthenticated", "message": "未认证：请提供有效的令牌或登录"}

CADRES = ("city_cadre", "district_cadre", "town_cadre", "grassroots_cadre", "other_district_cadre")
NO_MEMBER_ROLES = ("sysadmin", "secadmin", "auditor", "district_auditor")


def resident_id(seq: int, region: str = "320508", birth: str = "19900517") -> str:
    body = f"{region}{birth}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


# key: (name, union, sequence number of the resident ID, region, mobile). Sequence 10 (SZ-GS) and 14 (SZ-WZ) give
# a check digit X, so the lowercase form of the number is a distinct string to look for.
MEMBERS = {
    "m12": ("张三", E12, 10, "320508", "13912345678"),
    "m12_out": ("李四", E12, 11, "320508", "13912345679"),  # transfer to SZ-WZ-T01-E1
    "m12_move": ("孙七", E12, 12, "320508", "13912345670"),  # transfer to SZ-GS-T01-123
    "mt2": ("王五", T2E1, 13, "320508", "13912345680"),
    "mt2_move": ("吴十", T2E1, 15, "320508", "13912345685"),  # transfer to SZ-GS-T02-E2
    "m123": ("钱七", E123, 16, "320508", "13912345682"),
    "m123_move": ("陈十一", E123, 17, "320508", "13912345686"),  # transfer to SZ-GS-T02-E1
    "mwz": ("赵六", WZE1, 14, "320506", "13912345681"),
}
APPLICANTS = {
    "a12": ("郑一", E12, 18, "320508", "13912345687"),
    "at2": ("冯二", T2E1, 19, "320508", "13912345688"),
    "a123": ("卫三", E123, 20, "320508", "13912345689"),
}
T2E2 = "SZ-GS-T02-E2"  # added by the `reg` fixture: a second union in SZ-GS-T02
TRANSFERS = {"m12_out": WZE1, "m12_move": E123, "mt2_move": T2E2, "m123_move": T2E1}
DECLARED = {E12: 100, T2E1: 50, E123: 30}
# Numbers typed during the tests (enrolment, application, correction): they must never come back either.
NEWCOMER = ("新会员", resident_id(31), "13700001111")
NEW_APPLICANT = ("新申请人", resident_id(32), "13700002222")
CORRECTED_PHONE = "13700003333"
CORRECTED_DOC = resident_id(33)
UNREGISTERED_DOC = resident_id(34)
UNREGISTERED_PHONE = "13700004444"

assert MEMBERS["m12"][2] == 10 and resident_id(10).endswith("X")
assert resident_id(14, "320506").endswith("X")


# ---------------------------------------------------------------- the masking scan


def document_forms(number: str) -> set[str]:
    """Every way a full resident ID could be written out: 18 digits, lowercase check digit, the old 15-digit form,
    grouped by spaces, and the float rendering a spreadsheet would make of it."""
    return {
        number,
        number.lower(),
        number[:6] + number[8:17],
        f"{number[:6]} {number[6:14]} {number[14:]}",
        f"{number[0]}.{number[1:12]}",
    }


def phone_forms(phone: str) -> set[str]:
    return {phone, f"{phone[:3]} {phone[3:7]} {phone[7:]}", f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"}


def all_secrets() -> set[str]:
    forms: set[str] = set()
    for _name, _union, seq, region, phone in (*MEMBERS.values(), *APPLICANTS.values()):
        forms |= document_forms(resident_id(seq, region)) | phone_forms(phone)
    for _name, number, phone in (NEWCOMER, NEW_APPLICANT):
        forms |= document_forms(number) | phone_forms(phone)
    forms |= document_forms(CORRECTED_DOC) | phone_forms(CORRECTED_PHONE)
    return forms


SECRETS = all_secrets()


def body_bytes(response_or_bytes) -> bytes:
    if isinstance(response_or_bytes, bytes):
        return response_or_bytes
    if getattr(response_or_bytes, "streaming", False):
        return b"".join(response_or_bytes.streaming_content)
    return response_or_bytes.content


def readable_text(content: bytes) -> str:
    """The text a reader of this answer could see: every part of an .xlsx (zip), else the page or JSON as sent,
    with HTML entities resolved and JSON \\u escapes decoded."""
    if content[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "\n".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    text = content.decode("utf-8", "replace")
    try:
        decoded = json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        decoded = ""
    return "\n".join((text, html.unescape(text), decoded))


def plain_numbers_in(response_or_bytes) -> list[str]:
    text = readable_text(body_bytes(response_or_bytes))
    return sorted(form for form in SECRETS if form in text)


def assert_masked(response_or_bytes, label: str = "") -> str:
    """Fails when any full document number or mobile of the registry (in any of its forms) is in the answer."""
    content = body_bytes(response_or_bytes)
    leaked = plain_numbers_in(content)
    assert not leaked, f"{label}: full personal numbers in the answer: {leaked}"
    return readable_text(content)


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


# ---------------------------------------------------------------- data


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def _person_fields(spec) -> dict:
    name, _union, seq, region, phone = spec
    return {"doc_type": "resident_id", "doc_number": resident_id(seq, region), "phone": phone, "name": name}


@pytest.fixture
def reg(tree, accounts, system):
    """The registry: members in SZ-GS-T01-12, -123, SZ-GS-T02-E1 and SZ-WZ-T01-E1 (profiles left incomplete, so
    every record is on the rectification list), three pending join applications, four open transfers and declared
    totals."""
    tree = {
        **tree,
        T2E2: org_create(
            actor=system,
            parent=tree["SZ-GS-T02"],
            name="沧浪电子有限公司工会委员会",
            code=T2E2,
            org_type=OrgType.GRASSROOTS,
            region_code="320508",
        ),
    }
    members = {
        key: member_enrol(actor=system, org=tree[spec[1]], **_person_fields(spec)) for key, spec in MEMBERS.items()
    }
    applications = {
        key: join_application_submit(actor=system, org=tree[spec[1]], **_person_fields(spec))
        for key, spec in APPLICANTS.items()
    }
    transfers = {
        key: transfer_request(actor=system, membership=members[key], to_org=tree[to], reason="工作调动")
        for key, to in TRANSFERS.items()
    }
    declared = {code: declared_total_record(actor=system, org=tree[code], total=n) for code, n in DECLARED.items()}
    return SimpleNamespace(
        system=system,
        tree=tree,
        accounts=accounts,
        members=members,
        applications=applications,
        transfers=transfers,
        declared=declared,
        number={k: resident_id(s[2], s[3]) for k, s in {**MEMBERS, **APPLICANTS}.items()},
        phone={k: s[4] for k, s in {**MEMBERS, **APPLICANTS}.items()},
        name={k: s[0] for k, s in {**MEMBERS, **APPLICANTS}.items()},
    )


@pytest.fixture
def client_for(accounts):
    """client_for("town_cadre") -> a signed-in client that answers server errors as pages (500) instead of raising;
    client_for(None) -> an anonymous client."""

    def make(username: str | None, *, csrf: bool = False) -> Client:
        client = Client(enforce_csrf_checks=csrf, raise_request_exception=False)
        if username:
            client.force_login(accounts[username])
        return client

    return make


def post_json(client, path, body=None, **extra):
    return client.post(path, json.dumps(body if body is not None else {}), content_type="application/json", **extra)


def patch_json(client, path, body, **extra):
    return client.patch(path, json.dumps(body), content_type="application/json", **extra)


def items(response) -> list[dict]:
    data = response.json()
    return data["items"] if isinstance(data, dict) and "items" in data else data


def ids_in(response) -> set[str]:
    out = set()
    for item in items(response):
        out.add(item.get("id") or item["member"]["id"])
    return out


def registry_state() -> dict:
    """Everything a member write may change, comparable before and after a refused call."""

    def rows(qs):
        return sorted(map(str, qs))

    return {
        "persons": rows(
            Person.objects.values_list(
                "id", "name", "doc_index", "doc_masked", "phone_index", "phone_masked", "work_unit", "quality_flags"
            )
        ),
        "memberships": rows(Membership.objects.values_list("id", "person_id", "org_id", "status", "ended_on")),
        "applications": rows(JoinApplication.objects.values_list("id", "status", "decided_by", "membership_id")),
        "transfers": rows(TransferRequest.objects.values_list("id", "status", "released_by", "decided_by")),
        "declared": rows(DeclaredTotal.objects.values_list("id", "org_id", "total")),
        "card_serials": rows(CardSerial.objects.values_list("region_code", "year", "last")),
        "jobs": rows(JobRun.objects.values_list("id", flat=True)),
        "successful_events": rows(AuditEvent.objects.filter(result=AuditResult.SUCCESS).values_list("id", "action")),
    }


def visible_keys(reg, username: str, keys) -> list[str]:
    scope = reg.accounts[username].org.path
    return [k for k in keys if reg.tree[{**MEMBERS, **APPLICANTS}[k][1]].path.startswith(scope)]


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


# ---------------------------------------------------------------- 1b. reveal is the only way


def _events() -> int:
    return AuditEvent.objects.count()


def _new_events(before_ids: set) -> list[AuditEvent]:
    return list(AuditEvent.objects.exclude(id__in=before_ids))


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


# ---------------------------------------------------------------- 2. scoping table

OK, HIDDEN, FORBIDDEN, ANONYMOUS = "ok", "hidden", "forbidden", "anonymous"

# (account, target union, outcome). Targets: SZ-GS-T01-12 (the grassroots cadre's own union), SZ-GS-T02-E1
# (another town of the same district) and SZ-GS-T01-123 (the "12"/"123" path-prefix trap).
ROWS = [
    ("city_cadre", "E12", OK),
    ("district_cadre", "E12", OK),
    ("town_cadre", "E12", OK),
    ("grassroots_cadre", "E12", OK),
    ("other_district_cadre", "E12", HIDDEN),
    ("sysadmin", "E12", FORBIDDEN),
    ("secadmin", "E12", FORBIDDEN),
    ("auditor", "E12", FORBIDDEN),
    ("district_auditor", "E12", FORBIDDEN),
    (None, "E12", ANONYMOUS),
    ("district_cadre", "T2E1", OK),
    ("town_cadre", "T2E1", HIDDEN),
    ("grassroots_cadre", "T2E1", HIDDEN),
    ("other_district_cadre", "T2E1", HIDDEN),
    ("grassroots_cadre", "E123", HIDDEN),
]

TARGETS = {
    "E12": {"org": E12, "member": "m12", "applicant": "a12", "transfer": "m12_move"},
    "T2E1": {"org": T2E1, "member": "mt2", "applicant": "at2", "transfer": "mt2_move"},
    "E123": {"org": E123, "member": "m123", "applicant": "a123", "transfer": "m123_move"},
}


@dataclass(frozen=True)
class Target:
    org_id: str
    org_code: str
    membership_id: str
    application_id: str
    transfer_id: str
    name: str
    number: str
    phone: str
    names: tuple[str, ...]  # every person the target's records name
    elsewhere_id: str  # a union outside every target's district, to transfer to

    def missing(self) -> "Target":
        """The same request aimed at ids that do not exist."""
        return replace(
            self,
            org_id=str(uuid.uuid4()),
            membership_id=str(uuid.uuid4()),
            application_id=str(uuid.uuid4()),
            transfer_id=str(uuid.uuid4()),
        )


def target_of(reg, key: str) -> Target:
    spec = TARGETS[key]
    transfer = reg.transfers[spec["transfer"]]
    return Target(
        org_id=str(reg.tree[spec["org"]].id),
        org_code=spec["org"],
        membership_id=str(reg.members[spec["member"]].id),
        application_id=str(reg.applications[spec["applicant"]].id),
        transfer_id=str(transfer.id),
        name=reg.name[spec["member"]],
        number=reg.number[spec["member"]],
        phone=reg.phone[spec["member"]],
        names=(reg.name[spec["member"]], reg.name[spec["applicant"]], reg.name[spec["transfer"]]),
        elsewhere_id=str(reg.tree[WZE1].id),
    )


@dataclass(frozen=True)
class Endpoint:
    """One member endpoint or page. `scope="object"`: a record is named in the URL or body, and out of scope it
    must answer exactly like a missing id (404). `scope="list"`: out of scope answers `hidden` (200 by default)
    without the record. `route` names the API operation for the coverage check."""

    interface: str  # "api" | "admin"
    scope: str  # "object" | "list"
    call: Callable[[Client, Target], object]
    ok: int = 200
    hidden: int | None = None
    route: str = ""
    writes: bool = False
    prepare: Callable[[object, Target], None] | None = None
    present: Callable[[object, Target], bool] | None = None
    verify_ok: Callable[[object, Target, dict], None] | None = None
    verify_hidden: Callable[[object, Target], None] | None = None
    reveals: bool = False
    forbidden: int = 403
    by_org: bool = False  # the URL or body names an organisation (looked up before the member permission)
    echoes_name: bool = False  # the page shows the name searched for in its search box
    # False where the answer is a form shown again with what the caller typed (checked in its own test).
    scan: bool = True

    @property
    def hidden_status(self) -> int:
        if self.hidden is not None:
            return self.hidden
        return 404 if self.scope == "object" else self.ok


def _membership(t: Target) -> Membership:
    return Membership.objects.select_related("person").get(id=t.membership_id)


def _new_successful_events(before: dict) -> list[str]:
    after = registry_state()["successful_events"]
    return [row for row in after if row not in before["successful_events"]]


def _expect_status(status: str):
    def verify(response, t, before):
        assert _membership(t).status == status

    return verify


def _expect_one_reveal(value_of):
    def verify(response, t, before):
        new = _new_successful_events(before)
        assert len(new) == 1 and "person.reveal" in new[0], new
        assert value_of(t) in body_bytes(response).decode()

    return verify


def _expect_application(status):
    def verify(response, t, before):
        assert JoinApplication.objects.get(id=t.application_id).status == status

    return verify


def _expect_transfer(status):
    def verify(response, t, before):
        assert TransferRequest.objects.get(id=t.transfer_id).status == status

    return verify


def _expect_new_member(response, t, before):
    assert Membership.objects.filter(person__name=NEWCOMER[0], org__code=t.org_code).exists()


def _expect_new_application(response, t, before):
    assert JoinApplication.objects.filter(person__name=NEW_APPLICANT[0], org__code=t.org_code).exists()


def _expect_new_transfer(response, t, before):
    assert TransferRequest.objects.filter(membership_id=t.membership_id, status="pending_release").exists()


def _expect_declared(response, t, before):
    assert DeclaredTotal.objects.filter(org__code=t.org_code, total=88).exists()


def _expect_work_unit(response, t, before):
    assert _membership(t).person.work_unit == "更正后的单位"


def _has_membership(response, t):
    return t.membership_id in ids_in(response)


def _search_finds_nothing_as_for_an_unknown_number(response, t):
    assert response.json() == {"items": [], "count": 0}


def _admin_results(response) -> set[str]:
    results = response.context["results"] or []
    return {str(r.id) for r in results}


def _changelist_ids(response) -> set[str]:
    return {str(obj.pk) for obj in response.context["cl"].result_list}


def _form_error(message):
    def verify(response, t):
        assert message in response.content.decode()

    return verify


def _api(method, path_of, body_of=None, query_of=None):
    def call(client, t):
        path = path_of(t)
        if method == "get":
            return client.get(path, query_of(t) if query_of else {})
        if method == "patch":
            return patch_json(client, path, body_of(t))
        return post_json(client, path, body_of(t) if body_of else {})

    return call


def _admin(method, path_of, data_of=None):
    def call(client, t):
        if method == "get":
            return client.get(path_of(t), data_of(t) if data_of else {})
        return client.post(path_of(t), data_of(t) if data_of else {})

    return call


def _member_url(t):
    return f"/api/v1/members/{t.membership_id}"


def _reserve_first(reg, t):
    membership_reserve(actor=reg.system, membership=_membership(t), reason="失业保留会籍")


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
        and not path.startswith("/api/v1/members/imports")  # scoping of imports: tests/test_roster_import_api.py
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
