"""A union's contact mobile is personal data: every screen, the API and exports show 138****1234; the full
number is shown only through 查看完整号码 (a stated reason, scoped, audited, for roles that may unmask, as for
members). Editors replace the number without seeing it: an empty field keeps it, a new value replaces it."""

import re

import pytest

from gonghui.audit.models import AuditEvent
from gonghui.common.errors import NotFound, PermissionDenied, ValidationFailed
from gonghui.orgs.models import Organisation
from gonghui.orgs.services import org_contact_phone_reveal, org_update

MOBILE = "13812345678"
MASKED = "138****5678"


@pytest.fixture
def union(tree, system):
    return org_update(actor=system, org=tree["SZ-GS-T01-12"], contact_person="王红", contact_phone=MOBILE)


def _snapshot():
    return (
        list(Organisation.objects.order_by("path").values_list("code", "contact_phone", "updated_at")),
        list(AuditEvent.objects.order_by("at", "id").values_list("id", flat=True)),
    )


# Every role that can open the union's page: editors and the three administrators (view only).
OPENERS = ["grassroots_cadre", "town_cadre", "city_cadre", "sysadmin", "secadmin", "auditor"]


@pytest.mark.parametrize("name", OPENERS)
def test_every_role_that_opens_the_form_sees_the_masked_number_only(union, login, name):
    response = login(name).get(f"/admin/orgs/organisation/{union.id}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert MOBILE not in page
    assert MASKED in page


@pytest.mark.parametrize("name", ["town_cadre", "sysadmin"])
def test_the_list_and_the_tree_never_show_the_number(union, login, name):
    client = login(name)
    for url in ("/admin/orgs/organisation/", f"/admin/orgs/tree/?org={union.id}"):
        assert MOBILE not in client.get(url).content.decode(), url


def test_the_api_shows_the_masked_number(union, login):
    body = login("town_cadre").get(f"/api/v1/orgs/{union.id}").json()
    assert body["contact_phone_masked"] == MASKED
    assert MOBILE not in str(body)


def _form_data(client, org) -> dict:
    """The change form's fields as the browser would send them back."""
    page = client.get(f"/admin/orgs/organisation/{org.id}/change/").content.decode()
    data = {}
    for name in ("name", "code", "org_type", "region_code", "uscc", "founded_on", "term_ends_on", "address",
                 "contact_person", "contact_phone"):  # fmt: skip
        match = re.search(rf'name="{name}"[^>]*?value="([^"]*)"', page)
        data[name] = match.group(1) if match else ""
    data["org_type"] = org.org_type
    data["_save"] = "保存"
    return data


@pytest.mark.parametrize("name", ["grassroots_cadre", "sysadmin"])
def test_saving_the_form_unchanged_keeps_the_number(union, login, name):
    client = login(name)
    data = _form_data(client, union)
    assert data["contact_phone"] == ""  # the field starts empty: the old number is never sent to the browser
    before = _snapshot()

    response = client.post(f"/admin/orgs/organisation/{union.id}/change/", data)

    assert response.status_code == 302
    assert _snapshot() == before
    assert Organisation.objects.get(id=union.id).contact_phone == MOBILE


def test_a_new_number_replaces_the_old_one_and_is_audited_masked(union, login):
    client = login("grassroots_cadre")
    data = {**_form_data(client, union), "contact_phone": "13900001111"}

    response = client.post(f"/admin/orgs/organisation/{union.id}/change/", data)

    assert response.status_code == 302
    assert Organisation.objects.get(id=union.id).contact_phone == "13900001111"
    event = AuditEvent.objects.get(action="org.update", object_id=str(union.id), actor_label="grassroots_cadre")
    assert event.details == {"changes": {"contact_phone": [MASKED, "139****1111"]}}


def test_the_number_can_be_cleared_on_purpose(union, login):
    client = login("grassroots_cadre")
    data = {**_form_data(client, union), "clear_contact_phone": "on"}

    assert client.post(f"/admin/orgs/organisation/{union.id}/change/", data).status_code == 302
    assert Organisation.objects.get(id=union.id).contact_phone == ""


# ---------------------------------------------------------------- reveal


def test_reveal_states_a_reason_and_writes_one_audit_row(union, actors):
    before = AuditEvent.objects.count()

    number = org_contact_phone_reveal(actor=actors["town_cadre"], org=union, reason="核实换届材料")

    assert number == MOBILE
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.get(action="org.reveal_contact_phone")
    assert (event.actor_label, event.object_id, event.object_org_path) == ("town_cadre", str(union.id), union.path)
    assert event.details == {"field": "contact_phone", "reason": "核实换届材料"}


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("other_district_cadre", NotFound),  # another subtree: answered like a missing union
        ("sysadmin", PermissionDenied),  # the three administrators never unmask personal data
        ("secadmin", PermissionDenied),
        ("auditor", PermissionDenied),
    ],
)
def test_reveal_is_refused_out_of_scope_and_without_the_right_and_audits_nothing(union, actors, name, error):
    before = _snapshot()

    with pytest.raises(error):
        org_contact_phone_reveal(actor=actors[name], org=union, reason="核实")

    assert _snapshot() == before


def test_reveal_without_a_reason_is_refused(union, actors):
    before = _snapshot()
    with pytest.raises(ValidationFailed) as refused:
        org_contact_phone_reveal(actor=actors["town_cadre"], org=union, reason="  ")
    assert refused.value.errors == {"reason": "请填写查看原因"}
    assert _snapshot() == before


def test_reveal_through_the_back_office(union, login):
    client = login("town_cadre")
    url = f"/admin/orgs/organisation/{union.id}/reveal-phone/"
    before = _snapshot()

    page = client.get(url)
    assert page.status_code == 200
    assert "查看原因" in page.content.decode()
    assert MOBILE not in page.content.decode()
    assert _snapshot() == before

    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 200
    assert "请填写查看原因" in refused.content.decode()
    assert MOBILE not in refused.content.decode()
    assert _snapshot() == before

    shown = client.post(url, {"reason": "核实换届材料"})
    assert shown.status_code == 200
    assert MOBILE in shown.content.decode()
    assert AuditEvent.objects.filter(action="org.reveal_contact_phone").count() == 1


def test_reveal_page_is_refused_for_the_administrators(union, login):
    before = _snapshot()
    for name in ("sysadmin", "auditor"):
        response = login(name).post(f"/admin/orgs/organisation/{union.id}/reveal-phone/", {"reason": "核实"})
        assert response.status_code == 403, name
        assert MOBILE not in response.content.decode()
    assert _snapshot() == before
