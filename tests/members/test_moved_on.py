"""A union reads a member it has lost as it held them.

When a membership ends (transfer out, leave, cancel) the person's profile is kept on it, and a cadre whose subtree
holds only the ended membership reads that: never the person's current union, current card number, later
corrections or current portal sign-in, in the selectors, the API, the back office and the search; the history shows
only the subtree's own memberships, applications and transfers, a destination outside it as "已转出至其他工会";
a full number is never revealed through an ended membership. A subtree that also holds the current membership reads
the record as it is.
"""

import importlib
import json

import pytest
from django.apps import apps as django_apps
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from gonghui.audit.models import AuditEvent
from gonghui.common.errors import PermissionDenied
from gonghui.members.models import Membership, Person
from gonghui.members.search import MemberQuery, member_search
from gonghui.members.selectors import membership_get, person_history
from gonghui.members.services import (
    membership_leave,
    membership_reveal,
    person_update,
    transfer_accept,
    transfer_release,
    transfer_request,
)
from tests.members.factories import enrol, resident_id

E12, E123, WZE1 = "SZ-GS-T01-12", "SZ-GS-T01-123", "SZ-WZ-T01-E1"
OLD_PHONE, NEW_PHONE = "13812341234", "13955556666"
OLD_UNIT, NEW_UNIT = "十二号有限公司", "木渎新材料有限公司"
OLD_NAME, NEW_NAME = "张三", "张叁丰"
ENDED_REVEAL = "该会籍已转出，不能查看完整号码"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def moved(tree, actors, system):
    """张三 enrolled in union "12" (SZ-GS-T01-12), transferred to 木渎光电 in another district (SZ-WZ-T01-E1), then
    corrected there: new name, phone and work unit."""
    from datetime import date

    number = resident_id(date(1990, 5, 17), 301)
    old = enrol(actors["grassroots_cadre"], tree[E12], name=OLD_NAME, number=number, phone=OLD_PHONE)
    transfer = transfer_request(actor=system, membership=old, to_org=tree[WZE1], reason="工作调动")
    transfer_release(actor=system, transfer=transfer)
    new = transfer_accept(actor=system, transfer=transfer)
    person_update(actor=actors["other_district_cadre"], person=new.person, name=NEW_NAME, work_unit=NEW_UNIT)
    person_update(actor=actors["other_district_cadre"], person=new.person, phone=NEW_PHONE)
    return {"old": Membership.objects.get(pk=old.pk), "new": Membership.objects.get(pk=new.pk), "number": number}


def later_values(moved, tree) -> list[str]:
    """What the old union must never read: the person's current union, card number and later corrections."""
    return [
        tree[WZE1].name,
        tree[WZE1].code,
        moved["new"].card_number,
        str(moved["new"].id),
        NEW_NAME,
        NEW_UNIT,
        "139****6666",
    ]


def assert_none_of(text: str, values: list[str]) -> None:
    found = [value for value in values if value in text]
    assert found == []


def client_of(accounts, username: str) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(accounts[username])
    return client


# ---------------------------------------------------------------- the snapshot itself


def test_the_profile_is_kept_on_the_membership_when_it_ends(moved):
    assert moved["old"].profile_at_end == {
        "name": OLD_NAME,
        "doc_type": "resident_id",
        "doc_masked": moved["old"].person.doc_masked,
        "phone_masked": "138****1234",
        "sex": "M",
        "region_code": "320508",
        "birth_date": "1990-05-17",
        "ethnicity": "汉族",
        "education": "bachelor",
        "political_status": "",
        "hukou_type": "",
        "employment_form": "standard",
        "work_unit": OLD_UNIT,
        "post": "",
        "skill_level": "",
        "is_model_worker": False,
        "remarks": "",
    }
    assert moved["new"].profile_at_end is None
    assert "enc" not in json.dumps(moved["old"].profile_at_end)


def test_leaving_keeps_the_profile_too(tree, actors):
    membership = enrol(actors["grassroots_cadre"], tree[E12], name="李四", seq=302, phone=OLD_PHONE)
    membership_leave(actor=actors["grassroots_cadre"], membership=membership, reason="本人申请")
    kept = Membership.objects.get(pk=membership.pk).profile_at_end
    assert (kept["name"], kept["phone_masked"], kept["work_unit"]) == ("李四", "138****1234", OLD_UNIT)


# ---------------------------------------------------------------- selectors


def test_the_old_union_reads_the_membership_as_it_ended(moved, actors):
    seen = membership_get(actor=actors["grassroots_cadre"], membership_id=moved["old"].id)

    assert seen.seen_at_end is True
    assert (seen.person.name, seen.person.phone_masked, seen.person.work_unit) == (OLD_NAME, "138****1234", OLD_UNIT)
    assert seen.person.doc_masked == Person.objects.get(pk=moved["old"].person_id).doc_masked
    assert seen.card_number == moved["old"].card_number
    assert seen.end_reason == "已转出至其他工会"
    # The stand-in can never overwrite the real record.
    with pytest.raises(IntegrityError), transaction.atomic():
        seen.person.save()
    assert Person.objects.get(pk=moved["old"].person_id).name == NEW_NAME


