"""Enrolling a member or entering a join application looks a document number up in the whole registry. The answer
never names a union outside the cadre's subtree, a wrong name does not say whether the number is registered, every
lookup counts against the search limit and is audited as a search by number, an application shows nothing of a
record held outside the subtree, and a cadre's application never stops the person applying themself."""

import json
import re
from datetime import date

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from gonghui.audit.models import AuditEvent
from gonghui.common.errors import DomainError, ValidationFailed
from gonghui.common.ratelimit import RateLimited
from gonghui.common.sms import MemorySmsSender
from gonghui.members.member_accounts import member_account_bind, phone_code_send, phone_code_sign_in
from gonghui.members.models import ApplicationStatus, JoinApplication, Membership
from gonghui.members.search import SEARCHES_PER_MINUTE, MemberQuery, member_search
from gonghui.members.self_service import member_join_apply
from gonghui.members.services import (
    join_application_approve,
    join_application_submit,
    member_enrol,
    membership_leave,
)
from tests.members.factories import COMPLETE_PROFILE, enrol, registry_state, resident_id, unchanged_but_looked_up

E12, E123, WZE1 = "SZ-GS-T01-12", "SZ-GS-T01-123", "SZ-WZ-T01-E1"
BIRTH = date(1990, 5, 17)
ELSEWHERE = "该人员已是其他工会会员，可发起会员接转"
NAME_MISMATCH = "姓名与证件号码不符，请核对证件原件后重新填写"
LIMITED = "查询过于频繁，请一分钟后再试"
THEIR_PHONE, THEIR_UNIT = "13955550000", "木渎光电有限公司"
UNKNOWN = resident_id(BIRTH, 499)
IP = "203.0.113.9"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def elsewhere(tree, system):
    """王芳, a member of 木渎光电 (SZ-WZ-T01-E1, another district), with her phone and work unit on record."""
    number = resident_id(BIRTH, 401)
    membership = enrol(system, tree[WZE1], name="王芳", number=number, phone=THEIR_PHONE, work_unit=THEIR_UNIT)
    return {"number": number, "membership": membership}


def their_data(tree) -> list[str]:
    """What a cadre of union "12" must not learn about 王芳 from an enrolment or an application."""
    return [tree[WZE1].name, tree[WZE1].code, "139****0000", THEIR_UNIT]


def assert_none_of(text: str, values: list[str]) -> None:
    assert [value for value in values if value in text] == []


def client_of(accounts, username: str) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(accounts[username])
    return client


def api_post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def person_body(org, *, name, number, **extra) -> dict:
    return {"org_id": str(org.id), "doc_number": number, "name": name, **COMPLETE_PROFILE, **extra}


def lookup_events():
    return list(AuditEvent.objects.filter(action="member.search_by_number").order_by("at", "id"))


# ---------------------------------------------------------------- a member of another union


def test_enrolling_a_member_of_another_union_does_not_name_it(elsewhere, tree, accounts):
    client = client_of(accounts, "grassroots_cadre")

    with unchanged_but_looked_up():
        response = api_post(client, "/api/v1/members", person_body(tree[E12], name="王芳", number=elsewhere["number"]))

    assert (response.status_code, response.json()) == (400, {"code": "already_member", "message": ELSEWHERE})


def test_the_back_office_enrolment_does_not_name_it_either(elsewhere, tree, accounts):
    client = client_of(accounts, "grassroots_cadre")
    form = {"org_code": E12, "doc_type": "resident_id", "doc_number": elsewhere["number"], "name": "王芳"}

    with unchanged_but_looked_up(2):
        enrolled = client.post(reverse("admin:member_enrol"), form)
        applied = client.post(reverse("admin:member_enrol") + "?mode=application", {**form, "name": "王五"})

    assert enrolled.status_code == 200
    assert ELSEWHERE in enrolled.content.decode()
    assert applied.status_code == 200
    assert NAME_MISMATCH in applied.content.decode()
    for response in (enrolled, applied):
        assert_none_of(response.content.decode(), their_data(tree))
        assert "登记" not in response.context["form"].errors.as_text()


