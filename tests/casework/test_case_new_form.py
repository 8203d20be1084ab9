"""Entering an application on a member's behalf: the service, the card, the written consents, the form."""

from decimal import Decimal

import pytest
from django.urls import reverse

from gonghui.casework.models import (
    CaseSource,
    CaseStatus,
    ServiceCase,
)
from tests.casework.page_factories import (
    CARD_REFUSED,
    E12,
    FINANCIAL_CONSENT,
    FORBIDDEN_MARK,
    GS,
    HEALTH_CONSENT,
    Worker,
    _case,
    _media,
    audit_count,
    campaign_data,
    casework_state,
    enrolment,
    hardship_data,
    insurance_data,
    legal_data,
    people,
    plan,
    plan_data,
    student_data,
    text,
)

__all__ = ["_media", "people", "enrolment", "plan"]  # fixtures, imported for the tests of this module


# ---------------------------------------------------------------- 4. entering an application on a member's behalf


def test_entering_starts_by_choosing_the_service(login):
    response = login("town_cadre").get(reverse("admin:case_new"))
    assert response.status_code == 200
    page = text(response)
    for kind, label in (
        ("hardship", "困难帮扶"),
        ("legal", "法律援助"),
        ("insurance", "互助保障"),
        ("student", "金秋助学"),
    ):
        assert f'<a class="gh-link" href="?kind={kind}">{label}</a>' in page


def test_a_card_outside_my_subtree_is_refused_and_nothing_is_written(people, login):
    client = login("town_cadre")  # SZ-GS-T01: union 12 and 123, not SZ-GS-T02 nor 吴中
    before = casework_state()
    for who in ("mt2", "mwz"):
        form = {"kind": "hardship", "card_number": people[who].card, **hardship_data()}
        response = client.post(reverse("admin:case_new"), {**form, "consent_financial": "on", "consent_health": "on"})
        assert response.status_code == 200
        page = text(response)
        assert CARD_REFUSED in page
        assert people[who].name not in page
    response = client.post(reverse("admin:case_new"), {"kind": "legal", "card_number": "", **legal_data()})
    assert CARD_REFUSED in text(response)
    assert casework_state() == before


def _entry_form(kind: str, who: Worker, enrolment=None) -> dict:
    data = {
        "hardship": hardship_data(),
        "legal": legal_data(),
        "insurance": insurance_data(enrolment) if enrolment else {},
        "student": student_data(),
    }[kind]
    return {"kind": kind, "card_number": who.card, **data}


# kind, changes to the form, the consents ticked, the message expected (None: accepted)
CONSENT_CASES = [
    ("hardship", {}, {}, FINANCIAL_CONSENT),
    ("hardship", {}, {"consent_financial"}, HEALTH_CONSENT),  # 因病 needs the health consent too
    ("hardship", {"causes": ["unemployment"]}, {"consent_financial"}, None),
    ("hardship", {}, {"consent_financial", "consent_health"}, None),
    ("legal", {}, set(), None),
    ("legal", {"category": "injury"}, set(), HEALTH_CONSENT),
    ("legal", {"category": "injury"}, {"consent_health"}, None),
    ("insurance", {}, {"consent_financial"}, HEALTH_CONSENT),
    ("insurance", {}, {"consent_health"}, None),
    ("student", {}, {"consent_health"}, FINANCIAL_CONSENT),
    ("student", {}, {"consent_financial"}, None),
]


@pytest.mark.parametrize(("kind", "changes", "ticked", "message"), CONSENT_CASES)
def test_entering_needs_the_written_consents_of_the_type(enrolment, people, login, kind, changes, ticked, message):
    client = login("grassroots_cadre")
    form = {**_entry_form(kind, people["m12"], enrolment), **changes, **dict.fromkeys(ticked, "on")}
    before = casework_state()
    response = client.post(reverse("admin:case_new") + f"?kind={kind}", form)
    if message:
        assert response.status_code == 200
        assert message in text(response)
        assert casework_state() == before
        return
    assert response.status_code == 302
    case = ServiceCase.objects.get()
    assert response["Location"] == _case(case.id)
    assert (case.kind, case.person_id, case.source, case.submitted_by, case.status) == (
        kind,
        people["m12"].person.id,
        CaseSource.CADRE,
        "grassroots_cadre",
        CaseStatus.SUBMITTED,
    )
    assert case.consent_by == "grassroots_cadre核对书面同意书"
    assert (case.consent_financial_at is not None) == (kind in ("hardship", "student"))
    health = kind == "insurance" or changes.get("category") == "injury" or (kind == "hardship" and not changes)
    assert (case.consent_health_at is not None) == health
    assert case.org.code == {"hardship": E12, "legal": GS, "insurance": GS, "student": E12}[kind]
    assert audit_count("case.submit", case.id) == 1
    page = text(client.get(response["Location"]))
    assert f"已录入，受理编号 {case.number}，承办工会：{case.org.name}" in page


def test_a_large_hardship_request_goes_to_the_county_federation(people, login):
    client = login("grassroots_cadre")
    form = {"kind": "hardship", "card_number": people["m12"].card, **hardship_data("5000")}
    response = client.post(reverse("admin:case_new"), {**form, "consent_financial": "on", "consent_health": "on"})
    assert response.status_code == 302
    case = ServiceCase.objects.get()
    assert (case.home_org.code, case.org.code, case.amount_requested) == (E12, GS, Decimal("5000.00"))
    assert case.events.get().note == "困难帮扶，按规则转由姑苏区总工会承办"


def test_an_incomplete_form_shows_the_field_and_keeps_what_was_typed(people, login):
    client = login("grassroots_cadre")
    form = {"kind": "hardship", "card_number": people["m12"].card, **hardship_data(), "household_size": "0"}
    before = casework_state()
    response = client.post(reverse("admin:case_new"), {**form, "consent_financial": "on", "consent_health": "on"})
    page = text(response)
    assert "家庭人口应在 1 到 20 之间" in page
    assert 'value="36000"' in page and people["m12"].card in page
    assert casework_state() == before


def test_the_grassroots_cadre_cannot_set_up_plans_or_campaigns(tree, login):
    client = login("grassroots_cadre")
    before = casework_state()
    for url, form in (
        (reverse("admin:plan_new"), {"org_code": GS, **plan_data()}),
        (reverse("admin:campaign_new"), {"org_code": E12, **campaign_data()}),
    ):
        for response in (client.get(url), client.post(url, form)):
            assert response.status_code == 403, url
            assert FORBIDDEN_MARK in response.content
    assert casework_state() == before


# ---------------------------------------------------------------- 5. figures and their export
