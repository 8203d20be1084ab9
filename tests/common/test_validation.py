"""Bad input is refused with the exact Chinese message on the right field, and nothing is written: through the
services, through the back-office add form, and as structured JSON on the API."""

import uuid
from datetime import date

import pytest

from gonghui.audit.models import AuditEvent
from gonghui.common.errors import ValidationFailed
from gonghui.orgs.models import Employer, Organisation
from gonghui.orgs.services import employer_create, org_create, org_update
from tests.conftest import valid_uscc

GOOD_USCC = valid_uscc("91320508MA1W0007G")
BAD_CHECK_USCC = GOOD_USCC[:-1] + ("0" if GOOD_USCC[-1] != "0" else "1")

CODE_FORMAT = "组织代码只能由 2-32 位大写字母、数字、“-”和“_”组成，且以字母或数字开头"
USCC_LENGTH_16 = "统一社会信用代码应为18位，实际为16位"
USCC_CHECK = "统一社会信用代码校验位不正确，请核对后重新输入"
USCC_CHARS = "统一社会信用代码含有不允许的字符（不使用 I、O、Z、S、V）"
REGION_FORMAT = "行政区划代码应为6位数字（GB/T 2260）"
PHONE_NOT_CN = "联系电话不是有效的中国大陆号码，应为11位手机号或带区号的固定电话"
PHONE_FORMAT = "联系电话格式不正确，应为11位手机号或带区号的固定电话"


def town_fields(**overrides):
    return {"name": "平江街道总工会", "code": "SZ-GS-T03", "org_type": "town", "region_code": "320508", **overrides}


@pytest.fixture
def unchanged(tree):
    """Counts before a refused call; `unchanged.check()` afterwards asserts nothing was written."""

    class Unchanged:
        def __init__(self):
            self.orgs = Organisation.objects.count()
            self.audit = AuditEvent.objects.count()
            self.employers = Employer.objects.count()
            self.rows = list(Organisation.objects.order_by("path").values())

        def check(self):
            assert Organisation.objects.count() == self.orgs
            assert AuditEvent.objects.count() == self.audit
            assert Employer.objects.count() == self.employers
            assert list(Organisation.objects.order_by("path").values()) == self.rows

    return Unchanged


def uscc_with(char: str, position: int) -> str:
    """GOOD_USCC with one character replaced (no valid check character can be computed for I, O, Z, S, V)."""
    return GOOD_USCC[:position] + char + GOOD_USCC[position + 1 :]


# ---------------------------------------------------------------- organisation fields through org_create


