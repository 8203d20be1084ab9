"""The service centre: every call on a case outside the actor's scope is refused."""

from dataclasses import replace
from decimal import Decimal

import pytest

from gonghui.casework.hardship import hardship_file_establish, hardship_file_view_record
from gonghui.casework.models import CaseStatus
from gonghui.casework.selectors import case_get, cases_my_queue, cases_visible_to, own_case_get
from gonghui.casework.services import (
    attachment_view_record,
    callback_record,
    callbacks_draw,
    case_accept,
    case_attach,
    case_close,
    case_reject,
    case_start,
    case_view_record,
    case_withdraw,
    figures_export_record,
    member_case_attach,
    member_case_rate,
    member_case_withdraw,
)
from gonghui.common.errors import NotFound, PermissionDenied
from tests.casework.factories import (
    E12,
    E123,
    MONDAY,
    NOVEMBER,
    PDF,
    T01,
    advance,
    apply,
    enter,
    household,
    last_audit,
    nothing_changes,
)
from tests.members.factories import IP, fresh

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "media")]


# ================================================================ 13. scoping


def _in_stage(case, actors, stage, tree):
    if stage in (CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS):
        return advance(case, actors, stage)
    if stage == "pending_callback":
        case = advance(case, actors, "closed")
        callbacks_draw(actor=actors["grassroots_cadre"], org=tree[E12], start=MONDAY, end=MONDAY, share=Decimal("1"))
        return fresh(case)
    return case


OUTSIDE_CALLS = {
    # action: (the stage in which it would succeed, the call)
    "accept": (CaseStatus.SUBMITTED, lambda actor, case: case_accept(actor=actor, case=case)),
    "reject": (CaseStatus.SUBMITTED, lambda actor, case: case_reject(actor=actor, case=case, reason="不符合条件")),
    "withdraw": (CaseStatus.ACCEPTED, lambda actor, case: case_withdraw(actor=actor, case=case, reason="本人要求")),
    "start": (CaseStatus.ACCEPTED, lambda actor, case: case_start(actor=actor, case=case)),
    "close": (
        CaseStatus.IN_PROGRESS,
        lambda actor, case: case_close(actor=actor, case=case, result="办结", outcome={"granted": False}),
    ),
    "attach": (
        CaseStatus.SUBMITTED,
        lambda actor, case: case_attach(actor=actor, case=case, name="a.pdf", content=PDF),
    ),
    "callback_record": (
        "pending_callback",
        lambda actor, case: callback_record(actor=actor, case=case, result="satisfied"),
    ),
}


