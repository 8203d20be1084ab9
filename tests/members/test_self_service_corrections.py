"""What a member does for themself in the portal: ask for a correction that a cadre then applies or rejects; the
member's own selectors and the employer search."""

import pytest

from gonghui.common.errors import CaseMovedOn, DomainError, NotFound, ValidationFailed
from gonghui.members.models import CorrectionStatus
from gonghui.members.selectors import (
    correction_get,
    corrections_pending,
    own_application_get,
    own_applications,
    own_corrections,
    own_memberships,
    own_person,
    own_transfer_get,
    own_transfers,
    unions_for_employer_search,
)
from gonghui.members.self_service import member_correction_request, member_transfer_request
from gonghui.members.services import correction_request_apply, correction_request_reject, join_application_approve
from tests.members.factories import IP, fresh, sign_in
from tests.members.self_service_factories import (
    E12,
    E123,
    NEW_PHONE,
    OTHER_PHONE,
    PHONE,
    WZE1,
    events,
    join,
    portal_state,
)

# ---------------------------------------------------------------- 5. corrections


class TestCorrection:
    @pytest.mark.parametrize(
        ("changes", "errors"),
        [
            ({"education": "phd"}, {"education": "学历的取值不正确"}),
            ({"ethnicity": "火星族", "post": "技术员"}, {"ethnicity": "民族的取值不正确"}),
            ({"skill_level": "grade9"}, {"skill_level": "技能等级的取值不正确"}),
            ({"name": "张3"}, {"name": "姓名中不能有数字"}),
        ],
    )
    def test_correction_is_validated_with_the_registrys_rules(self, member, changes, errors):
        before = portal_state()

        with pytest.raises(ValidationFailed) as exc:
            member_correction_request(account=member.account, changes=changes, ip=IP)

        assert exc.value.errors == errors
        assert portal_state() == before

    @pytest.mark.parametrize(
        "changes",
        [
            {"education": "bachelor", "work_unit": "十二号有限公司"},
            {"education": "ｂａｃｈｅｌｏｒ"},  # full width, normalised to the same value
            {"doc_number": "320508199005171234", "phone": "13000000000"},  # not correctable here
            {},
        ],
    )
    def test_a_correction_without_change_is_refused(self, member, changes):
        before = portal_state()

        with pytest.raises(ValidationFailed) as exc:
            member_correction_request(account=member.account, changes=changes, ip=IP)

        assert exc.value.errors == {"changes": "填写的内容与现有资料相同，没有需要更正的内容"}
        assert portal_state() == before

    def test_a_valid_correction_is_recorded_for_the_members_union(self, tree, member):
        correction = member_correction_request(
            account=member.account,
            changes={
                "education": "postgraduate",
                "post": "技术员",
                "work_unit": "十二号有限公司",
                "phone": "13000000000",
            },
            note="已取得硕士学位",
            ip=IP,
        )

        correction = fresh(correction)
        assert correction.changes == {"education": "postgraduate", "post": "技术员"}
        assert (correction.person_id, correction.org_id) == (member.person.id, tree[E12].id)
        assert (correction.status, correction.note) == (CorrectionStatus.PENDING, "已取得硕士学位")
        assert fresh(member.person).education == "bachelor"  # nothing applied yet
        event = events("correction.submit").get()
        assert (event.actor_kind, event.object_id, event.object_org_path) == (
            "member",
            str(correction.id),
            tree[E12].path,
        )
        assert event.details == {"fields": ["education", "post"]}

    def test_only_one_pending_correction_at_a_time(self, member):
        member_correction_request(account=member.account, changes={"post": "技术员"}, ip=IP)
        before = portal_state()

        with pytest.raises(DomainError) as exc:
            member_correction_request(account=member.account, changes={"education": "postgraduate"}, ip=IP)

        assert exc.value.code == "duplicate_correction"
        assert portal_state() == before

    def test_unbound_or_non_member_accounts_cannot_ask_for_a_correction(self, tree):
        unbound = sign_in(NEW_PHONE)
        with pytest.raises(DomainError) as not_bound:
            member_correction_request(account=unbound, changes={"post": "技术员"}, ip=IP)
        join(unbound, tree[E12], name="赵六", seq=201)
        before = portal_state()

        with pytest.raises(DomainError) as not_member:
            member_correction_request(account=fresh(unbound), changes={"post": "技术员"}, ip=IP)

        assert (not_bound.value.code, not_member.value.code) == ("not_bound", "not_member")
        assert portal_state() == before

    @pytest.mark.parametrize("username", ["grassroots_cadre", "town_cadre", "city_cadre"])
    def test_cadre_in_scope_applies_the_correction_and_closes_it(self, member, actors, username):
        correction = member_correction_request(
            account=member.account, changes={"education": "postgraduate", "post": "技术员"}, ip=IP
        )
        actor = actors[username]
        assert list(corrections_pending(actor=actor)) == [correction]
        found = correction_get(actor=actor, correction_id=str(correction.id))

        person = correction_request_apply(actor=actor, correction=found, comment="已核实学位证")

        person = fresh(person)
        assert (person.education, person.post) == ("postgraduate", "技术员")
        correction = fresh(correction)
        assert correction.status == CorrectionStatus.APPLIED
        assert (correction.decided_by, correction.decision_reason) == (username, "已核实学位证")
        assert correction.decided_at is not None
        assert list(corrections_pending(actor=actor)) == []
        corrected = events("person.correct").get()
        assert corrected.details == {"changes": {"education": ["bachelor", "postgraduate"], "post": ["", "技术员"]}}
        applied = events("correction.apply").get()
        assert (applied.actor_label, applied.details) == (
            username,
            {"fields": ["education", "post"], "reason": "已核实学位证"},
        )
        # Closed: the member may ask again, and the same request cannot be applied twice.
        before = portal_state()
        with pytest.raises(CaseMovedOn):
            correction_request_apply(actor=actor, correction=correction)
        assert portal_state() == before
        member_correction_request(account=member.account, changes={"post": "工程师"}, ip=IP)

    def test_rejecting_a_correction_needs_a_reason(self, member, actors):
        correction = member_correction_request(account=member.account, changes={"post": "技术员"}, ip=IP)
        before = portal_state()

        with pytest.raises(ValidationFailed) as exc:
            correction_request_reject(actor=actors["grassroots_cadre"], correction=correction, reason="  ")

        assert exc.value.errors == {"reason": "请填写不予更正的理由"}
        assert portal_state() == before

        correction_request_reject(actor=actors["grassroots_cadre"], correction=correction, reason="无证明材料")

        correction = fresh(correction)
        assert (correction.status, correction.decision_reason) == (CorrectionStatus.REJECTED, "无证明材料")
        assert fresh(member.person).post == ""
        assert events("correction.reject").get().details == {"fields": ["post"], "reason": "无证明材料"}

    @pytest.mark.parametrize("username", ["other_district_cadre", "grassroots_cadre"])
    def test_out_of_scope_cadre_cannot_see_or_decide_the_correction(self, member, other_member, actors, username):
        # other_district_cadre is in another district; grassroots_cadre of "12" must not reach union "123".
        target = member if username == "other_district_cadre" else other_member
        correction = member_correction_request(account=target.account, changes={"post": "技术员"}, ip=IP)
        actor = actors[username]
        before = portal_state()

        with pytest.raises(NotFound):
            correction_get(actor=actor, correction_id=str(correction.id))
        with pytest.raises(NotFound):
            correction_request_apply(actor=actor, correction=correction)
        with pytest.raises(NotFound):
            correction_request_reject(actor=actor, correction=correction, reason="不予更正")

        assert correction not in corrections_pending(actor=actor)
        assert portal_state() == before
        assert fresh(correction).status == CorrectionStatus.PENDING
        assert fresh(target.person).post == ""


