"""Back-office pages that serve the member portal: the printable join code (扫码入会), correction requests from
members, and ending a member's portal binding. Scoped like every other page: out of scope answers 404."""

import io
import re
from datetime import date

import pytest
import segno
from django.test import Client
from django.urls import reverse

from gonghui.audit.models import AuditEvent
from gonghui.members.member_accounts import phone_code_send, phone_code_sign_in
from gonghui.members.models import CorrectionRequest, CorrectionStatus, MemberAccount, Person
from gonghui.members.self_service import member_correction_request
from tests.members.factories import enrol, registry_state, resident_id

PHONE = "13912345678"


def _member_account(system, union, name="王会员", seq=7):
    membership = enrol(system, union, name=name, seq=seq, phone=PHONE)
    sent = phone_code_send(phone=PHONE)
    account = phone_code_sign_in(phone=PHONE, code=sent.code)
    from gonghui.members.member_accounts import member_account_bind

    member_account_bind(
        account=account, name=name, doc_type="resident_id", doc_number=resident_id(date(1990, 5, 17), seq)
    )
    return membership, MemberAccount.objects.get(pk=account.pk)


# ---------------------------------------------------------------- join code


@pytest.mark.django_db
def test_join_code_page_shows_the_union_link_and_its_qr(tree, login, settings):
    settings.PORTAL_BASE_URL = "https://gonghui.example.cn"
    union = tree["SZ-GS-T01-12"]
    page = login("grassroots_cadre").get(reverse("admin:org_join_code", args=[union.id])).content.decode()

    expected = f"https://gonghui.example.cn/join/{union.id}/"
    assert f'data-testid="join-url">{expected}</p>' in page
    assert union.name in page
    assert "<svg" in page


@pytest.mark.django_db
def test_join_code_png_decodes_to_the_link(tree, login):
    union = tree["SZ-GS-T01-12"]
    response = login("town_cadre").get(reverse("admin:org_join_code_png", args=[union.id]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="join-SZ-GS-T01-12.png"'
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"
    expected = segno.make(f"http://testserver/join/{union.id}/", error="m")
    buffer = io.BytesIO()
    expected.save(buffer, kind="png", scale=16, border=4)
    assert response.content == buffer.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["other_district_cadre", "district_auditor"])
def test_join_code_of_a_union_out_of_scope_is_a_404(tree, login, username):
    union = tree["SZ-GS-T01-12"] if username == "other_district_cadre" else tree["SZ-WZ-T01-E1"]
    client = login(username)
    assert client.get(reverse("admin:org_join_code", args=[union.id])).status_code == 404
    assert client.get(reverse("admin:org_join_code_png", args=[union.id])).status_code == 404


@pytest.mark.django_db
def test_a_federation_has_no_join_code(tree, login):
    client = login("district_cadre")
    page = client.get(reverse("admin:org_join_code", args=[tree["SZ-GS-T01"].id])).content.decode()
    assert "不是基层工会" in page and "<svg" not in page
    assert client.get(reverse("admin:org_join_code_png", args=[tree["SZ-GS-T01"].id])).status_code == 404


@pytest.mark.django_db
def test_org_page_links_to_the_join_code(tree, login):
    union = tree["SZ-GS-T01-12"]
    response = login("grassroots_cadre").get(reverse("admin:orgs_organisation_join_code", args=[union.id]))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:org_join_code", args=[union.id])


# ---------------------------------------------------------------- correction requests


@pytest.mark.django_db
def test_cadre_applies_a_members_correction(system, tree, login):
    membership, account = _member_account(system, tree["SZ-GS-T01-12"])
    before_post = Person.objects.get(pk=membership.person_id).post
    correction = member_correction_request(account=account, changes={"education": "postgraduate", "post": "班组长"})
    client = login("grassroots_cadre")
    page = client.get(reverse("admin:correction_detail", args=[correction.id])).content.decode()
    assert "研究生" in page and "大学本科" in page and "班组长" in page

    response = client.post(reverse("admin:correction_detail", args=[correction.id]), {"action": "apply", "reason": ""})
    assert response.status_code == 302
    person = Person.objects.get(pk=membership.person_id)
    assert (person.education, person.post) == ("postgraduate", "班组长")
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.APPLIED and correction.decided_by == "grassroots_cadre"
    assert AuditEvent.objects.filter(action="person.correct", object_id=str(person.id)).count() == 1
    assert AuditEvent.objects.filter(action="correction.apply", object_id=str(correction.id)).count() == 1
    # Afterwards the page still says what the record held before: 更正前 → 更正为, not the new value twice.
    assert correction.previous == {"education": "bachelor", "post": before_post}
    after = client.get(reverse("admin:correction_detail", args=[correction.id])).content.decode()
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td><strong>(.*?)</strong></td></tr>", after)
    assert "<th>更正前</th><th>更正为</th>" in after
    assert rows == [("学历", "大学本科", "研究生"), ("岗位/职务", before_post or "—", "班组长")]


@pytest.mark.django_db
def test_cadre_refuses_a_correction_with_a_reason(system, tree, login):
    _, account = _member_account(system, tree["SZ-GS-T01-12"])
    correction = member_correction_request(account=account, changes={"education": "postgraduate"})
    client = login("grassroots_cadre")
    url = reverse("admin:correction_detail", args=[correction.id])
    before = registry_state()
    page = client.post(url, {"action": "reject", "reason": ""}, follow=True).content.decode()
    assert "请填写不予更正的理由" in page
    assert registry_state() == before

    client.post(url, {"action": "reject", "reason": "学历证书未提供"})
    correction.refresh_from_db()
    assert (correction.status, correction.decision_reason) == (CorrectionStatus.REJECTED, "学历证书未提供")


@pytest.mark.django_db
def test_correction_out_of_scope_is_a_404_and_changes_nothing(system, tree, login):
    _, account = _member_account(system, tree["SZ-GS-T01-12"])
    correction = member_correction_request(account=account, changes={"education": "postgraduate"})
    client = login("other_district_cadre")
    url = reverse("admin:correction_detail", args=[correction.id])
    before = registry_state()

    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "apply"}).status_code == 404
    assert registry_state() == before
    listing = client.get(reverse("admin:members_correctionrequest_changelist")).content.decode()
    assert "王会员" not in listing