def test_the_old_unions_history_holds_only_its_own_records(moved, actors, tree):
    actor = actors["grassroots_cadre"]
    seen = membership_get(actor=actor, membership_id=moved["old"].id)

    history = person_history(actor=actor, person=seen.person)

    assert [m.id for m in history["memberships"]] == [moved["old"].id]
    assert [m.end_reason for m in history["memberships"]] == ["已转出至其他工会"]
    assert [(t.from_label, t.to_label) for t in history["transfers"]] == [(tree[E12].name, "其他工会")]
    assert history["applications"] == []


def test_a_subtree_holding_the_current_membership_reads_the_record_as_it_is(moved, actors, tree):
    actor = actors["city_cadre"]
    seen = membership_get(actor=actor, membership_id=moved["old"].id)

    assert seen.seen_at_end is False
    assert (seen.person.name, seen.person.work_unit, seen.person.phone_masked) == (NEW_NAME, NEW_UNIT, "139****6666")
    assert seen.end_reason == f"转入“{tree[WZE1].name}”"
    history = person_history(actor=actor, person=seen.person)
    assert [m.id for m in history["memberships"]] == [moved["new"].id, moved["old"].id]


def test_the_search_answers_with_the_profile_at_the_end(moved, actors):
    actor = actors["grassroots_cadre"]
    [found] = member_search(actor=actor, query=MemberQuery(doc_number=moved["number"], status="all"))

    assert found.id == moved["old"].id
    assert (found.person.name, found.person.work_unit, found.person.phone_masked) == (
        OLD_NAME,
        OLD_UNIT,
        "138****1234",
    )


def test_no_full_number_through_an_ended_membership(moved, actors):
    before = AuditEvent.objects.count()
    seen = membership_get(actor=actors["grassroots_cadre"], membership_id=moved["old"].id)

    with pytest.raises(PermissionDenied) as refused:
        membership_reveal(actor=actors["grassroots_cadre"], membership=seen, field="phone", reason="核对")

    assert refused.value.message == ENDED_REVEAL
    assert AuditEvent.objects.count() == before


def test_a_membership_ended_before_snapshots_shows_only_its_own_fields(moved, actors):
    Membership.objects.filter(pk=moved["old"].pk).update(profile_at_end=None)

    seen = membership_get(actor=actors["grassroots_cadre"], membership_id=moved["old"].id)

    assert (seen.person.name, seen.person.work_unit, seen.person.phone_masked, seen.person.doc_masked) == (
        "张**",
        "",
        "",
        "",
    )
    assert seen.card_number == moved["old"].card_number


# ---------------------------------------------------------------- the API and the back office


def test_api_detail_of_the_ended_membership(moved, accounts, tree):
    client = client_of(accounts, "grassroots_cadre")

    response = client.get(f"/api/v1/members/{moved['old'].id}")

    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["phone_masked"], body["profile"]["work_unit"]) == (OLD_NAME, "138****1234", OLD_UNIT)
    assert (body["union"]["code"], body["card_number"], body["end_reason"]) == (
        E12,
        moved["old"].card_number,
        "已转出至其他工会",
    )
    assert [(h["card_number"], h["end_reason"]) for h in body["history"]] == [
        (moved["old"].card_number, "已转出至其他工会")
    ]
    assert_none_of(response.content.decode(), later_values(moved, tree))


def test_api_list_and_search_of_ended_memberships(moved, accounts, tree):
    client = client_of(accounts, "grassroots_cadre")

    listed = client.get("/api/v1/members", {"status": "transferred_out"})
    searched = client.post(
        "/api/v1/members/search",
        json.dumps({"doc_number": moved["number"], "status": "all"}),
        content_type="application/json",
    )

    for response in (listed, searched):
        assert response.status_code == 200
        [item] = response.json()["items"]
        assert (item["id"], item["name"], item["phone_masked"]) == (str(moved["old"].id), OLD_NAME, "138****1234")
        assert_none_of(response.content.decode(), later_values(moved, tree))


def test_api_reveal_through_an_ended_membership_is_refused(moved, accounts):
    client = client_of(accounts, "grassroots_cadre")
    before = AuditEvent.objects.count()

    response = client.post(
        f"/api/v1/members/{moved['old'].id}/reveal",
        json.dumps({"field": "doc_number", "reason": "核对"}),
        content_type="application/json",
    )

    assert (response.status_code, response.json()) == (403, {"code": "permission_denied", "message": ENDED_REVEAL})
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("page", ["admin:member_detail", "admin:member_card", "admin:member_correct"])
def test_back_office_pages_of_the_ended_membership(moved, accounts, tree, page):
    client = client_of(accounts, "grassroots_cadre")

    response = client.get(reverse(page, args=[moved["old"].id]))

    assert response.status_code == 200
    text = response.content.decode()
    assert OLD_NAME in text
    assert_none_of(text, later_values(moved, tree))


