"""The registry that the access tests share: members, applicants and transfers in four unions, the scan that finds
a full document number or mobile in any answer, and the scoping table's targets and expectations."""

import html
import io
import json
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace

from django.test import Client
from stdnum.cn import ric

from gonghui.audit.models import AuditEvent, AuditResult
from gonghui.jobs.models import JobRun
from gonghui.members.models import CardSerial, DeclaredTotal, JoinApplication, Membership, Person, TransferRequest
from gonghui.members.services import membership_reserve

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


def _person_fields(spec) -> dict:
    name, _union, seq, region, phone = spec
    return {"doc_type": "resident_id", "doc_number": resident_id(seq, region), "phone": phone, "name": name}


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


# ---------------------------------------------------------------- 1b. reveal is the only way


def _events() -> int:
    return AuditEvent.objects.count()


def _new_events(before_ids: set) -> list[AuditEvent]:
    return list(AuditEvent.objects.exclude(id__in=before_ids))


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
