"""The workbench section of the service centre: counts, one-click actions, the overdue filter, escalations."""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import reverse

from gonghui.casework.models import (
    CaseKind,
    CaseStatus,
    ServiceCase,
)
from gonghui.casework.services import (
    case_accept,
    case_withdraw,
    cases_escalate_overdue,
)
from gonghui.common.actor import system_actor
from tests.casework.page_factories import (
    _case,
    _media,
    advance,
    casework_state,
    enter,
    fresh,
    hardship_data,
    legal_data,
    people,
    student_data,
    text,
    today,
)

__all__ = ["_media", "people"]  # fixtures, imported for the tests of this module


# ---------------------------------------------------------------- 3. the workbench


@dataclass
class Desk:
    l1: ServiceCase  # 法律援助 of 张三 at SZ-GS, 待受理
    l2: ServiceCase  # 法律援助 of 李四 at SZ-GS, 已受理
    l3: ServiceCase  # 法律援助 of 赵六 at SZ-GS, 待受理, overdue and escalated to SZ
    h1: ServiceCase  # 困难帮扶 of 张三 at union 12, 待受理, overdue and escalated to SZ-GS-T01
    h2: ServiceCase  # 困难帮扶 of 李四 at union 123, 待受理, in time
    s1: ServiceCase  # 金秋助学 of 李四 at union 123, withdrawn (past its old deadline: not counted)
    w1: ServiceCase  # 法律援助 of 王五 at SZ-WZ, 待受理, overdue and escalated to SZ


@pytest.fixture
def desk(actors, people) -> Desk:
    district, town, wz = actors["district_cadre"], actors["town_cadre"], actors["other_district_cadre"]
    m12, m123, mt2, mwz = people["m12"], people["m123"], people["mt2"], people["mwz"]
    desk = Desk(
        l1=enter(town, m12, CaseKind.LEGAL, legal_data()),
        l2=advance(district, enter(town, m123, CaseKind.LEGAL, legal_data()), CaseStatus.ACCEPTED),
        l3=enter(district, mt2, CaseKind.LEGAL, legal_data()),
        h1=enter(town, m12, CaseKind.HARDSHIP, hardship_data()),
        h2=enter(town, m123, CaseKind.HARDSHIP, hardship_data()),
        s1=case_withdraw(actor=town, case=enter(town, m123, CaseKind.STUDENT, student_data()), reason="不再需要"),
        w1=enter(wz, mwz, CaseKind.LEGAL, legal_data()),
    )
    late = [desk.l3.id, desk.h1.id, desk.s1.id, desk.w1.id]
    ServiceCase.objects.filter(id__in=late).update(due_on=today() - timedelta(days=3))
    assert cases_escalate_overdue(actor=system_actor("tests")) == 3
    return desk


STAT_LABELS = ("职工服务待办（本级承办）", "超期服务申请", "上报本级督办")

# (my queue, overdue in my subtree, escalated to my union) and the cases behind each.
WORKBENCH = {
    "district_cadre": ({"l1", "l2", "l3"}, {"l3", "h1"}, set()),
    "town_cadre": (set(), {"h1"}, {"h1"}),
    "city_cadre": (set(), {"l3", "h1", "w1"}, {"l3", "w1"}),
    "grassroots_cadre": ({"h1"}, {"h1"}, set()),
    "other_district_cadre": ({"w1"}, {"w1"}, set()),
}


def stat(page: str, label: str) -> int:
    found = re.search(rf'<div class="gh-stat-label">{label}</div><div class="gh-stat-value">(\d+)</div>', page)
    assert found, label
    return int(found.group(1))


@pytest.mark.parametrize("username", sorted(WORKBENCH))
def test_the_workbench_counts_my_queue_overdue_and_escalated_cases(desk, login, username):
    response = login(username).get(reverse("admin:index"))
    assert response.status_code == 200
    page = text(response)
    queue, overdue, escalated = WORKBENCH[username]
    assert [stat(page, label) for label in STAT_LABELS] == [len(queue), len(overdue), len(escalated)]
    services = response.context["services"]
    number = {name: getattr(desk, name).number for name in Desk.__dataclass_fields__}
    assert {c.number for c in services["queue"]} == {number[n] for n in queue}
    assert {c.number for c in services["overdue"]} == {number[n] for n in overdue}
    assert {c.number for c in services["escalated"]} == {number[n] for n in escalated}
    shown = queue | overdue | escalated
    for name, value in number.items():
        assert (value in page) == (name in shown), (username, name)