@pytest.mark.django_db
def test_correction_list_and_workbench_count(system, tree, login):
    _, account = _member_account(system, tree["SZ-GS-T01-12"])
    member_correction_request(account=account, changes={"education": "postgraduate"})
    client = login("town_cadre")
    listing = client.get(reverse("admin:members_correctionrequest_changelist")).content.decode()
    assert "王会员" in listing and "学历" in listing
    workbench = client.get(reverse("admin:index")).content.decode()
    assert "待处理资料更正" in workbench


@pytest.mark.django_db
def test_auditor_sees_no_corrections(system, tree, login):
    _, account = _member_account(system, tree["SZ-GS-T01-12"])
    correction = member_correction_request(account=account, changes={"education": "postgraduate"})
    client = login("auditor")
    assert client.get(reverse("admin:correction_detail", args=[correction.id])).status_code == 403
    assert CorrectionRequest.objects.get().status == CorrectionStatus.PENDING


# ---------------------------------------------------------------- unbinding


@pytest.mark.django_db
def test_cadre_unbinds_a_members_portal_account_and_its_sessions_end(system, tree, login):
    membership, account = _member_account(system, tree["SZ-GS-T01-12"])
    member = Client()
    from gonghui.portal.session import ACCOUNT_KEY, VERSION_KEY

    session = member.session
    session[ACCOUNT_KEY] = str(account.id)
    session[VERSION_KEY] = account.session_version
    session.save()
    assert member.get(reverse("portal:me")).status_code == 200

    client = login("grassroots_cadre")
    detail = client.get(reverse("admin:member_detail", args=[membership.id])).content.decode()
    assert "已绑定手机号 139****5678" in detail
    client.post(reverse("admin:member_detail", args=[membership.id]), {"action": "unbind", "reason": "会员更换手机号"})

    account.refresh_from_db()
    assert account.person_id is None
    assert member.get(reverse("portal:me")).status_code == 302
    event = AuditEvent.objects.get(action="member.unbind")
    assert event.details == {"reason": "会员更换手机号"} and event.actor_label == "grassroots_cadre"


@pytest.mark.django_db
def test_unbind_out_of_scope_changes_nothing(system, tree, login):
    membership, _ = _member_account(system, tree["SZ-GS-T01-12"])
    before = registry_state()
    response = login("other_district_cadre").post(
        reverse("admin:member_detail", args=[membership.id]), {"action": "unbind", "reason": "x"}
    )
    assert response.status_code == 404
    assert registry_state() == before