ORG_FIELD_CASES = [
    # (overrides, field, message)
    ({"uscc": "91320508MA1W0001"}, "uscc", USCC_LENGTH_16),
    ({"uscc": GOOD_USCC + "1"}, "uscc", "统一社会信用代码应为18位，实际为19位"),
    ({"uscc": BAD_CHECK_USCC}, "uscc", USCC_CHECK),
    ({"uscc": uscc_with("I", 10)}, "uscc", USCC_CHARS),
    ({"uscc": uscc_with("O", 11)}, "uscc", USCC_CHARS),
    ({"uscc": uscc_with("Z", 12)}, "uscc", USCC_CHARS),
    ({"uscc": uscc_with("S", 13)}, "uscc", USCC_CHARS),
    ({"uscc": uscc_with("V", 14)}, "uscc", USCC_CHARS),
    ({"uscc": uscc_with("A", 3)}, "uscc", USCC_CHARS),
    ({"uscc": "   "}, "uscc", "统一社会信用代码不能为空"),
    ({"code": "SZ GS T03"}, "code", CODE_FORMAT),
    ({"code": "苏州三号"}, "code", CODE_FORMAT),
    ({"code": "A"}, "code", CODE_FORMAT),
    ({"code": "-SZ-GS-T03"}, "code", CODE_FORMAT),
    ({"code": "SZ.GS.T03"}, "code", CODE_FORMAT),
    ({"code": "X" * 33}, "code", CODE_FORMAT),
    ({"code": "   "}, "code", "组织代码不能为空"),
    ({"code": "sz-gs-t01"}, "code", "组织代码 SZ-GS-T01 已被使用"),
    ({"region_code": "320599"}, "region_code", "行政区划代码 320599 不存在或已撤销"),
    ({"region_code": "320502"}, "region_code", "行政区划代码 320502 不存在或已撤销"),
    ({"region_code": "999999"}, "region_code", "行政区划代码 999999 不存在或已撤销"),
    ({"region_code": "32050"}, "region_code", REGION_FORMAT),
    ({"region_code": "3205080"}, "region_code", REGION_FORMAT),
    ({"region_code": "3205O8"}, "region_code", REGION_FORMAT),
    ({"org_type": "village"}, "org_type", "请选择有效的组织类型"),
    ({"contact_phone": "12345"}, "contact_phone", PHONE_NOT_CN),
    ({"contact_phone": "10086"}, "contact_phone", PHONE_NOT_CN),
    ({"contact_phone": "+1 650 253 0000"}, "contact_phone", PHONE_NOT_CN),
    ({"contact_phone": "电话号码"}, "contact_phone", PHONE_FORMAT),
    ({"contact_phone": "abc"}, "contact_phone", PHONE_FORMAT),
    ({"name": "工" * 101}, "name", "组织名称不能超过100个字"),
    ({"founded_on": "2020-01-01"}, "founded_on", "成立日期格式应为 YYYY-MM-DD"),
    (
        {"founded_on": date(2020, 1, 1), "term_ends_on": date(2020, 1, 1)},
        "term_ends_on",
        "任期届满日期应晚于成立日期",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    ORG_FIELD_CASES,
    ids=[f"{field}-{i}" for i, (_o, field, _m) in enumerate(ORG_FIELD_CASES)],
)
def test_org_create_field_errors(tree, actors, unchanged, overrides, field, message):
    before = unchanged()
    with pytest.raises(ValidationFailed) as exc:
        org_create(actor=actors["district_cadre"], parent=tree["SZ-GS"], **town_fields(**overrides))
    assert exc.value.errors == {field: message}
    assert exc.value.message == message
    assert exc.value.code == "validation_failed"
    before.check()


def test_every_field_problem_is_reported_at_once(tree, actors, unchanged):
    before = unchanged()
    with pytest.raises(ValidationFailed) as exc:
        org_create(
            actor=actors["district_cadre"],
            parent=tree["SZ-GS"],
            **town_fields(code="苏州", region_code="320502", uscc=BAD_CHECK_USCC, contact_phone="12345"),
        )
    assert exc.value.errors == {
        "code": CODE_FORMAT,
        "region_code": "行政区划代码 320502 不存在或已撤销",
        "uscc": USCC_CHECK,
        "contact_phone": PHONE_NOT_CN,
    }
    before.check()


def test_missing_required_fields(tree, actors, unchanged):
    before = unchanged()
    with pytest.raises(ValidationFailed) as exc:
        org_create(actor=actors["district_cadre"], parent=tree["SZ-GS"], name="", code="SZ-GS-T03", org_type="town")
    assert exc.value.errors == {"name": "此项为必填项", "region_code": "此项为必填项"}
    before.check()


def test_duplicate_uscc_on_another_org(tree, actors, unchanged):
    org_update(actor=actors["town_cadre"], org=tree["SZ-GS-T01-12"], uscc=GOOD_USCC)
    before = unchanged()
    with pytest.raises(ValidationFailed) as exc:
        org_create(actor=actors["district_cadre"], parent=tree["SZ-GS"], **town_fields(uscc=GOOD_USCC.lower()))
    assert exc.value.errors == {"uscc": "该统一社会信用代码已登记在其他工会组织"}
    before.check()


def test_lowercase_and_full_width_input_is_normalised(tree, actors):
    org = org_create(
        actor=actors["district_cadre"],
        parent=tree["SZ-GS"],
        **town_fields(
            code=" ｓｚ－ｇｓ－ｔ０３ ",
            region_code="３２０５０８",
            uscc=" " + GOOD_USCC.lower()[:9] + " " + GOOD_USCC.lower()[9:],
            contact_phone="１３８ １２３４ １２３４",
        ),
    )
    org.refresh_from_db()
    assert (org.code, org.region_code, org.uscc, org.contact_phone) == (
        "SZ-GS-T03",
        "320508",
        GOOD_USCC,
        "13812341234",
    )


@pytest.mark.parametrize("code", ["sz-gs-t03", "Sz_Gs_T03", "ab"])
def test_lowercase_codes_are_accepted_in_upper_case(tree, actors, code):
    org = org_create(actor=actors["district_cadre"], parent=tree["SZ-GS"], **town_fields(code=code))
    assert Organisation.objects.get(id=org.id).code == code.upper()


def test_missing_parent(tree, system, unchanged):
    before = unchanged()
    with pytest.raises(ValidationFailed) as exc:
        org_create(
            actor=system, parent=None, name="吴江区总工会", code="SZ-WJ", org_type="county", region_code="320509"
        )
    assert exc.value.errors == {"parent": "只有市总工会可以作为根组织，请选择上级组织"}
    before.check()


def test_grassroots_under_grassroots(tree, actors, unchanged):
    before = unchanged()
    for username in ("town_cadre", "city_cadre"):
        with pytest.raises(ValidationFailed) as exc:
            org_create(
                actor=actors[username],
                parent=tree["SZ-GS-T01-12"],
                **town_fields(code="SZ-GS-T01-12-A", org_type="grassroots", name="分工会"),
            )
        assert exc.value.errors == {"parent": "基层工会之下不能再设工会组织"}
    before.check()


def test_city_type_under_a_parent(tree, actors, system, unchanged):
    before = unchanged()
    for actor in (actors["city_cadre"], system):
        with pytest.raises(ValidationFailed) as exc:
            org_create(actor=actor, parent=tree["SZ"], **town_fields(code="WX", org_type="city", name="无锡市总工会"))
        assert exc.value.errors == {"org_type": "市总工会只能是根组织"}
    before.check()


@pytest.mark.parametrize(
    ("parent", "org_type", "message"),
    [
        ("SZ-GS-T01", "town", "镇(街道)总工会不能设在镇(街道)总工会“双塔街道总工会”之下（下级组织的层级必须低于上级）"),
        (
            "SZ-GS-T01",
            "county",
            "县级(市、区)总工会不能设在镇(街道)总工会“双塔街道总工会”之下（下级组织的层级必须低于上级）",
        ),
        (
            "SZ-GS-T01-C1",
            "park",
            "开发区/园区总工会不能设在村(社区)工会“竹辉社区工会”之下（下级组织的层级必须低于上级）",
        ),
        (
            "SZ-GS-T01-C1",
            "regional",
            "区域工会联合会不能设在村(社区)工会“竹辉社区工会”之下（下级组织的层级必须低于上级）",
        ),
    ],
)
def test_levels_must_descend(tree, actors, unchanged, parent, org_type, message):
    before = unchanged()
    with pytest.raises(ValidationFailed) as exc:
        org_create(actor=actors["city_cadre"], parent=tree[parent], **town_fields(org_type=org_type))
    assert exc.value.errors == {"parent": message}
    before.check()


def test_org_update_with_bad_fields_changes_nothing(tree, actors, unchanged):
    before = unchanged()
    with pytest.raises(ValidationFailed) as exc:
        org_update(
            actor=actors["grassroots_cadre"],
            org=tree["SZ-GS-T01-12"],
            name="新名称",
            uscc=BAD_CHECK_USCC,
            contact_phone="12345",
        )
    assert exc.value.errors == {"uscc": USCC_CHECK, "contact_phone": PHONE_NOT_CN}
    before.check()


# ---------------------------------------------------------------- employer uscc


@pytest.mark.parametrize(
    ("uscc", "message"),
    [
        ("91320508MA1W0001", USCC_LENGTH_16),
        (BAD_CHECK_USCC, USCC_CHECK),
        (uscc_with("O", 9), USCC_CHARS),
        ("", "此项为必填项"),
    ],
)
def test_employer_uscc_errors(tree, actors, unchanged, uscc, message):
    before = unchanged()
    with pytest.raises(ValidationFailed) as exc:
        employer_create(
            actor=actors["town_cadre"],
            name="双塔软件有限公司",
            uscc=uscc,
            employee_count=30,
            industry="I",
            town_org=tree["SZ-GS-T01"],
        )
    assert exc.value.errors == {"uscc": message}
    before.check()


# ---------------------------------------------------------------- back-office add form


def add_form_data(**overrides):
    return {
        "parent_code": "SZ-GS",
        "name": "平江街道总工会",
        "code": "SZ-GS-T03",
        "org_type": "town",
        "region_code": "320508",
        "uscc": "",
        "founded_on": "",
        "term_ends_on": "",
        "address": "",
        "contact_person": "",
        "contact_phone": "",
        **overrides,
    }


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"uscc": BAD_CHECK_USCC}, "uscc", USCC_CHECK),
        ({"uscc": "91320508MA1W0001"}, "uscc", USCC_LENGTH_16),
        ({"uscc": uscc_with("Z", 15)}, "uscc", USCC_CHARS),
        ({"code": "苏州三号"}, "code", CODE_FORMAT),
        ({"region_code": "320502"}, "region_code", "行政区划代码 320502 不存在或已撤销"),
        ({"contact_phone": "12345"}, "contact_phone", PHONE_NOT_CN),
        (
            {"parent_code": "SZ-GS-T01-12"},
            "parent_code",
            "镇(街道)总工会不能设在独立基层工会“十二号公司工会委员会”之下（下级组织的层级必须低于上级）",
        ),
        ({"parent_code": "NOPE"}, "parent_code", "找不到代码为 NOPE 的组织，或不在您的管辖范围内"),
    ],
)
def test_admin_add_form_shows_the_service_message(tree, login, unchanged, overrides, field, message):
    before = unchanged()
    response = login("city_cadre").post("/admin/orgs/organisation/add/", add_form_data(**overrides))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {field: [message]}
    assert message in response.content.decode()
    before.check()


