"""The portal's forms: each reads what a page submits, and nothing more. The registry's rules and their Chinese
messages stay in the services (a refused submit comes back as a DomainError); a form only checks what no service
sees (two passwords that differ, a star rating that is not a number, a missing upload). Text arrives as typed:
a field strips spaces only where the page always did, and a NUL or other odd character is left for the service to
refuse in its own words."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from gonghui.casework.services import MAX_ATTACHMENT_BYTES
from gonghui.members.models import ETHNICITIES, Education, EmploymentForm, HukouType, PoliticalStatus, SkillLevel
from gonghui.members.self_service import CORRECTABLE_FIELDS

PROFILE_CHOICES = {
    "ethnicity": [(e, e) for e in ETHNICITIES],
    "education": Education.choices,
    "political_status": PoliticalStatus.choices,
    "hukou_type": HukouType.choices,
    "employment_form": EmploymentForm.choices,
    "skill_level": SkillLevel.choices,
}
JOIN_TEXT_FIELDS = ("name", "doc_type", "doc_number", "work_unit", "post", "birth_date", "sex", "note")


class Text(forms.CharField):
    """Optional text, as typed (stripped only when asked); the services judge it."""

    def __init__(self, *, strip: bool = False, **kwargs):
        super().__init__(required=False, strip=strip, **kwargs)
        # Django refuses a NUL in English; the services refuse unreadable text in Chinese.
        self.validators = []


class _SentValue(forms.CheckboxInput):
    """The checkbox's value as sent, so that the field, not the widget, decides what counts as ticked."""

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class Ticked(forms.BooleanField):
    """A checkbox: ticked only when the browser sent "on" (its value when the input names none)."""

    widget = _SentValue

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def to_python(self, value):
        return value == "on"


class TextList(forms.Field):
    """Every value of a repeated name (ticked checkboxes sharing it), as sent."""

    widget = forms.MultipleHiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def to_python(self, value):
        return list(value or [])


def form_errors(form: forms.Form) -> dict[str, str]:
    """The form's refusals as the templates show them: one message per field, "form" for the whole form."""
    return {
        ("form" if field == NON_FIELD_ERRORS else field): str(messages[0]) for field, messages in form.errors.items()
    }


# ---------------------------------------------------------------- sign-in


class CodeSignInForm(forms.Form):
    """手机号登录: the first button sends the code, the second signs in."""

    phone = Text(strip=True)
    code = Text()
    action = Text()

    @property
    def sends_code(self) -> bool:
        return self.cleaned_data["action"] == "send"


class PasswordSignInForm(forms.Form):
    phone = Text(strip=True)
    password = Text()


class BindForm(forms.Form):
    """首次登录：核验身份."""

    name = Text()
    doc_type = Text()
    doc_number = Text()


# ---------------------------------------------------------------- joining and transfers


class JoinForm(forms.Form):
    """入会申请: who the worker is, the profile the registry asks for, and the consent."""

    consent = Ticked()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in (*JOIN_TEXT_FIELDS, *PROFILE_CHOICES):
            self.fields[name] = Text(strip=True)

    def application_fields(self) -> dict:
        """The keyword arguments of member_join_apply: optional fields only when given."""
        data = self.cleaned_data
        optional = (*PROFILE_CHOICES, "birth_date", "sex", "work_unit", "post")
        return {
            "consent": data["consent"],
            "note": data["note"],
            "doc_type": data["doc_type"],
            "doc_number": data["doc_number"],
            "name": data["name"],
            **{field: data[field] for field in optional if data[field]},
        }


class JoinCheckForm(forms.Form):
    """One field checked as the worker types: its name, its value (sent under that name), and the document type
    when the field is the document number."""

    field = Text()

    def clean(self):
        data = super().clean()
        data["value"] = self.data.get(data["field"], "")
        data["doc_type"] = self.data.get("doc_type", "resident_id")
        return data


class TransferForm(forms.Form):
    reason = Text()


# ---------------------------------------------------------------- my data


class CorrectionForm(forms.Form):
    """更正个人信息: the correctable fields (blank ones ask for no change) and why."""

    note = Text()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in CORRECTABLE_FIELDS:
            self.fields[name] = Text(strip=True)

    def values(self) -> dict[str, str]:
        return {field: self.cleaned_data[field] for field in CORRECTABLE_FIELDS}

    def changes(self) -> dict[str, str]:
        return {field: value for field, value in self.values().items() if value}


class PasswordSetForm(forms.Form):
    password = Text()
    password2 = Text()

    def clean(self):
        data = super().clean()
        if data.get("password") != data.get("password2"):
            self.add_error("password2", "两次输入的密码不一致")
        return data


# ---------------------------------------------------------------- the service centre and stations


class ServiceApplyForm(forms.Form):
    """申请服务: the kind's fields (stripped), the hardship causes ticked, and the consents."""

    causes = TextList()
    consent_health = Ticked()
    consent_financial = Ticked()

    def __init__(self, *args, fields: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.kind_fields = fields
        for name in fields:
            self.fields[name] = Text(strip=True)

    def values(self) -> dict:
        """What the service reads, and the page shows again when it refuses (the consents as ticked)."""
        data = self.cleaned_data
        return {
            **{name: data[name] for name in self.kind_fields},
            "causes": data["causes"],
            "consent_health": data["consent_health"],
            "consent_financial": data["consent_financial"],
        }


class CaseActionForm(forms.Form):
    """What a member does on a case page: withdraw, rate or attach."""

    action = Text()


class CaseRatingForm(forms.Form):
    rating = Text()
    comment = Text()


class CaseAttachmentForm(forms.Form):
    file = forms.FileField(required=False, allow_empty_file=True)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload:
            raise ValidationError("请选择要上传的照片或文件")
        if upload.size > MAX_ATTACHMENT_BYTES:
            raise ValidationError(f"文件不能超过 {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB")
        return upload


class StationRatingForm(forms.Form):
    stars = Text()
    comment = Text()

    def clean_stars(self) -> int:
        try:
            return int(self.cleaned_data["stars"] or 0)
        except ValueError:
            raise ValidationError("请选择 1 到 5 颗星") from None