def test_a_union_in_the_cadres_own_subtree_is_named(tree, actors):
    number = resident_id(BIRTH, 402)
    enrol(actors["town_cadre"], tree[E123], name="赵六", number=number)

    with unchanged_but_looked_up(), pytest.raises(DomainError) as refused:
        enrol(actors["town_cadre"], tree[E12], name="赵六", number=number)

    assert refused.value.message == f"该人员已是“{tree[E123].name}”的会员，可发起会员接转"


def test_an_application_for_a_member_elsewhere_shows_none_of_their_data(elsewhere, tree, accounts):
    client = client_of(accounts, "grassroots_cadre")

    response = api_post(
        client,
        "/api/v1/join-applications",
        person_body(tree[E12], name="王芳", number=elsewhere["number"], phone="13800000000", work_unit="十二号"),
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["person_name"], body["already_member_of"], body["status"]) == ("王芳", "其他工会", "pending")
    assert_none_of(response.content.decode(), their_data(tree))
    listed = client.get("/api/v1/join-applications")
    assert [item["already_member_of"] for item in listed.json()["items"]] == ["其他工会"]
    assert_none_of(listed.content.decode(), their_data(tree))
    page = client.get(reverse("admin:join_application_detail", args=[body["id"]]))
    assert page.status_code == 200
    text = page.content.decode()
    assert ELSEWHERE in text
    assert "该人员的登记信息由其所在或原所在工会管理，此处不显示" in text
    assert_none_of(text, their_data(tree))


def test_approving_it_does_not_name_the_union(elsewhere, tree, actors):
    application = join_application_submit(
        actor=actors["grassroots_cadre"],
        org=tree[E12],
        doc_type="resident_id",
        doc_number=elsewhere["number"],
        name="王芳",
    )

    with pytest.raises(DomainError) as refused:
        join_application_approve(actor=actors["grassroots_cadre"], application=application)

    assert refused.value.message == "申请人已是其他工会会员，不能直接批准，请改为会员接转"


def test_an_application_for_someone_who_was_a_member_elsewhere_shows_none_of_their_data(
    elsewhere, tree, accounts, system
):
    membership_leave(actor=system, membership=elsewhere["membership"], reason="离职")
    client = client_of(accounts, "grassroots_cadre")
    created = api_post(
        client, "/api/v1/join-applications", person_body(tree[E12], name="王芳", number=elsewhere["number"])
    )

    page = client.get(reverse("admin:join_application_detail", args=[created.json()["id"]]))

    assert page.status_code == 200
    assert page.context["profile_in_scope"] is False
    assert_none_of(page.content.decode(), their_data(tree))


def test_an_application_for_a_new_person_shows_what_was_entered(tree, accounts):
    client = client_of(accounts, "grassroots_cadre")
    created = api_post(
        client,
        "/api/v1/join-applications",
        person_body(tree[E12], name="钱七", number=UNKNOWN, phone="13811112222", work_unit="十二号新公司"),
    )

    text = client.get(reverse("admin:join_application_detail", args=[created.json()["id"]])).content.decode()

    assert "138****2222" in text and "十二号新公司" in text


# ---------------------------------------------------------------- a wrong name


@pytest.mark.parametrize("state", ["member_elsewhere", "left_elsewhere", "member_here"])
@pytest.mark.parametrize("path", ["/api/v1/members", "/api/v1/join-applications"])
def test_a_wrong_name_says_nothing_of_the_record(elsewhere, tree, accounts, actors, system, state, path):
    """The same answer whether the person is a member of another union, has left it, or belongs to the cadre's own
    union: no union, no "registered", and only the audited, counted lookup is written."""
    if state == "left_elsewhere":
        membership_leave(actor=system, membership=elsewhere["membership"], reason="离职")
    number = elsewhere["number"]
    if state == "member_here":
        number = resident_id(BIRTH, 403)
        enrol(actors["grassroots_cadre"], tree[E12], name="孙八", number=number)
    client = client_of(accounts, "grassroots_cadre")

    with unchanged_but_looked_up():
        response = api_post(client, path, person_body(tree[E12], name="王五", number=number))

    assert (response.status_code, response.json()) == (
        422,
        {"code": "validation_failed", "message": NAME_MISMATCH, "errors": {"name": NAME_MISMATCH}},
    )