def test_back_office_detail_says_what_it_shows(moved, accounts, tree):
    text = client_of(accounts, "grassroots_cadre").get(reverse("admin:member_detail", args=[moved["old"].id]))
    text = text.content.decode()

    assert "以下为会籍终止时本会登记的信息" in text
    assert OLD_UNIT in text and "138****1234" in text
    assert "已转出至其他工会" in text
    assert f"{tree[E12].name} → 其他工会" in text
    assert "查看完整号码" not in text


def test_back_office_reveal_through_an_ended_membership_is_refused(moved, accounts):
    client = client_of(accounts, "grassroots_cadre")
    before = AuditEvent.objects.count()

    response = client.post(
        reverse("admin:member_detail", args=[moved["old"].id]), {"action": "reveal", "field": "phone", "reason": "核对"}
    )

    assert response.status_code == 200
    assert ENDED_REVEAL in response.content.decode()
    assert "13812341234" not in response.content.decode()
    assert AuditEvent.objects.count() == before


def test_back_office_lists_and_search_of_ended_memberships(moved, accounts, tree):
    client = client_of(accounts, "grassroots_cadre")

    changelist = client.get(reverse("admin:members_membership_changelist"), {"status__exact": "transferred_out"})
    search = client.post(
        reverse("admin:member_search"),
        {"doc_type": "resident_id", "doc_number": moved["number"], "include_ended": "on"},
    )

    for response in (changelist, search):
        assert response.status_code == 200
        text = response.content.decode()
        assert OLD_NAME in text and "138****1234" in text
        assert_none_of(text, later_values(moved, tree))


def test_a_union_that_also_holds_the_current_membership_sees_it(moved, accounts, tree):
    response = client_of(accounts, "city_cadre").get(f"/api/v1/members/{moved['old'].id}")

    body = response.json()
    assert (body["name"], body["profile"]["work_unit"]) == (NEW_NAME, NEW_UNIT)
    assert [h["card_number"] for h in body["history"]] == [moved["new"].card_number, moved["old"].card_number]


def test_a_transfer_within_the_subtree_still_names_the_destination(tree, actors, system):
    old = enrol(actors["town_cadre"], tree[E12], name="王五", seq=303)
    transfer = transfer_request(actor=system, membership=old, to_org=tree[E123], reason="工作调动")
    transfer_release(actor=system, transfer=transfer)
    transfer_accept(actor=system, transfer=transfer)

    seen = membership_get(actor=actors["town_cadre"], membership_id=old.id)

    assert seen.seen_at_end is False
    assert seen.end_reason == f"转入“{tree[E123].name}”"


# ---------------------------------------------------------------- the migration's backfill


def test_a_pending_correction_moves_with_the_member(tree, actors, system):
    """A correction the member asked of the old union is the new union's to decide after the transfer: the old
    union neither lists it nor reads the record through it."""
    from datetime import date

    from gonghui.members.models import CorrectionRequest
    from gonghui.members.selectors import corrections_pending

    old = enrol(system, tree[E12], name=OLD_NAME, number=resident_id(date(1991, 6, 1), 311))
    asked = CorrectionRequest.objects.create(person=old.person, org=tree[E12], changes={"work_unit": NEW_UNIT})
    assert list(corrections_pending(actor=actors["grassroots_cadre"])) == [asked]
    transfer = transfer_request(actor=system, membership=old, to_org=tree[WZE1], reason="工作调动")
    transfer_release(actor=system, transfer=transfer)
    transfer_accept(actor=system, transfer=transfer)
    asked.refresh_from_db()
    assert (asked.org_id, asked.status) == (tree[WZE1].id, "pending")
    assert list(corrections_pending(actor=actors["grassroots_cadre"])) == []
    assert list(corrections_pending(actor=actors["other_district_cadre"])) == [asked]
    accepted = AuditEvent.objects.get(action="transfer.accept", object_id=str(transfer.id))
    assert accepted.details["corrections_moved"] == 1


def test_the_backfill_keeps_profiles_only_where_no_union_has_held_the_record_since(moved, tree, actors):
    left = enrol(actors["grassroots_cadre"], tree[E12], name="赵六", seq=304, phone=OLD_PHONE)
    membership_leave(actor=actors["grassroots_cadre"], membership=left, reason="本人申请")
    Membership.objects.update(profile_at_end=None)
    migration = importlib.import_module("gonghui.members.migrations.0007_profile_at_end_and_pending_applications")

    migration.keep_profiles_of_last_memberships(django_apps, None)

    assert Membership.objects.get(pk=left.pk).profile_at_end["name"] == "赵六"
    assert Membership.objects.get(pk=moved["old"].pk).profile_at_end is None  # the person moved on
    assert Membership.objects.get(pk=moved["new"].pk).profile_at_end is None  # held
