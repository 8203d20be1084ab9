"""The callbacks page: drawing cases for a callback."""

from datetime import timedelta

from django.urls import reverse

from gonghui.casework.models import (
    CaseKind,
    ServiceCase,
)
from tests.casework.page_factories import (
    GS,
    ORG_CODE_REFUSED,
    WZ,
    _case,
    _media,
    advance,
    audit_count,
    casework_state,
    enter,
    legal_case,
    legal_data,
    people,
    text,
    today,
)

__all__ = ["_media", "people", "legal_case"]  # fixtures, imported for the tests of this module


def test_drawing_callbacks_puts_cases_on_the_list(legal_case, actors, people, login):
    district = actors["district_cadre"]
    advance(district, legal_case, "closed", outcome="mediated")
    other = advance(
        district, enter(district, people["m123"], CaseKind.LEGAL, legal_data()), "closed", outcome="mediated"
    )
    client = login("district_cadre")
    page = text(client.get(reverse("admin:case_callbacks")))
    assert "没有待回访的申请" in page and 'name="org_code" value="SZ-GS"' in page

    before = casework_state()
    base = {"org_code": GS, "start": today().isoformat(), "end": today().isoformat()}
    for form, message in (
        ({**base, "share": "abc"}, "抽取比例应为 1 到 100 之间的数字"),
        ({**base, "share": "0"}, "抽取比例应在 1% 到 100% 之间"),
        ({**base, "share": "100", "start": "昨天"}, "开始日期格式应为 YYYY-MM-DD"),
        ({**base, "share": "100", "end": (today() - timedelta(days=1)).isoformat()}, "结束日期不能早于开始日期"),
        ({**base, "share": "100", "org_code": WZ}, ORG_CODE_REFUSED),
    ):
        response = client.post(reverse("admin:case_callbacks"), form)
        assert response.status_code == 200 and message in text(response), message
    assert casework_state() == before

    response = client.post(reverse("admin:case_callbacks"), {**base, "share": "100"})
    assert (response.status_code, response["Location"]) == (302, reverse("admin:case_callbacks"))
    assert set(ServiceCase.objects.filter(callback_status="pending").values_list("id", flat=True)) == {
        legal_case.id,
        other.id,
    }
    page = text(client.get(reverse("admin:case_callbacks")))
    assert "已抽取 2 件办结申请进行回访" in page
    assert legal_case.number in page and other.number in page
    assert "待回访" in text(client.get(_case(legal_case.id)))
    assert audit_count("case.callback_draw") == 1

    response = client.post(reverse("admin:case_callbacks"), {**base, "share": "100"}, follow=True)
    assert "该期间没有可抽取的办结申请" in text(response)
    assert audit_count("case.callback_draw") == 1


# ---------------------------------------------------------------- 7. the portal
