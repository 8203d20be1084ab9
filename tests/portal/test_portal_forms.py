"""Every portal form after a refused submit: what the worker typed, chose and ticked comes back as it was (passwords
and one-time codes never do); the keyboards a phone opens for numbers; the star rating; what the 入会申请 entry and
the join pages say to a member and to a pending applicant; the union search's count; the member's own card."""

import re
from datetime import date
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gonghui.casework.models import ServiceCase
from gonghui.common.validators import REASON_MAX
from gonghui.members.models import JoinApplication, MemberAccount
from gonghui.orgs.models import OrgType
from gonghui.orgs.services import org_create
from tests.casework.page_factories import advance, casework_state, hardship_data, legal_data, people, portal_member
from tests.members.factories import enrol, registry_state, resident_id
from tests.portal.factories import JOIN_FORM, NEW_WORKER_ID, OTHER_PHONE, PHONE, _apply, _last_code, sign_in

__all__ = ["people"]  # a fixture, imported for the service-centre tests

MEMBER_ID = resident_id(date(1990, 5, 17), 7)


class _Form(HTMLParser):
    """The fields of the page's forms as a browser would submit them: name -> value (a list for repeated names),
    plus each input's attributes by id."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.values: dict[str, list[str]] = {}
        self.attrs_by_id: dict[str, dict[str, str | None]] = {}
        self.inputs: list[dict[str, str | None]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def _add(self, name, value):
        self.values.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a and tag in ("input", "select", "textarea"):
            self.attrs_by_id[a["id"]] = a
        if tag == "input":
            self.inputs.append(a)
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(a["name"], a.get("value", "on"))
            elif kind not in ("hidden", "submit", "file") and a.get("name"):
                self._add(a["name"], a.get("value") or "")
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self._add(self._select, a.get("value", ""))
        elif tag == "textarea":
            self._textarea = a.get("name")
            self._text = []

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self._add(self._textarea, "".join(self._text))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)


def form_of(response) -> _Form:
    parser = _Form()
    parser.feed(response.content.decode())
    return parser


def value(form: _Form, name: str) -> str | None:
    """The single value a field would submit; None when it submits nothing (an unticked box, no choice)."""
    found = form.values.get(name, [])
    assert len(found) <= 1, (name, found)
    return found[0] if found else None


def errors(response) -> list[str]:
    page = response.content.decode()
    return [m for m in re.findall(r'<p class="(?:err|alert)"[^>]*role="alert">([^<]+)</p>', page) if m.strip()]


@pytest.fixture
def union(tree):
    return tree["SZ-GS-T01-12"]


def signed_in(phone: str = PHONE) -> Client:
    client = Client()
    sign_in(client, phone)
    return client


def bound_member(system, union) -> tuple[Client, object]:
    membership = enrol(system, union, name="王会员", seq=7, phone=PHONE)
    client = signed_in()
    response = client.post(
        reverse("portal:bind"), {"name": "王会员", "doc_type": "resident_id", "doc_number": MEMBER_ID}
    )
    assert response.status_code == 302
    return client, membership


# ---------------------------------------------------------------- 1. forms keep their input


@pytest.mark.django_db
def test_join_form_keeps_every_field_and_the_ticked_consent_after_an_error(union):
    client = signed_in()
    before = registry_state()
    typed = {
        **JOIN_FORM,
        "work_unit": "",  # the error
        "political_status": "masses",
        "hukou_type": "non_agricultural",
        "skill_level": "grade3",
        "note": "新入职员工",
    }
    response = _apply(client, union, **typed)

    assert response.status_code == 200
    assert errors(response) == ["请按提示修改后再提交。", "请填写工作单位"]
    form = form_of(response)
    for field in (
        "name",
        "doc_type",
        "doc_number",
        "ethnicity",
        "education",
        "employment_form",
        "post",
        "political_status",
        "hukou_type",
        "skill_level",
        "note",
    ):
        assert value(form, field) == typed[field], field
    assert value(form, "work_unit") == ""
    assert value(form, "consent") == "on"
    assert registry_state() == before


@pytest.mark.django_db
def test_join_form_keeps_an_unticked_consent_unticked(union):
    client = signed_in()
    response = _apply(client, union, consent="")

    assert errors(response) == ["请按提示修改后再提交。", "请阅读并同意个人信息保护说明后提交"]
    form = form_of(response)
    assert value(form, "consent") is None
    assert value(form, "doc_number") == NEW_WORKER_ID and value(form, "name") == "李新工"


@pytest.mark.django_db
def test_join_form_of_a_bound_worker_keeps_note_and_consent(system, union, tree):
    """A registered worker whose membership ended applies as their record: only a note and the consent are asked."""
    from gonghui.members.services import membership_leave

    client, membership = bound_member(system, union)
    membership_leave(actor=system, membership=membership, reason="离职")
    before = registry_state()
    note = "返" * (REASON_MAX + 1)
    response = client.post(reverse("portal:join_union", args=[union.id]), {"note": note, "consent": "on"})

    assert response.status_code == 200
    assert errors(response) == ["请按提示修改后再提交。", f"申请说明不能超过{REASON_MAX}个字"]
    form = form_of(response)
    assert value(form, "note") == note and value(form, "consent") == "on"
    assert registry_state() == before


@pytest.mark.django_db
def test_bind_keeps_name_type_and_number_after_a_refusal(system, union):
    enrol(system, union, name="王会员", seq=7, phone=PHONE)
    client = signed_in()
    typed = {"name": "王别人", "doc_type": "resident_id", "doc_number": MEMBER_ID}
    response = client.post(reverse("portal:bind"), typed)

    assert response.status_code == 200
    assert len(errors(response)) == 1
    form = form_of(response)
    assert {f: value(form, f) for f in typed} == typed
    assert MemberAccount.objects.get().person_id is None


@pytest.mark.django_db
def test_login_keeps_the_phone_and_never_the_code():
    client = Client()
    bad = client.post(reverse("portal:login"), {"phone": "1391234567", "action": "send"})
    assert value(form_of(bad), "phone") == "1391234567"

    client.post(reverse("portal:login"), {"phone": PHONE, "action": "send"})
    code = _last_code(PHONE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = client.post(reverse("portal:login"), {"phone": PHONE, "code": wrong})

    assert response.status_code == 200
    form = form_of(response)
    assert value(form, "phone") == PHONE
    assert value(form, "code") == ""  # the field is offered again, empty
    assert wrong not in response.content.decode() and code not in response.content.decode()
    assert "portal_account" not in client.session


@pytest.mark.django_db
def test_password_sign_in_keeps_the_phone_and_never_the_password():
    response = Client().post(reverse("portal:login_password"), {"phone": OTHER_PHONE, "password": "Secret#2026x"})

    assert response.status_code == 200
    assert len(errors(response)) == 1
    form = form_of(response)
    assert value(form, "phone") == OTHER_PHONE
    assert value(form, "password") == ""
    assert "Secret#2026x" not in response.content.decode()


@pytest.mark.django_db
def test_password_form_never_writes_a_password_back():
    client = signed_in()
    for typed in ({"password": "Abc#12345", "password2": "Abc#12346"}, {"password": "short", "password2": "short"}):
        response = client.post(reverse("portal:me_password"), typed)
        assert response.status_code == 200
        assert len(errors(response)) == 1
        form = form_of(response)
        assert value(form, "password") == "" and value(form, "password2") == ""
        assert typed["password"] not in response.content.decode()
    assert MemberAccount.objects.get().password == ""


@pytest.mark.django_db
def test_correction_form_keeps_what_was_typed(system, union):
    client, membership = bound_member(system, union)
    typed = {
        "name": "王" * 51,  # the error: longer than a name may be
        "ethnicity": "回族",
        "education": "postgraduate",
        "political_status": "masses",
        "hukou_type": "agricultural",
        "employment_form": "courier",
        "work_unit": "新的单位有限公司",
        "post": "班组长",
        "skill_level": "grade3",
    }
    before = registry_state()
    response = client.post(reverse("portal:me_correct"), {**typed, "note": "单位更名"})

    assert response.status_code == 200
    assert errors(response)
    form = form_of(response)
    assert {f: value(form, f) for f in typed} == typed
    assert value(form, "note") == "单位更名"
    assert registry_state() == before


@pytest.mark.django_db
def test_transfer_form_keeps_the_reason(system, union, tree):
    client, _ = bound_member(system, union)
    reason = "到新单位工作" * 100
    before = registry_state()
    response = client.post(reverse("portal:transfer_to", args=[tree["SZ-WZ-T01-E1"].id]), {"reason": reason})

    assert response.status_code == 200
    assert errors(response)
    assert value(form_of(response), "reason") == reason
    assert registry_state() == before


@pytest.mark.django_db
def test_union_search_keeps_the_query_and_the_choice_of_search(union):
    response = Client().get(reverse("portal:join_find"), {"q": "无此单位", "by": "employer"})
    form = form_of(response)
    assert value(form, "q") == "无此单位" and value(form, "by") == "employer"


@pytest.mark.django_db
def test_service_application_keeps_fields_causes_and_the_ticked_consent(people):
    client = portal_member(people["m12"])
    typed = hardship_data(causes=("illness", "disaster"))  # illness: the health consent is needed
    before = casework_state()
    response = client.post(reverse("portal:service_apply", args=["hardship"]), {**typed, "consent_financial": "on"})

    assert response.status_code == 200
    assert errors(response)
    form = form_of(response)
    for field in ("summary", "household_size", "household_income", "amount_requested"):
        assert value(form, field) == typed[field], field
    assert sorted(form.values["causes"]) == ["disaster", "illness"]
    assert value(form, "consent_financial") == "on"
    assert value(form, "consent_health") is None
    assert casework_state() == before


@pytest.mark.django_db
def test_service_application_keeps_a_ticked_health_consent(people):
    client = portal_member(people["m12"])
    response = client.post(
        reverse("portal:service_apply", args=["hardship"]), {**hardship_data(), "summary": "", "consent_health": "on"}
    )

    assert response.status_code == 200
    form = form_of(response)
    assert value(form, "consent_health") == "on" and value(form, "consent_financial") is None
    assert ServiceCase.objects.count() == 0


@pytest.mark.django_db
def test_rating_keeps_the_comment_and_the_star_after_an_error(people, actors):
    client = portal_member(people["m12"])
    client.post(reverse("portal:service_apply", args=["legal"]), legal_data())
    case = ServiceCase.objects.get()
    advance(actors["district_cadre"], case, "closed", outcome="mediated")
    url = reverse("portal:service_case", args=[case.id])
    before = casework_state()

    no_star = client.post(url, {"action": "rate", "comment": "调解及时"})
    assert "请选择 1 到 5 星的评价" in errors(no_star)
    form = form_of(no_star)
    assert value(form, "comment") == "调解及时" and value(form, "rating") is None

    too_long = "好" * (REASON_MAX + 1)
    long_comment = client.post(url, {"action": "rate", "rating": "4", "comment": too_long})
    assert errors(long_comment) == [f"评价意见不能超过{REASON_MAX}个字"]
    form = form_of(long_comment)
    assert value(form, "rating") == "4" and value(form, "comment") == too_long
    assert casework_state() == before


@pytest.mark.django_db
def test_back_office_lookup_keeps_a_mistyped_number_and_clears_an_answered_one(login, system, union):
    """会员查询: a refused search keeps what the cadre typed; an answered one does not print the number back."""
    enrol(system, union, name="王会员", seq=7, phone=PHONE)
    client = login("grassroots_cadre")
    url = reverse("admin:member_search")
    mistyped = MEMBER_ID[:-1] + ("0" if MEMBER_ID[-1] != "0" else "1")

    refused = client.post(url, {"doc_type": "resident_id", "doc_number": mistyped, "phone": "1391234"})
    assert refused.status_code == 200
    assert refused.context["results"] is None
    assert refused.context["form"].errors
    form = form_of(refused)
    assert value(form, "doc_number") == mistyped and value(form, "phone") == "1391234"

    answered = client.post(url, {"doc_type": "resident_id", "doc_number": MEMBER_ID, "name": "王会员"})
    assert [m.person.name for m in answered.context["results"]] == ["王会员"]
    form = form_of(answered)
    assert value(form, "doc_number") == "" and value(form, "name") == "王会员"
    assert MEMBER_ID not in answered.content.decode()


# ---------------------------------------------------------------- 2. the keyboard a field opens


def attrs(response, field_id: str) -> dict:
    return form_of(response).attrs_by_id[field_id]


@pytest.mark.django_db
def test_phone_and_code_fields_open_the_phone_keypad_and_offer_the_sms_code():
    client = Client()
    page = client.post(reverse("portal:login"), {"phone": PHONE, "action": "send"})
    phone, code = attrs(page, "phone"), attrs(page, "code")
    assert (phone["type"], phone["inputmode"], phone["autocomplete"]) == ("tel", "tel", "tel")
    assert (code["inputmode"], code["pattern"], code["autocomplete"], code["maxlength"]) == (
        "numeric",
        "[0-9]*",
        "one-time-code",
        "6",
    )
    password_page = client.get(reverse("portal:login_password"))
    assert (attrs(password_page, "phone")["type"], attrs(password_page, "phone")["inputmode"]) == ("tel", "tel")


def _id_keyboard(a: dict) -> tuple:
    return a["inputmode"], a["autocapitalize"], a["autocomplete"], a["spellcheck"]


@pytest.mark.django_db
def test_document_numbers_get_a_keyboard_with_x(union, people):
    """A resident ID may end in X: a numeric keypad cannot type it, so the text keyboard in capitals."""
    expected = ("text", "characters", "off", "false")
    client = signed_in(OTHER_PHONE)
    assert _id_keyboard(attrs(client.get(reverse("portal:bind")), "doc_number")) == expected
    assert _id_keyboard(attrs(client.get(reverse("portal:join_union", args=[union.id])), "doc_number")) == expected
    member = portal_member(people["m12"])
    student = member.get(reverse("portal:service_apply", args=["student"]))
    assert _id_keyboard(attrs(student, "student_doc_number")) == expected


@pytest.mark.django_db
def test_counts_and_amounts_open_numeric_and_decimal_keypads(people):
    client = portal_member(people["m12"])
    hardship = client.get(reverse("portal:service_apply", args=["hardship"]))
    assert (attrs(hardship, "household_size")["inputmode"], attrs(hardship, "household_size")["pattern"]) == (
        "numeric",
        "[0-9]*",
    )
    assert attrs(hardship, "household_income")["inputmode"] == "decimal"
    assert attrs(hardship, "amount_requested")["inputmode"] == "decimal"
    insurance = client.get(reverse("portal:service_apply", args=["insurance"]))
    assert attrs(insurance, "total_cost")["inputmode"] == "decimal"
    assert attrs(insurance, "eligible_cost")["inputmode"] == "decimal"
    legal = client.get(reverse("portal:service_apply", args=["legal"]))
    assert attrs(legal, "amount_requested")["inputmode"] == "decimal"


# ---------------------------------------------------------------- 3. the star rating


@pytest.mark.django_db
def test_rating_is_five_labelled_star_radios(people, actors):
    client = portal_member(people["m12"])
    client.post(reverse("portal:service_apply", args=["legal"]), legal_data())
    case = ServiceCase.objects.get()
    advance(actors["district_cadre"], case, "closed", outcome="mediated")
    page = client.get(reverse("portal:service_case", args=[case.id]))

    radios = [a for a in form_of(page).inputs if a.get("name") == "rating"]
    assert [(a["type"], a["id"], a["value"]) for a in radios] == [("radio", f"rating-{n}", str(n)) for n in range(1, 6)]
    labels = re.findall(
        r'<label for="rating-(\d)" title="\d星"><span aria-hidden="true">★</span><span class="sr-only">(\d星)</span>'
        r"</label>",
        page.content.decode(),
    )
    assert labels == [(str(n), f"{n}星") for n in range(1, 6)]


# ---------------------------------------------------------------- 4. 入会申请 for members and applicants


def join_tile(response) -> str:
    found = re.findall(r'<a class="tile" href="([^"]+)" data-testid="tile-join">(.*?)</a>', response.content.decode())
    assert len(found) == 1
    href, inner = found[0]
    return href + " " + re.sub(r"<[^>]+>", "|", inner)


@pytest.mark.django_db
def test_join_tile_invites_a_worker_who_belongs_nowhere():
    tile = join_tile(signed_in().get(reverse("portal:home")))
    assert tile == f"{reverse('portal:join_find')} |入|入会申请"


@pytest.mark.django_db
def test_join_tile_and_page_tell_a_member_her_union(system, union):
    client, membership = bound_member(system, union)
    assert join_tile(client.get(reverse("portal:home"))) == f"{reverse('portal:join_find')} |入|已是会员|{union.name}|"

    page = client.get(reverse("portal:join_find")).content.decode()
    assert f"您已是“{union.name}”的会员（正式会员），无需再次申请入会。" in page
    assert f'href="{reverse("portal:transfer")}">申请会员接转' in page


@pytest.mark.django_db
def test_pending_applicant_is_told_before_a_second_form(union, tree):
    client = signed_in()
    _apply(client, union)
    application = JoinApplication.objects.get()
    day = timezone.localtime(application.submitted_at).date().isoformat()
    link = reverse("portal:application", args=[application.id])

    assert join_tile(client.get(reverse("portal:home"))) == f"{link} |入|入会审核中|{union.name}|"
    find = client.get(reverse("portal:join_find")).content.decode()
    assert f"您已于 {day} 申请加入“{union.name}”，正在审核中，工会将在 {application.due_on:%Y-%m-%d} 前审核。" in find
    assert f'href="{link}">查看申请进度' in find

    # Another union's form is not offered: the registry takes one pending online application at a time.
    other = tree["SZ-GS-T01-123"]
    page = client.get(reverse("portal:join_union", args=[other.id]))
    text = page.content.decode()
    assert f"您已于 {day} 申请加入“{union.name}”，正在审核中" in text
    assert f'href="{link}">查看申请进度' in text
    assert 'name="consent"' not in text and 'name="doc_number"' not in text
    before = registry_state()
    again = _apply(client, other, name="李新工")
    assert again.status_code == 200 and 'name="consent"' not in again.content.decode()
    assert registry_state() == before

    # The same union's link says the application is already there.
    same = client.get(reverse("portal:join_union", args=[union.id])).content.decode()
    assert f"您已于 {day} 提交了加入本会的申请，正在审核中" in same
    assert 'name="consent"' not in same


@pytest.mark.django_db
def test_after_withdrawing_the_form_is_offered_again(union, tree):
    client = signed_in()
    _apply(client, union)
    application = JoinApplication.objects.get()
    client.post(reverse("portal:application", args=[application.id]))
    other = tree["SZ-GS-T01-123"]
    page = client.get(reverse("portal:join_union", args=[other.id])).content.decode()
    assert 'name="consent"' in page and "正在审核中" not in page
    assert join_tile(client.get(reverse("portal:home"))).endswith("|入|入会申请")


# ---------------------------------------------------------------- 5. the union search's count


@pytest.fixture
def many_unions(tree, system):
    parent = tree["SZ-GS-T01"]
    return [
        org_create(
            actor=system,
            parent=parent,
            name=f"星海电子{n:02d}厂工会委员会",
            code=f"SZ-GS-T01-X{n:02d}",
            org_type=OrgType.GRASSROOTS,
            region_code="320508",
        )
        for n in range(1, 24)
    ]


@pytest.mark.django_db
def test_union_search_says_how_many_matched_when_it_shows_the_first_20(many_unions, union, system):
    client = Client()
    page = client.get(reverse("portal:join_find"), {"q": "星海电子"}).content.decode()
    assert "共找到 23 个工会，显示前 20 个，请输入更完整的名称" in page
    assert len(re.findall(r"<strong>星海电子\d\d厂工会委员会</strong>", page)) == 20

    fragment = client.get(reverse("portal:join_find"), {"q": "星海电子"}, headers={"HX-Request": "true"})
    assert "共找到 23 个工会，显示前 20 个，请输入更完整的名称" in fragment.content.decode()

    narrower = client.get(reverse("portal:join_find"), {"q": "星海电子0"}).content.decode()
    assert len(re.findall(r"<strong>星海电子0\d厂工会委员会</strong>", narrower)) == 9
    assert "共找到" not in narrower

    # The transfer search counts the same way, less the member's own union.
    member, _ = bound_member(system, many_unions[0])
    transfer = member.get(reverse("portal:transfer"), {"q": "星海电子"}).content.decode()
    assert "共找到 22 个工会，显示前 20 个，请输入更完整的名称" in transfer


# ---------------------------------------------------------------- 6. the card and the page head


@pytest.mark.django_db
def test_own_card_shows_the_full_name_and_home_keeps_it_masked(system, union):
    client, membership = bound_member(system, union)
    card = client.get(reverse("portal:card")).content.decode()
    assert '<dd data-testid="card-name">王会员</dd>' in card
    assert MEMBER_ID not in card and PHONE not in card
    home = client.get(reverse("portal:home")).content.decode()
    assert "王**，您好" in home and "王会员" not in home


@pytest.mark.django_db
def test_portal_pages_and_error_pages_name_the_favicon():
    icon = '<link rel="icon" href="/static/common/favicon.svg" type="image/svg+xml">'
    assert icon in Client().get(reverse("portal:home")).content.decode()
    missing = Client().get("/join/no-such-union/")
    assert missing.status_code == 404
    assert icon in missing.content.decode()


# ---------------------------------------------------------------- 7. 消息 on every page and on the home page


@pytest.mark.django_db
def test_messages_entry_shows_the_unread_count(union, actors):
    from gonghui.members.services import join_application_approve

    client = signed_in()
    home = client.get(reverse("portal:home")).content.decode()
    messages = reverse("portal:messages")
    assert f'<a class="bar-link" href="{messages}" data-testid="bar-messages">消息</a>' in home
    assert (
        f'<a class="tile" href="{messages}" data-testid="tile-messages"><span class="icon" aria-hidden="true">信</span>'
        "消息</a>" in home
    )

    _apply(client, union)
    join_application_approve(actor=actors["grassroots_cadre"], application=JoinApplication.objects.get())
    for url in (reverse("portal:home"), reverse("portal:card")):
        page = client.get(url).content.decode()
        assert (
            f'<a class="bar-link" href="{messages}" data-testid="bar-messages" aria-label="消息，1 条未读">消息'
            '<span class="count" aria-hidden="true">1</span></a>' in page
        ), url
    home = client.get(reverse("portal:home")).content.decode()
    assert '消息<small class="tile-unread">1 条未读</small></a>' in home

    client.post(reverse("portal:messages_read_all"))
    home = client.get(reverse("portal:home")).content.decode()
    assert 'class="count"' not in home and "条未读" not in home


@pytest.mark.django_db
def test_a_visitor_sees_no_messages_entry():
    page = Client().get(reverse("portal:home")).content.decode()
    assert reverse("portal:messages") not in page
    assert f'<a class="bar-link" href="{reverse("portal:login")}">登录</a>' in page