def test_a_wrong_name_is_counted_and_audited_exactly_like_an_unknown_number(elsewhere, tree, actors):
    """Both are one lookup against the same limit, with one audit line of the same shape; the line holds the
    masked number only."""
    actor = actors["grassroots_cadre"]
    with pytest.raises(ValidationFailed):
        enrol(actor, tree[E12], name="王五", number=elsewhere["number"])
    enrol(actor, tree[E12], name="王五", number=UNKNOWN)

    wrong, unknown = lookup_events()

    def shape(event):
        return (event.action, event.object_type, event.object_id, event.object_org_path, event.result, event.actor_id)

    assert (
        shape(wrong)
        == shape(unknown)
        == (
            "member.search_by_number",
            "membership",
            "",
            tree[E12].path,
            "success",
            actor.id,
        )
    )
    assert wrong.details == {"criteria": {"doc": _masked(elsewhere["number"])}, "purpose": "member.enrol"}
    assert unknown.details == {"criteria": {"doc": _masked(UNKNOWN)}, "purpose": "member.enrol"}


def _masked(number: str) -> str:
    return number[:4] + "*" * 10 + number[-4:]


# ---------------------------------------------------------------- the search limit and audit


def test_lookups_share_the_search_limit(elsewhere, tree, actors, accounts):
    actor = actors["grassroots_cadre"]
    for _ in range(SEARCHES_PER_MINUTE - 1):
        with pytest.raises(ValidationFailed):
            enrol(actor, tree[E12], name="王五", number=elsewhere["number"])
    member_search(actor=actor, query=MemberQuery(doc_number=elsewhere["number"]))  # the 30th
    assert len(lookup_events()) == SEARCHES_PER_MINUTE
    state = registry_state()

    for attempt in (
        lambda: enrol(actor, tree[E12], name="王芳", number=elsewhere["number"]),
        lambda: join_application_submit(
            actor=actor, org=tree[E12], doc_type="resident_id", doc_number=UNKNOWN, name="钱七"
        ),
        lambda: member_search(actor=actor, query=MemberQuery(doc_number=elsewhere["number"])),
    ):
        with pytest.raises(RateLimited) as refused:
            attempt()
        assert refused.value.message == LIMITED

    assert registry_state() == state
    response = api_post(
        client_of(accounts, "grassroots_cadre"), "/api/v1/members", person_body(tree[E12], name="钱七", number=UNKNOWN)
    )
    assert (response.status_code, response.json()) == (429, {"code": "rate_limited", "message": LIMITED})
    assert registry_state() == state


def test_each_lookup_is_audited_like_a_search_by_number(elsewhere, tree, actors):
    actor = actors["grassroots_cadre"]
    member_search(actor=actor, query=MemberQuery(doc_number=elsewhere["number"], org=tree[E12]))
    with pytest.raises(DomainError):
        enrol(actor, tree[E12], name="王芳", number=elsewhere["number"])
    join_application_submit(
        actor=actor, org=tree[E12], doc_type="resident_id", doc_number=elsewhere["number"], name="王芳"
    )

    search, enrolment, application = lookup_events()

    for lookup in (enrolment, application):
        assert (lookup.action, lookup.object_type, lookup.object_org_path) == (
            search.action,
            search.object_type,
            search.object_org_path,
        )
        assert lookup.details["criteria"] == search.details["criteria"] == {"doc": _masked(elsewhere["number"])}
    assert (enrolment.details["purpose"], application.details["purpose"]) == (
        "member.enrol",
        "join_application.submit",
    )
    assert elsewhere["number"] not in json.dumps([e.details for e in (search, enrolment, application)])