def test_admin_add_form_parent_outside_scope_looks_missing(tree, login, unchanged):
    before = unchanged()
    client = login("town_cadre")
    outside = client.post("/admin/orgs/organisation/add/", add_form_data(parent_code="SZ-WZ", org_type="community"))
    missing = client.post("/admin/orgs/organisation/add/", add_form_data(parent_code="SZ-XX", org_type="community"))
    assert outside.context["adminform"].form.errors == {
        "parent_code": ["找不到代码为 SZ-WZ 的组织，或不在您的管辖范围内"]
    }
    assert missing.context["adminform"].form.errors == {
        "parent_code": ["找不到代码为 SZ-XX 的组织，或不在您的管辖范围内"]
    }
    before.check()


def test_admin_add_form_creates_with_normalised_values(tree, login):
    audit_before = AuditEvent.objects.count()
    response = login("city_cadre").post(
        "/admin/orgs/organisation/add/",
        add_form_data(parent_code="sz-gs", code="sz-gs-t03", uscc=GOOD_USCC.lower(), contact_phone="0512-6524 1234"),
    )
    assert response.status_code == 302
    org = Organisation.objects.get(code="SZ-GS-T03")
    assert (org.path, org.uscc, org.contact_phone) == ("000100010003", GOOD_USCC, "051265241234")
    assert Organisation.objects.count() == 12
    assert AuditEvent.objects.count() == audit_before + 1
    assert AuditEvent.objects.filter(action="org.create", object_id=str(org.id)).count() == 1


