"""Each service type is declared once (gonghui.casework.kinds): its application fields, its 办结 fields and the lines of
its case page. For every declared type, the back office's 代为录入 form, its 办结 form and its case page show exactly
the declared fields, in order, with their labels."""

import html
import re

import pytest
from django.urls import reverse

from gonghui.casework.kinds import KINDS, RESULT_FIELD, SUMMARY_FIELD
from gonghui.casework.models import CaseKind, CaseStatus
from tests.casework.factories import HANDLER, advance, enter, form

# The fields each type declares today, as a cadre reads them on the paper form: what a new type must add to.
EXPECTED_APPLICATION = {
    CaseKind.HARDSHIP: ["summary", "causes", "household_size", "household_income", "amount_requested"],
    CaseKind.LEGAL: ["summary", "category", "counterparty", "amount_requested"],
    CaseKind.INSURANCE: [
        "summary",
        "enrolment",
        "hospital",
        "admitted_on",
        "discharged_on",
        "total_cost",
        "eligible_cost",
    ],
    CaseKind.STUDENT: [
        "summary",
        "student_name",
        "student_doc_number",
        "relation",
        "school",
        "grade",
        "amount_requested",
    ],
}
EXPECTED_CLOSE = {
    CaseKind.HARDSHIP: ["result", "granted", "tier", "aid_form", "amount", "aid_description"],
    CaseKind.LEGAL: ["result", "outcome", "amount_recovered"],
    CaseKind.INSURANCE: ["result", "payable", "reference"],
    CaseKind.STUDENT: ["result", "granted", "amount"],
}
EXPECTED_DETAILS = {
    CaseKind.HARDSHIP: ["致困原因", "家庭人口", "家庭年收入"],
    CaseKind.LEGAL: ["争议类别", "对方单位"],
    CaseKind.INSURANCE: ["就诊医院", "住院", "医疗总费用", "政策范围内自付"],
    CaseKind.STUDENT: ["学生", "学生身份证号码", "学校与年级"],
}


def field_names(form_html: str) -> list[str]:
    """The names a form posts, in order, once each, without the page's own (csrf, action, kind, card, consents)."""
    own = {"csrfmiddlewaretoken", "action", "kind", "card_number", "consent_health", "consent_financial"}
    names = re.findall(r'name="([^"]+)"', form_html)
    return [name for name in dict.fromkeys(names) if name not in own]


def the_form(page: str, marker: str) -> str:
    """The <form> of the page that holds `marker`."""
    for found in re.findall(r"<form\b.*?</form>", page, flags=re.S):
        if marker in found:
            return found
    raise AssertionError(f"no form with {marker}")


def shows_field(form_html: str, spec) -> bool:
    label = html.escape(spec.label)
    if spec.kind == "checkbox":
        return f'name="{spec.name}" > {label}</label>' in form_html
    required = ' <span class="gh-error" aria-hidden="true">*</span>' if spec.required else ""
    return f'<label for="f-{spec.name}">{label}{required}</label>' in form_html


def test_every_case_kind_is_declared_with_its_fields():
    assert set(KINDS) == set(CaseKind.values)
    for kind, rules in KINDS.items():
        assert rules.application_fields[0] == SUMMARY_FIELD
        assert rules.outcome_fields[0] == RESULT_FIELD
        assert [f.name for f in rules.application_fields] == EXPECTED_APPLICATION[kind]
        assert [f.name for f in rules.outcome_fields] == EXPECTED_CLOSE[kind]
        # What the portal's application form reads as one value each (致困原因 is a list).
        assert rules.value_field_names == tuple(name for name in EXPECTED_APPLICATION[kind] if name != "causes")
        assert [row.label for row in rules.details] == EXPECTED_DETAILS[kind]
        assert set(rules.working_days) >= {CaseStatus.SUBMITTED, CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS}


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_declared_fields_drive_the_new_case_form(kind, login):
    rules = KINDS[kind]
    page = login("grassroots_cadre").get(reverse("admin:case_new"), {"kind": kind}).content.decode()
    form = the_form(page, 'name="card_number"')
    assert field_names(form) == [spec.name for spec in rules.application_fields]
    for spec in rules.application_fields:
        assert shows_field(form, spec), spec.name
        if spec.help:
            assert f'<div class="gh-muted">{html.escape(spec.help)}</div>' in form
        for value, text in spec.choices:
            assert f'value="{value}"' in form and text in form


def application(kind: str, enrolment) -> dict:
    return form(kind, enrolment=str(enrolment.id)) if kind == CaseKind.INSURANCE else form(kind)


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_declared_fields_drive_the_close_form_and_the_case_page(kind, enrolment, member, actors, login):
    rules = KINDS[kind]
    extra = {"enrolment": str(enrolment.id)} if kind == CaseKind.INSURANCE else {}
    case = enter(actors["grassroots_cadre"], member.membership, kind, **extra)
    case = advance(case, actors, CaseStatus.IN_PROGRESS)
    handler = login(HANDLER[case.org.code])
    page = handler.get(reverse("admin:case_detail", args=[case.id])).content.decode()

    form = the_form(page, 'value="close"')
    assert field_names(form) == [spec.name for spec in rules.outcome_fields]
    for spec in rules.outcome_fields:
        assert shows_field(form, spec), spec.name

    rows = rules.detail_rows(case.details)
    assert [label for label, _ in rows] == EXPECTED_DETAILS[kind]
    shown = "".join(f"<dt>{html.escape(label)}</dt><dd>{html.escape(text)}</dd>" for label, text in rows)
    assert shown in page


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_refused_entry_keeps_every_declared_field_as_typed(kind, enrolment, member, login):
    rules = KINDS[kind]
    typed = {**application(kind, enrolment), "summary": ""}  # refused: 请填写申请事由
    posted = {"kind": kind, "card_number": member.membership.card_number, **typed}
    page = login("grassroots_cadre").post(reverse("admin:case_new"), posted).content.decode()
    assert '<div class="gh-error" role="alert">请填写申请事由</div>' in page
    for spec in rules.application_fields:
        value = typed.get(spec.name)
        if value is None:
            continue
        if spec.kind == "multi":
            for chosen in value:
                assert f'name="{spec.name}" value="{chosen}" checked' in page
        elif spec.kind == "select":
            assert f'<option value="{value}" selected>' in page
        elif value:
            assert f'value="{html.escape(value)}"' in page, spec.name