def one_click(page: str, case: ServiceCase, action: str) -> bool:
    form = (
        f'<form method="post" action="{_case(case.id)}" class="gh-inline">'
        r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]+">'
        f'<input type="hidden" name="action" value="{action}">'
        f'<input type="hidden" name="next" value="{reverse("admin:index")}">'
    )
    return re.search(form, page) is not None


def test_one_click_accept_from_the_workbench_comes_back_to_it(desk, login):
    client = login("district_cadre")
    page = text(client.get(reverse("admin:index")))
    assert one_click(page, desk.l1, "accept") and one_click(page, desk.l3, "accept")
    assert not one_click(page, desk.l2, "start")  # legal aid is started on its page, where a lawyer is assigned
    assert f'<a class="gh-link" href="{_case(desk.l2.id)}">处理</a>' in page

    response = client.post(_case(desk.l1.id), {"action": "accept", "next": reverse("admin:index")})
    assert (response.status_code, response["Location"]) == (302, reverse("admin:index"))
    assert fresh(desk.l1).status == CaseStatus.ACCEPTED
    page = text(client.get(response["Location"]))
    assert "已受理" in page
    assert stat(page, STAT_LABELS[0]) == 3  # still open, now waiting for 开始办理
    assert not one_click(page, desk.l1, "accept")


def test_one_click_start_is_offered_for_an_accepted_hardship_case(desk, actors, login):
    case_accept(actor=actors["grassroots_cadre"], case=desk.h1)
    client = login("grassroots_cadre")
    assert one_click(text(client.get(reverse("admin:index"))), desk.h1, "start")
    response = client.post(_case(desk.h1.id), {"action": "start", "next": reverse("admin:index")})
    assert (response.status_code, response["Location"]) == (302, reverse("admin:index"))
    assert fresh(desk.h1).status == CaseStatus.IN_PROGRESS


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/admin/", "http://evil.example", "javascript:alert(1)"]
)
def test_an_unsafe_next_is_ignored(desk, login, target):
    client = login("district_cadre")
    response = client.post(_case(desk.l1.id), {"action": "accept", "next": target})
    assert (response.status_code, response["Location"]) == (302, _case(desk.l1.id))
    assert fresh(desk.l1).status == CaseStatus.ACCEPTED


OVERDUE_FILTER = {
    ("district_cadre", "yes"): {"l3", "h1"},
    ("district_cadre", "escalated"): {"l3", "h1"},
    ("town_cadre", "yes"): {"h1"},
    ("city_cadre", "escalated"): {"l3", "h1", "w1"},
    ("other_district_cadre", "ever"): {"w1"},
    ("grassroots_cadre", "ever"): {"h1"},
}


@pytest.mark.parametrize(("username", "value"), sorted(OVERDUE_FILTER))
def test_the_overdue_filter_of_the_case_list(desk, login, username, value):
    """The workbench links to the list filtered by 办理时限; the filter stays inside the scope."""
    response = login(username).get("/admin/casework/servicecase/", {"overdue": value})
    assert response.status_code == 200
    shown = {case.pk for case in response.context["cl"].result_list}
    assert shown == {getattr(desk, name).pk for name in OVERDUE_FILTER[(username, value)]}


def test_acting_on_an_escalated_case_clears_its_escalation(desk, login):
    client = login("town_cadre")
    assert one_click(text(client.get(reverse("admin:index"))), desk.h1, "accept")
    page = text(client.get(_case(desk.h1.id)))
    assert "已超期上报双塔街道总工会" in page and '<strong class="gh-error">已超期</strong>' in page

    response = client.post(_case(desk.h1.id), {"action": "accept", "next": reverse("admin:index")})
    assert (response.status_code, response["Location"]) == (302, reverse("admin:index"))
    case = fresh(desk.h1)
    assert (case.status, case.was_overdue, case.escalated_at, case.escalated_to_id) == ("accepted", True, None, None)
    assert case.due_on > today()
    page = text(client.get(response["Location"]))
    assert [stat(page, label) for label in STAT_LABELS] == [0, 0, 0]


def test_a_refused_one_click_stays_on_the_case_and_changes_nothing(desk, login):
    client = login("district_cadre")
    before = casework_state()
    response = client.post(_case(desk.l2.id), {"action": "accept", "next": reverse("admin:index")})
    assert response.status_code == 200
    assert "该申请当前为“已受理”，不能进行此操作" in text(response)
    assert casework_state() == before


# ---------------------------------------------------------------- 4. entering an application on a member's behalf