class TestScoping:
    @pytest.mark.parametrize("action", list(OUTSIDE_CALLS))
    def test_a_cadre_of_another_district_finds_nothing_and_changes_nothing(self, tree, member, actors, action):
        stage, call = OUTSIDE_CALLS[action]
        case = _in_stage(apply(member, "hardship"), actors, stage, tree)

        with nothing_changes(), pytest.raises(NotFound):
            case_get(actor=actors["other_district_cadre"], case_id=case.id)
        with nothing_changes(), pytest.raises(NotFound):
            call(actors["other_district_cadre"], fresh(case))
        # So is a cadre of the neighbouring union "123", whose code only looks like an extension of "12".
        neighbour = replace(actors["grassroots_cadre"], org_id=tree[E123].id, scope_path=tree[E123].path)
        with nothing_changes(), pytest.raises(NotFound):
            case_get(actor=neighbour, case_id=case.id)
        with nothing_changes(), pytest.raises(NotFound):
            call(neighbour, fresh(case))
        # The union handling it may.
        call(actors["grassroots_cadre"], fresh(case))

    def test_administrators_do_not_handle_cases(self, member, actors):
        case = apply(member, "hardship")
        for username in ("auditor", "district_auditor", "sysadmin", "secadmin"):
            with nothing_changes(), pytest.raises(PermissionDenied):
                case_get(actor=actors[username], case_id=case.id)
            with nothing_changes(), pytest.raises(PermissionDenied):
                cases_visible_to(actors[username])
            with nothing_changes(), pytest.raises(PermissionDenied):
                case_accept(actor=actors[username], case=case)
            with nothing_changes(), pytest.raises(PermissionDenied):
                enter(actors[username], member.membership, "legal")

    def test_a_member_reaches_only_their_own_cases(self, member, other_member, actors):
        theirs = advance(apply(other_member, "hardship"), actors, "closed")
        open_theirs = apply(other_member, "legal")
        assert own_case_get(account=member.account, case_id=apply(member, "legal").id).person_id == member.person.id

        for case_id in (theirs.id, open_theirs.id, str(open_theirs.id), "not-an-id"):
            with pytest.raises(NotFound):
                own_case_get(account=member.account, case_id=case_id)
        with nothing_changes(), pytest.raises(NotFound):
            member_case_withdraw(account=member.account, case_id=open_theirs.id, ip=IP)
        with nothing_changes(), pytest.raises(NotFound):
            member_case_rate(account=member.account, case_id=theirs.id, rating=1, ip=IP)
        with nothing_changes(), pytest.raises(NotFound):
            member_case_attach(account=member.account, case_id=open_theirs.id, name="a.pdf", content=PDF, ip=IP)
        assert fresh(open_theirs).status == CaseStatus.SUBMITTED and fresh(theirs).rating is None

    def test_the_members_own_union_follows_a_county_case_but_cannot_act_on_it(self, member, actors):
        legal = apply(member, "legal")
        grassroots = actors["grassroots_cadre"]

        assert case_get(actor=grassroots, case_id=legal.id) == legal
        assert legal in cases_visible_to(grassroots)
        assert list(cases_my_queue(actor=grassroots)) == []
        for call in (
            lambda: case_accept(actor=grassroots, case=legal),
            lambda: case_reject(actor=grassroots, case=legal, reason="不符合条件"),
            lambda: case_withdraw(actor=grassroots, case=legal, reason="本人要求"),
            lambda: case_attach(actor=grassroots, case=legal, name="a.pdf", content=PDF),
        ):
            with nothing_changes(), pytest.raises(NotFound):
                call()
        assert case_accept(actor=actors["district_cadre"], case=legal).status == CaseStatus.ACCEPTED

    def test_what_each_cadre_sees(self, member, other_member, wz_member, actors):
        at_12 = apply(member, "hardship")
        legal = apply(member, "legal")
        at_123 = apply(other_member, "hardship")
        wuzhong = apply(wz_member, "legal")

        def seen(username):
            return set(cases_visible_to(actors[username]))

        assert seen("grassroots_cadre") == {at_12, legal}
        assert seen("town_cadre") == {at_12, legal, at_123}
        assert seen("district_cadre") == {at_12, legal, at_123}
        assert seen("other_district_cadre") == {wuzhong}
        assert seen("city_cadre") == {at_12, legal, at_123, wuzhong}
        with pytest.raises(NotFound):
            case_get(actor=actors["grassroots_cadre"], case_id=at_123.id)
        with pytest.raises(NotFound):
            case_get(actor=actors["district_cadre"], case_id="00000000-0000-0000-0000-000000000000")

    def test_looking_at_health_and_money_details_and_exporting_figures_is_audited(self, tree, member, actors):
        cadre = actors["grassroots_cadre"]
        case = apply(member, "hardship")
        attachment = member_case_attach(account=member.account, case_id=case.id, name="诊断.pdf", content=PDF)
        file = hardship_file_establish(actor=cadre, membership=member.membership, **household())

        case_view_record(actor=cadre, case=case)
        attachment_view_record(actor=cadre, attachment=attachment)
        hardship_file_view_record(actor=cadre, file=file)
        figures_export_record(actor=actors["town_cadre"], org=tree[T01], **NOVEMBER)

        view = last_audit("case.view")
        assert (view.actor_label, view.object_id, view.details) == (
            "grassroots_cadre",
            str(case.id),
            {"kind": "hardship"},
        )
        assert last_audit("case.attachment_view").details == {"kind": "hardship", "file": "诊断.pdf"}
        assert last_audit("hardship.view").object_id == str(file.id)
        export = last_audit("case.figures_export")
        assert (export.object_id, export.details) == (str(tree[T01].id), {"start": "2025-11-01", "end": "2025-11-30"})
        for username, error in (("other_district_cadre", NotFound), ("auditor", PermissionDenied)):
            with nothing_changes(), pytest.raises(error):
                figures_export_record(actor=actors[username], org=tree[T01], **NOVEMBER)

    def test_a_cadre_enters_applications_only_for_members_in_scope(self, other_member, wz_member, actors):
        for membership in (other_member.membership, wz_member.membership):
            with nothing_changes(), pytest.raises(NotFound):
                enter(actors["grassroots_cadre"], membership, "legal")
        assert enter(actors["town_cadre"], other_member.membership, "legal").source == "cadre"