def test_the_platforms_own_enrolments_are_not_limited(tree, system):
    for seq in range(SEARCHES_PER_MINUTE + 1):
        member_enrol(
            actor=system, org=tree[E12], doc_type="resident_id", doc_number=resident_id(BIRTH, 410 + seq), name="周九"
        )
    assert lookup_events() == []


# ---------------------------------------------------------------- the person's own application


def sign_in(phone: str):
    sent = phone_code_send(phone=phone, ip=IP)
    return phone_code_sign_in(phone=phone, code=sent.code, ip=IP)


def test_a_cadres_application_does_not_stop_the_persons_own(elsewhere, tree, actors, system):
    """王芳 has left her union and signed in to the portal; a cadre of union "12" enters an application for her. She
    still applies to the union of her choice herself, and sees both."""
    membership_leave(actor=system, membership=elsewhere["membership"], reason="离职")
    account = sign_in(THEIR_PHONE)
    member_account_bind(account=account, name="王芳", doc_type="resident_id", doc_number=elsewhere["number"], ip=IP)
    account.refresh_from_db()
    entered = join_application_submit(
        actor=actors["grassroots_cadre"],
        org=tree[E12],
        doc_type="resident_id",
        doc_number=elsewhere["number"],
        name="王芳",
    )

    own = member_join_apply(account=account, org=tree[E123], consent=True, ip=IP)

    assert (own.person_id, own.org_id, own.source, own.status) == (
        entered.person_id,
        tree[E123].id,
        "online",
        ApplicationStatus.PENDING,
    )
    assert sorted(JoinApplication.objects.filter(status="pending").values_list("org__code", "source")) == [
        (E12, "cadre"),
        (E123, "online"),
    ]
    # Her own second application is still refused, as before.
    with pytest.raises(DomainError) as refused:
        member_join_apply(account=account, org=tree[WZE1], consent=True, ip=IP)
    assert (refused.value.code, refused.value.message) == (
        "duplicate_application",
        "该人员已有一份待审核的入会申请，请等待审核结果",
    )
    # Approving hers makes her a member; the cadre's entry then waits as any application from a member elsewhere.
    join_application_approve(actor=actors["town_cadre"], application=own)
    assert Membership.objects.get(person_id=own.person_id, status="active").org_id == tree[E123].id
    with pytest.raises(DomainError) as refused:
        join_application_approve(actor=actors["grassroots_cadre"], application=entered)
    assert refused.value.message == "申请人已是其他工会会员，不能直接批准，请改为会员接转"


def test_the_portal_application_still_works_after_a_cadres_entry_elsewhere(tree, actors):
    """A cadre of another district entered an application in the worker's name (no phone given); the worker signs
    in to the portal and applies to the union of their choice with the union's link."""
    number = resident_id(BIRTH, 420)
    join_application_submit(
        actor=actors["other_district_cadre"], org=tree[WZE1], doc_type="resident_id", doc_number=number, name="李新工"
    )
    client = Client()
    phone = "13912345678"
    client.post(reverse("portal:login"), {"phone": phone, "action": "send"})
    [text] = [text for to, text in MemorySmsSender.outbox if to == phone][-1:]
    client.post(reverse("portal:login"), {"phone": phone, "code": re.search(r"\d{6}", text).group(0)})

    response = client.post(
        reverse("portal:join_union", args=[tree[E12].id]),
        {"name": "李新工", "doc_type": "resident_id", "doc_number": number, **COMPLETE_PROFILE, "consent": "on"},
    )

    own = JoinApplication.objects.get(org=tree[E12])
    assert (response.status_code, response["Location"]) == (302, reverse("portal:application", args=[own.id]))
    assert (own.source, own.status) == ("online", ApplicationStatus.PENDING)
    assert JoinApplication.objects.get(org=tree[WZE1]).status == ApplicationStatus.PENDING
