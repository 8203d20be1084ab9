"""How the member endpoints show a membership: each answer is declared once, as a schema whose resolvers read the
model (numbers leave masked, labels in Chinese). Shared by the member and quality endpoints. Comments, not docstrings,
on the schemas: a docstring would become the schema's description in the OpenAPI document."""

from datetime import date
from uuid import UUID

from ninja import Schema

from gonghui.api.schemas import UnionBrief
from gonghui.members.selectors import person_history


class MemberOut(Schema):
    # A membership, with its person's masked numbers.

    id: UUID
    person_id: UUID
    name: str
    doc_type: str
    doc_type_label: str
    doc_number_masked: str
    phone_masked: str
    sex: str
    birth_date: date | None
    union: UnionBrief
    status: str
    status_label: str
    joined_on: date
    source: str
    source_label: str
    card_number: str
    ended_on: date | None
    end_reason: str

    @staticmethod
    def resolve_person_id(membership):
        return membership.person.id

    @staticmethod
    def resolve_name(membership) -> str:
        return membership.person.name

    @staticmethod
    def resolve_doc_type(membership) -> str:
        return membership.person.doc_type

    @staticmethod
    def resolve_doc_type_label(membership) -> str:
        return membership.person.get_doc_type_display()

    @staticmethod
    def resolve_doc_number_masked(membership) -> str:
        return membership.person.doc_masked

    @staticmethod
    def resolve_phone_masked(membership) -> str:
        return membership.person.phone_masked

    @staticmethod
    def resolve_sex(membership) -> str:
        return membership.person.get_sex_display()

    @staticmethod
    def resolve_birth_date(membership):
        return membership.person.birth_date

    @staticmethod
    def resolve_union(membership):
        return membership.org

    @staticmethod
    def resolve_status_label(membership) -> str:
        return membership.get_status_display()

    @staticmethod
    def resolve_source_label(membership) -> str:
        return membership.get_source_display()


def _label(person, field: str) -> str:
    """The Chinese label of a coded profile field ("" when it is not filled in)."""
    return getattr(person, f"get_{field}_display")() if getattr(person, field) else ""


class PersonProfile(Schema):
    # A person's registry profile, coded fields by their labels.

    ethnicity: str
    education: str
    political_status: str
    hukou_type: str
    is_migrant_worker: bool
    employment_form: str
    employment_form_label: str
    is_new_employment: bool
    work_unit: str
    post: str
    skill_level: str
    is_model_worker: bool
    remarks: str

    @staticmethod
    def resolve_education(person) -> str:
        return _label(person, "education")

    @staticmethod
    def resolve_political_status(person) -> str:
        return _label(person, "political_status")

    @staticmethod
    def resolve_hukou_type(person) -> str:
        return _label(person, "hukou_type")

    @staticmethod
    def resolve_employment_form_label(person) -> str:
        return _label(person, "employment_form")

    @staticmethod
    def resolve_skill_level(person) -> str:
        return _label(person, "skill_level")


class HistoryItem(Schema):
    # One of the person's memberships, past or present.

    id: UUID
    union: UnionBrief
    status_label: str
    joined_on: date
    ended_on: date | None
    end_reason: str
    card_number: str

    @staticmethod
    def resolve_union(membership):
        return membership.org

    @staticmethod
    def resolve_status_label(membership) -> str:
        return membership.get_status_display()


class MemberDetail(MemberOut):
    # A membership with the person's profile and every membership the caller may see.

    profile: PersonProfile
    history: list[HistoryItem]

    @staticmethod
    def resolve_profile(membership):
        return membership.person

    @staticmethod
    def resolve_history(membership, context) -> list:
        return person_history(actor=context["request"].actor, person=membership.person)["memberships"]
