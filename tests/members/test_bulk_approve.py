"""批量通过 on the join-application list: a confirmation page, then one call of the approve service per item. An item
out of the cadre's subtree, already decided or unknown is left untouched and reported with its reason; each approved
item has its own audit event."""

from datetime import date

import pytest

from gonghui.audit.models import AuditEvent
from gonghui.members.models import JoinApplication, Membership
from gonghui.members.services import join_application_reject, join_application_submit
from tests.members.factories import COMPLETE_PROFILE, resident_id

LIST = "/admin/members/joinapplication/"


def submit(actor, org, name, seq):
    return join_application_submit(
        actor=actor,
        org=org,
        doc_type="resident_id",
        doc_number=resident_id(date(1991, 6, 1), seq),
        name=name,
        **COMPLETE_PROFILE,
    )


@pytest.fixture
def batch(tree, actors):
    town, far = actors["town_cadre"], actors["other_district_cadre"]
    decided = submit(town, tree["SZ-GS-T01-12"], "周已办", 35)
    join_application_reject(actor=town, application=decided, reason="材料不全")
    return {
        "first": submit(town, tree["SZ-GS-T01-12"], "吴一", 31),
        "second": submit(town, tree["SZ-GS-T01-123"], "郑二", 33),
        "decided": decided,
        "outside": submit(far, tree["SZ-WZ-T01-E1"], "冯外", 37),
    }


def selection(batch, **extra):
    ids = [str(batch[key].id) for key in ("first", "decided", "outside", "second")]
    return {"action": "approve_selected", "index": "0", "select_across": "0", "_selected_action": ids, **extra}


def approvals():
    return list(AuditEvent.objects.filter(action="join_application.approve").values_list("object_id", flat=True))


def test_the_list_offers_the_batch_action_to_a_cadre_who_decides(batch, login):
    page = login("town_cadre").get(LIST)
    assert 'value="approve_selected"' in page.text
    assert "批量通过所选入会申请" in page.text


def test_confirmation_page_lists_the_selection_and_changes_nothing(batch, login):
    response = login("town_cadre").post(LIST, selection(batch))
    assert response.status_code == 200
    text = response.text
    assert "共选择 4 件，其中待审核 2 件" in text
    assert "吴一" in text and "郑二" in text and "周已办" in text
    assert "冯外" not in text  # out of scope: not even the name
    assert text.count("申请不存在，或不在您的管辖范围内") == 1
    assert 'name="post" value="yes"' in text
    assert JoinApplication.objects.filter(status="pending").count() == 3
    assert approvals() == []


def test_batch_approves_the_pending_in_scope_and_reports_the_rest(batch, login):
    response = login("town_cadre").post(LIST, selection(batch, post="yes", comment="材料齐全"))
    assert response.status_code == 200
    text = response.text
    assert "已通过 2 件" in text and "未通过 2 件" in text
    assert "该申请当前为“未通过”，不能再处理" in text
    assert "申请不存在，或不在您的管辖范围内" in text
    assert "冯外" not in text

    statuses = {key: JoinApplication.objects.get(id=app.id).status for key, app in batch.items()}
    assert statuses == {"first": "approved", "second": "approved", "decided": "rejected", "outside": "pending"}
    assert sorted(approvals()) == sorted([str(batch["first"].id), str(batch["second"].id)])
    assert JoinApplication.objects.get(id=batch["first"].id).decision_reason == "材料齐全"
    held = Membership.objects.filter(person__name__in=["吴一", "郑二", "周已办", "冯外"])
    assert sorted(held.values_list("person__name", "org__code")) == [
        ("吴一", "SZ-GS-T01-12"),
        ("郑二", "SZ-GS-T01-123"),
    ]
    for membership in held:
        assert membership.card_number in text


def test_an_unparsable_id_is_reported_not_a_server_error(batch, login):
    data = {
        "action": "approve_selected",
        "index": "0",
        "post": "yes",
        "_selected_action": ["a/b", str(batch["first"].id)],
    }
    response = login("town_cadre").post(LIST, data)
    assert response.status_code == 200
    assert "已通过 1 件" in response.text and "未通过 1 件" in response.text


def test_a_role_that_may_not_decide_is_refused_and_nothing_changes(batch, login, accounts):
    from gonghui.common.roles import Role

    viewer = accounts["auditor"]  # sees no applications and may not decide
    response = login("auditor").post(LIST, selection(batch, post="yes"))
    assert response.status_code in (403, 404, 302)
    assert viewer.role == Role.AUDIT_ADMIN
    assert JoinApplication.objects.filter(status="pending").count() == 3
    assert approvals() == []