# ---------------------------------------------------------------- 6. the member's own selectors


class TestOwnSelectors:
    @pytest.fixture
    def two_workers(self, tree, actors):
        """Two workers who joined online, were approved, and each asked for a correction and a transfer."""
        made = {}
        for key, phone, org, cadre, name, seq, target in (
            ("a", PHONE, E12, "grassroots_cadre", "张三", 101, E123),
            ("b", OTHER_PHONE, E123, "town_cadre", "李四", 102, E12),
        ):
            account = sign_in(phone)
            application = join(account, tree[org], name=name, seq=seq)
            membership = join_application_approve(actor=actors[cadre], application=application)
            account = fresh(account)
            correction = member_correction_request(account=account, changes={"post": "技术员"}, ip=IP)
            transfer = member_transfer_request(account=account, to_org=tree[target], reason="工作调动", ip=IP)
            made[key] = {
                "account": account,
                "person": account.person,
                "application": fresh(application),
                "membership": fresh(membership),
                "correction": correction,
                "transfer": fresh(transfer),
            }
        return made

    def test_own_selectors_return_only_the_members_own_records(self, two_workers):
        for me, them in (("a", "b"), ("b", "a")):
            mine, theirs = two_workers[me], two_workers[them]
            account = mine["account"]

            assert own_person(account=account) == mine["person"]
            assert own_memberships(account=account) == [mine["membership"]]
            assert own_applications(account=account) == [mine["application"]]
            assert own_transfers(account=account) == [mine["transfer"]]
            assert own_corrections(account=account) == [mine["correction"]]
            assert (
                own_application_get(account=account, application_id=str(mine["application"].id)) == mine["application"]
            )
            assert own_transfer_get(account=account, transfer_id=str(mine["transfer"].id)) == mine["transfer"]
            with pytest.raises(NotFound):
                own_application_get(account=account, application_id=str(theirs["application"].id))
            with pytest.raises(NotFound):
                own_transfer_get(account=account, transfer_id=str(theirs["transfer"].id))

    def test_own_selectors_of_an_unbound_account_are_empty(self, two_workers):
        account = sign_in(NEW_PHONE)

        assert own_person(account=account) is None
        assert own_memberships(account=account) == []
        assert own_applications(account=account) == []
        assert own_transfers(account=account) == []
        assert own_corrections(account=account) == []
        for worker in two_workers.values():
            with pytest.raises(NotFound):
                own_application_get(account=account, application_id=str(worker["application"].id))
            with pytest.raises(NotFound):
                own_transfer_get(account=account, transfer_id=str(worker["transfer"].id))


# ---------------------------------------------------------------- 7. finding a union by employer


class TestEmployerSearch:
    def test_unions_for_employer_search_finds_the_covering_union(self, tree, employer_set):
        assert unions_for_employer_search(query="十二号") == [tree[E12]]
        assert unions_for_employer_search(query="  十二号有限公司 ") == [tree[E12]]
        assert unions_for_employer_search(query="木渎光电") == [tree[WZE1]]
        assert set(unions_for_employer_search(query="有限公司")) == {tree[E12], tree[WZE1]}
        assert unions_for_employer_search(query="有限公司", limit=1)[0] in {tree[E12], tree[WZE1]}
        assert len(unions_for_employer_search(query="有限公司", limit=1)) == 1

    def test_an_uncovered_employer_or_a_short_query_finds_nothing(self, tree, employer_set):
        assert unions_for_employer_search(query="双塔物流") == []  # no union covers it
        assert unions_for_employer_search(query="十") == []
        assert unions_for_employer_search(query="") == []
        assert unions_for_employer_search(query="不存在的公司") == []