def test_admin_change_form_accepts_lowercase_code(tree, login):
    org = tree["SZ-GS-T01-12"]
    data = {
        "name": org.name,
        "code": "sz-gs-t01-12b",
        "org_type": org.org_type,
        "region_code": org.region_code,
        "uscc": "",
        "founded_on": "",
        "term_ends_on": "",
        "address": "",
        "contact_person": "",
        "contact_phone": "",
    }
    response = login("grassroots_cadre").post(f"/admin/orgs/organisation/{org.id}/change/", data)
    assert response.status_code == 302
    assert Organisation.objects.get(id=org.id).code == "SZ-GS-T01-12B"


# ---------------------------------------------------------------- API error bodies


def test_api_404_body(tree, login):
    response = login("town_cadre").get(f"/api/v1/orgs/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {"code": "not_found", "message": "对象不存在或无权访问"}


@pytest.mark.parametrize(
    ("url", "params", "errors"),
    [
        ("/api/v1/orgs/not-a-uuid", {}, {"org_id": "参数缺失或格式不正确"}),
        ("/api/v1/orgs/not-a-uuid/children", {}, {"org_id": "参数缺失或格式不正确"}),
        ("/api/v1/orgs/search", {}, {"q": "参数缺失或格式不正确"}),
        ("/api/v1/orgs/search", {"q": "SZ", "limit": "many"}, {"limit": "参数缺失或格式不正确"}),
    ],
)
def test_api_422_body(tree, login, url, params, errors):
    response = login("town_cadre").get(url, params)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {"code": "invalid_request", "message": "请求参数不正确", "errors": errors}
