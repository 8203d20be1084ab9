"""Fields a role may not change are shown read-only instead of offered: the organisation type to a grassroots cadre
(and to any cadre on her own organisation), every field of an organisation that is no longer active, and the birth
date and sex that a resident ID carries on the member correction form. A forged POST of such a field changes
nothing, and the rest of the edit is kept (no 403 that loses it)."""

import re
from datetime import date

import pytest

from gonghui.audit.models import AuditEvent
from gonghui.orgs.models import Organisation
from gonghui.orgs.services import org_dissolve, org_fields_locked
from tests.members.factories import enrol, resident_id


def change_url(org) -> str:
    return f"/admin/orgs/organisation/{org.id}/change/"


def form_data(org, **changes) -> dict:
    """What a browser sends back from the change form (the contact phone left empty keeps the stored one)."""
    data = {
        "name": org.name,
        "code": org.code,
        "region_code": org.region_code,
        "uscc": org.uscc or "",
        "founded_on": "",
        "term_ends_on": "",
        "address": org.address,
        "contact_person": org.contact_person,
        "contact_phone": "",
        "_save": "保存",
    }
    return {**data, **changes}


def org_state():
    return list(Organisation.objects.order_by("path").values_list("code", "name", "org_type", "level", "updated_at"))


def updates():
    return list(AuditEvent.objects.filter(action="org.update").values_list("object_label", "details"))


def type_select(page: str) -> bool:
    return bool(re.search(r'<select[^>]*name="org_type"', page))


def test_grassroots_cadre_sees_the_type_read_only(tree, login):
    page = login("grassroots_cadre").get(change_url(tree["SZ-GS-T01-12"])).text
    assert not type_select(page)
    assert "独立基层工会" in page  # the current type, as text
    assert re.search(r'<input[^>]*name="name"', page)  # what she may change is still offered


def test_the_rule_is_the_services(tree, actors):
    e12 = tree["SZ-GS-T01-12"]
    assert org_fields_locked(actor=actors["grassroots_cadre"], org=e12) == {"org_type"}
    assert org_fields_locked(actor=actors["town_cadre"], org=e12) == frozenset()
    assert org_fields_locked(actor=actors["town_cadre"], org=tree["SZ-GS-T01"]) == {"org_type"}  # its own


def test_forged_type_from_a_grassroots_cadre_changes_nothing(tree, login):
    union = tree["SZ-GS-T01-12"]
    before = org_state()
    response = login("grassroots_cadre").post(change_url(union), form_data(union, org_type="joint_grassroots"))
    assert response.status_code == 302  # saved (nothing to save), not a 403
    assert org_state() == before
    assert updates() == []


def test_her_other_edits_are_kept_when_a_type_is_forged_beside_them(tree, login):
    union = tree["SZ-GS-T01-12"]
    response = login("grassroots_cadre").post(
        change_url(union), form_data(union, org_type="joint_grassroots", address="姑苏区人民路1号")
    )
    assert response.status_code == 302
    union.refresh_from_db()
    assert (union.org_type, union.address) == ("grassroots", "姑苏区人民路1号")
    [(_label, details)] = updates()
    assert details == {"changes": {"address": ["", "姑苏区人民路1号"]}}


def test_an_upper_cadre_is_offered_the_type_below_her_but_not_of_her_own_union(tree, login):
    client = login("town_cadre")
    assert type_select(client.get(change_url(tree["SZ-GS-T01-12"])).text)
    assert not type_select(client.get(change_url(tree["SZ-GS-T01"])).text)
    response = client.post(
        change_url(tree["SZ-GS-T01-12"]), form_data(tree["SZ-GS-T01-12"], org_type="joint_grassroots")
    )
    assert response.status_code == 302
    assert Organisation.objects.get(code="SZ-GS-T01-12").org_type == "joint_grassroots"


def test_a_dissolved_union_is_read_only_and_a_forged_post_changes_nothing(tree, actors, login):
    org_dissolve(actor=actors["town_cadre"], org=tree["SZ-GS-T01-C1"], reason="社区合并")
    community = Organisation.objects.get(code="SZ-GS-T01-C1")
    client = login("town_cadre")
    page = client.get(change_url(community)).text
    assert not re.search(r'<input[^>]*name="name"', page)
    before = org_state()
    response = client.post(change_url(community), form_data(community, name="改名社区工会"))
    assert response.status_code == 403
    assert org_state() == before
    assert updates() == []


@pytest.fixture
def member(tree, actors):
    return enrol(actors["town_cadre"], tree["SZ-GS-T01-12"], name="何平", number=resident_id(date(1988, 2, 3), 51))


def test_birth_date_and_sex_of_a_resident_id_are_read_only_on_the_correction_form(member, login):
    client = login("grassroots_cadre")
    page = client.get(f"/admin/registry/members/{member.id}/correct/").text
    assert re.search(r'<input[^>]*name="birth_date"[^>]*disabled', page)
    assert re.search(r'<select[^>]*name="sex"[^>]*disabled', page)
    assert "由证件号码确定" in page
    data = {
        "doc_type": "resident_id",
        "doc_number": "",
        "name": "何平",
        "phone": "",
        "birth_date": "1970-01-01",
        "sex": "F",
        "ethnicity": "汉族",
        "education": "bachelor",
        "employment_form": "standard",
        "work_unit": "十二号有限公司",
        "post": "钳工",
    }
    response = client.post(f"/admin/registry/members/{member.id}/correct/", data)
    assert response.status_code == 302
    member.person.refresh_from_db()
    assert (member.person.birth_date, member.person.sex, member.person.post) == (date(1988, 2, 3), "M", "钳工")
