"""The case page and its actions: view, accept, reject, start, close (each kind), withdraw, evidence,
callbacks."""

import uuid
from decimal import Decimal

from django.urls import reverse

from gonghui.audit.models import AuditEvent
from gonghui.casework.hardship import add_months
from gonghui.casework.models import (
    AidForm,
    CallbackResult,
    CallbackStatus,
    CaseAttachment,
    CaseKind,
    CaseStatus,
    HardshipAid,
    HardshipFile,
    HardshipFileStatus,
    InsuranceClaim,
    InsurancePayout,
    LegalAidRecord,
    LegalOutcome,
    StudentGrant,
)
from gonghui.casework.services import (
    callbacks_draw,
    case_accept,
    case_attach,
)
from tests.casework.page_factories import (
    E12,
    E123,
    EXE,
    EXPECTED_PAYOUT,
    FORMAT_REFUSED,
    GS,
    PDF,
    PNG,
    TEXT,
    _case,
    _media,
    advance,
    audit_count,
    body,
    casework_state,
    enrolment,
    enter,
    fresh,
    hardship_data,
    insurance_data,
    legal_case,
    media_files,
    people,
    plan,
    student_data,
    text,
    today,
    upload,
)

__all__ = ["_media", "people", "legal_case", "enrolment", "plan"]  # fixtures, imported for the tests of this module


# ---------------------------------------------------------------- 2. the case page and its actions


ACTIONS = ("accept", "reject", "start", "close", "withdraw", "attach", "callback")


def buttons(page: str) -> set[str]:
    return {action for action in ACTIONS if f'name="action" value="{action}"' in page}


def test_viewing_a_case_shows_it_and_writes_one_view_event(legal_case, login):
    client = login("district_cadre")
    response = client.get(_case(legal_case.id))

    assert response.status_code == 200
    page = text(response)
    assert legal_case.number in page
    assert "张三" in page and "劳动报酬" in page and "某某制造有限公司" in page and "十二号公司工会委员会" in page
    assert buttons(page) == {"accept", "reject", "withdraw", "attach"}
    assert audit_count("case.view") == 1
    event = AuditEvent.objects.get(action="case.view")
    assert (event.actor_label, event.object_type, event.object_id, event.details) == (
        "district_cadre",
        "service_case",
        str(legal_case.id),
        {"kind": "legal"},
    )
    assert event.object_label == f"{legal_case.number} 张*"


def test_accepting_a_case(legal_case, login):
    client = login("district_cadre")
    response = client.post(_case(legal_case.id), {"action": "accept", "note": "材料齐全"})

    assert (response.status_code, response["Location"]) == (302, _case(legal_case.id))
    case = fresh(legal_case)
    assert (case.status, case.handled_by) == (CaseStatus.ACCEPTED, "district_cadre")
    assert case.accepted_at is not None
    assert list(case.events.values_list("action", "label", "by", "note")) == [
        ("submit", "已提交申请", "grassroots_cadre", "法律援助，按规则转由姑苏区总工会承办"),
        ("accept", "已受理", "district_cadre", "材料齐全"),
    ]
    assert audit_count("case.accept", case.id) == 1
    page = text(client.get(response["Location"]))
    assert buttons(page) == {"start", "withdraw", "attach"}
    assert 'name="station"' in page and 'name="lawyer"' in page


def test_rejecting_needs_a_reason_and_then_tells_it(legal_case, login):
    client = login("district_cadre")
    before = casework_state()
    for reason in ("", "   "):
        response = client.post(_case(legal_case.id), {"action": "reject", "reason": reason})
        assert response.status_code == 200
        assert "请填写不予受理的理由" in text(response)
        assert casework_state() == before

    response = client.post(_case(legal_case.id), {"action": "reject", "reason": "不属于劳动争议"})
    assert response.status_code == 302
    case = fresh(legal_case)
    assert (case.status, case.rejection_reason, case.handled_by) == (
        CaseStatus.REJECTED,
        "不属于劳动争议",
        "district_cadre",
    )
    assert case.closed_at is not None
    assert audit_count("case.reject", case.id) == 1
    page = text(client.get(_case(case.id)))
    assert "不予受理理由" in page and "不属于劳动争议" in page
    assert buttons(page) == set()


def test_starting_legal_aid_needs_a_lawyer_or_a_station(legal_case, actors, login):
    case_accept(actor=actors["district_cadre"], case=legal_case)
    client = login("district_cadre")
    before = casework_state()
    response = client.post(_case(legal_case.id), {"action": "start", "lawyer": " ", "station": ""})
    assert response.status_code == 200
    assert "请指派承办律师或法律援助站" in text(response)
    assert casework_state() == before

    response = client.post(
        _case(legal_case.id), {"action": "start", "station": "姑苏区职工法律援助站", "lawyer": "王律师"}
    )
    assert response.status_code == 302
    case = fresh(legal_case)
    assert case.status == CaseStatus.IN_PROGRESS and case.started_at is not None
    assert LegalAidRecord.objects.filter(case=case).values_list("station", "lawyer").get() == (
        "姑苏区职工法律援助站",
        "王律师",
    )
    assert case.events.get(action="start").note == "指派：姑苏区职工法律援助站，王律师"
    page = text(client.get(_case(case.id)))
    assert buttons(page) == {"close", "attach"}
    assert "承办：姑苏区职工法律援助站 王律师" in page


def test_closing_hardship_with_aid_opens_the_file_and_records_the_aid(tree, actors, people, login):
    grassroots = actors["grassroots_cadre"]
    case = advance(grassroots, enter(grassroots, people["m12"], CaseKind.HARDSHIP, hardship_data()), "in_progress")
    assert case.org.code == E12
    client = login("grassroots_cadre")
    form = {
        "action": "close",
        "result": "经入户核查，给予生活救助",
        "granted": "on",
        "tier": "relative",
        "aid_form": "money",
        "amount": "1500",
        "aid_description": "生活救助金",
    }
    before = casework_state()
    refused = client.post(_case(case.id), {**form, "tier": ""})
    assert refused.status_code == 200 and "请选择困难类别" in text(refused)
    assert casework_state() == before

    response = client.post(_case(case.id), form)
    assert response.status_code == 302
    case = fresh(case)
    assert (case.status, case.amount_granted, case.result) == (CaseStatus.CLOSED, Decimal("1500.00"), form["result"])
    file = HardshipFile.objects.get(person=people["m12"].person)
    assert (
        file.org_id,
        file.status,
        file.tier,
        file.causes,
        file.household_size,
        file.household_income,
        file.income_per_head,
        file.case_id,
        file.established_on,
        file.next_verification_on,
        file.returned,
    ) == (
        tree[E12].id,
        HardshipFileStatus.ACTIVE,
        "relative",
        ["illness"],
        3,
        Decimal("36000.00"),
        Decimal("1000.00"),
        case.id,
        today(),
        add_months(today(), 12),
        False,
    )
    aid = HardshipAid.objects.get()
    assert (aid.file_id, aid.case_id, aid.form, aid.amount, aid.description, aid.granted_on, aid.granted_by) == (
        file.id,
        case.id,
        AidForm.MONEY,
        Decimal("1500.00"),
        "生活救助金",
        today(),
        "grassroots_cadre",
    )
    assert aid.in_transition is False
    assert (audit_count("case.close"), audit_count("hardship.establish"), audit_count("hardship.aid")) == (1, 1, 1)
    page = text(client.get(_case(case.id)))
    assert "资金 1500.00 元 · 生活救助金" in page
    assert reverse("admin:hardship_file_detail", args=[file.id]) in page
    assert "（发放 1500.00 元）" in page


def test_closing_hardship_without_aid_opens_no_file(actors, people, login):
    grassroots = actors["grassroots_cadre"]
    case = advance(grassroots, enter(grassroots, people["m12"], CaseKind.HARDSHIP, hardship_data()), "in_progress")
    response = login("grassroots_cadre").post(_case(case.id), {"action": "close", "result": "经核查家庭收入超过标准"})

    assert response.status_code == 302
    case = fresh(case)
    assert (case.status, case.amount_granted) == (CaseStatus.CLOSED, None)
    assert HardshipFile.objects.count() == HardshipAid.objects.count() == 0


def test_closing_legal_aid_records_how_it_ended(legal_case, actors, login):
    case = advance(actors["district_cadre"], legal_case, "in_progress")
    client = login("district_cadre")
    before = casework_state()
    for form, message in (
        ({"result": "", "outcome": "mediated"}, "请填写办理结果"),
        ({"result": "调解结案", "outcome": ""}, "请选择结案方式"),
        ({"result": "调解结案", "outcome": "mediated", "amount_recovered": "-5"}, "挽回经济损失不能为负数"),
    ):
        response = client.post(_case(case.id), {"action": "close", **form})
        assert response.status_code == 200 and message in text(response), message
        assert casework_state() == before

    response = client.post(
        _case(case.id),
        {"action": "close", "result": "经调解公司支付欠薪", "outcome": "mediated", "amount_recovered": "18000"},
    )
    assert response.status_code == 302
    case = fresh(case)
    assert (case.status, case.amount_granted) == (CaseStatus.CLOSED, None)
    record = LegalAidRecord.objects.get(case=case)
    assert (record.outcome, record.amount_recovered) == (LegalOutcome.MEDIATED, Decimal("18000.00"))
    assert "结案：调解成功 · 挽回 18000.00 元" in text(client.get(_case(case.id)))


def test_closing_an_insurance_claim_computes_the_payout_by_the_plans_rules(enrolment, actors, people, login):
    district = actors["district_cadre"]
    case = enter(actors["grassroots_cadre"], people["m12"], CaseKind.INSURANCE, insurance_data(enrolment))
    assert case.org.code == GS
    case = advance(district, case, "in_progress")
    client = login("district_cadre")
    before = casework_state()
    response = client.post(_case(case.id), {"action": "close", "result": "核定补助", "payable": "on", "reference": ""})
    assert response.status_code == 200 and "请填写支付凭证号" in text(response)
    assert casework_state() == before
    assert InsuranceClaim.objects.get(case=case).payout is None

    response = client.post(
        _case(case.id), {"action": "close", "result": "按计划规则核定补助", "payable": "on", "reference": "ZF-2026-001"}
    )
    assert response.status_code == 302
    case = fresh(case)
    assert (case.status, case.amount_granted) == (CaseStatus.CLOSED, EXPECTED_PAYOUT)
    claim = InsuranceClaim.objects.get(case=case)
    assert (claim.hospital_days, claim.payout) == (5, EXPECTED_PAYOUT)
    paid = InsurancePayout.objects.get()
    assert (paid.claim_id, paid.amount, paid.reference, paid.paid_on, paid.paid_by) == (
        case.id,
        EXPECTED_PAYOUT,
        "ZF-2026-001",
        today(),
        "district_cadre",
    )
    page = text(client.get(_case(case.id)))
    assert "住院 5 天 · 核定补助 2750.00 元 · 已支付（凭证 ZF-2026-001）" in page


def test_closing_student_aid_grants_once_and_never_shows_the_students_number(actors, people, login):
    grassroots = actors["grassroots_cadre"]
    data = student_data(12)
    case = advance(grassroots, enter(grassroots, people["m12"], CaseKind.STUDENT, data), "in_progress")
    client = login("grassroots_cadre")
    before = casework_state()
    response = client.post(_case(case.id), {"action": "close", "result": "给予资助", "granted": "on", "amount": "0"})
    assert response.status_code == 200 and "资助金额应大于零" in text(response)
    assert casework_state() == before

    response = client.post(
        _case(case.id), {"action": "close", "result": "给予金秋助学金", "granted": "on", "amount": "3000"}
    )
    assert response.status_code == 302
    case = fresh(case)
    assert (case.status, case.amount_granted) == (CaseStatus.CLOSED, Decimal("3000.00"))
    grant = StudentGrant.objects.get()
    assert (
        grant.case_id,
        grant.student_name,
        grant.school,
        grant.grade,
        grant.year,
        grant.amount,
        grant.granted_on,
    ) == (
        case.id,
        "张小花",
        "苏州大学",
        "本科一年级",
        today().year,
        Decimal("3000.00"),
        today(),
    )
    assert grant.student_masked == case.details["student_masked"] != data["student_doc_number"]
    page = text(client.get(_case(case.id)))
    assert f"{today().year} 年 3000.00 元" in page
    assert grant.student_masked in page
    assert data["student_doc_number"] not in page


def test_recording_a_withdrawal_needs_what_the_applicant_said(legal_case, actors, login):
    client = login("district_cadre")
    before = casework_state()
    response = client.post(_case(legal_case.id), {"action": "withdraw", "reason": ""})
    assert response.status_code == 200 and "请填写撤回说明" in text(response)
    assert casework_state() == before

    response = client.post(_case(legal_case.id), {"action": "withdraw", "reason": "申请人电话告知已与公司和解"})
    assert response.status_code == 302
    case = fresh(legal_case)
    assert case.status == CaseStatus.WITHDRAWN and case.closed_at is not None
    assert case.events.get(action="withdraw").note == "申请人电话告知已与公司和解"
    assert audit_count("case.withdraw", case.id) == 1
    assert buttons(text(client.get(_case(case.id)))) == set()


def test_a_case_in_progress_can_no_longer_be_withdrawn(legal_case, actors, login):
    advance(actors["district_cadre"], legal_case, "in_progress")
    client = login("district_cadre")
    before = casework_state()
    response = client.post(_case(legal_case.id), {"action": "withdraw", "reason": "申请人要求撤回"})
    assert response.status_code == 200
    assert "该申请当前为“办理中”，不能进行此操作" in text(response)
    assert casework_state() == before


def test_attaching_evidence_accepts_scans_and_refuses_anything_else(legal_case, login):
    client = login("district_cadre")
    url = _case(legal_case.id)
    before = casework_state()
    for name, content in (("setup.exe", EXE), ("说明.txt", TEXT), ("伪装.pdf", EXE), ("空.pdf", b"")):
        response = client.post(url, {"action": "attach", "file": upload(name, content)})
        assert response.status_code == 200, name
        assert (FORMAT_REFUSED if content else "文件是空的，请重新选择") in text(response), name
        assert casework_state() == before, name
    response = client.post(url, {"action": "attach"})
    assert response.status_code == 200 and "请选择要上传的文件" in text(response)
    assert casework_state() == before
    assert media_files() == []

    response = client.post(url, {"action": "attach", "file": upload("劳动合同.pdf", PDF, "application/pdf")})
    assert response.status_code == 302
    response = client.post(url, {"action": "attach", "file": upload("工资条照片", PNG, "image/png")})
    assert response.status_code == 302
    first, second = CaseAttachment.objects.order_by("uploaded_at", "id")
    assert (first.name, first.content_type, first.size, first.uploaded_by) == (
        "劳动合同.pdf",
        "application/pdf",
        len(PDF),
        "district_cadre",
    )
    assert (second.name, second.content_type) == ("工资条照片.png", "image/png")
    assert first.file.read() == PDF
    assert media_files() == sorted([first.file.name, second.file.name])
    assert list(legal_case.events.filter(action="attach").values_list("note", flat=True)) == [
        "劳动合同.pdf",
        "工资条照片.png",
    ]
    assert audit_count("case.attach", legal_case.id) == 2
    page = text(client.get(url))
    assert reverse("admin:case_attachment", args=[first.id]) in page and "工资条照片.png" in page


def test_downloading_evidence_returns_the_file_and_is_audited(legal_case, actors, login):
    attachment = case_attach(actor=actors["district_cadre"], case=legal_case, name="劳动合同.pdf", content=PDF)
    for username in ("district_cadre", "grassroots_cadre"):  # the handling union, and the applicant's own
        response = login(username).get(reverse("admin:case_attachment", args=[attachment.id]))
        assert response.status_code == 200, username
        assert body(response) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == (
            "attachment; filename*=utf-8''%E5%8A%B3%E5%8A%A8%E5%90%88%E5%90%8C.pdf"
        )
    events = AuditEvent.objects.filter(action="case.attachment_view").order_by("at", "id")
    assert [(e.actor_label, e.object_id, e.details) for e in events] == [
        (username, str(legal_case.id), {"kind": "legal", "file": "劳动合同.pdf"})
        for username in ("district_cadre", "grassroots_cadre")
    ]


def test_the_members_own_union_follows_county_legal_aid_but_cannot_act(legal_case, actors, login):
    case_attach(actor=actors["district_cadre"], case=legal_case, name="劳动合同.pdf", content=PDF)
    client = login("grassroots_cadre")
    response = client.get(_case(legal_case.id))
    assert response.status_code == 200
    page = text(response)
    assert legal_case.number in page and "劳动合同.pdf" in page
    assert buttons(page) == set()
    assert 'type="file"' not in page
    assert audit_count("case.view", legal_case.id) == 1

    missing = _case(uuid.uuid4())
    forms = [
        {"action": "accept"},
        {"action": "reject", "reason": "不符合条件"},
        {"action": "withdraw", "reason": "申请人撤回"},
        {"action": "start", "station": "援助站"},
        {"action": "close", "result": "办结", "outcome": "mediated"},
        {"action": "callback", "callback_result": "satisfied"},
    ]
    before = casework_state()
    for form in forms:
        refused = client.post(_case(legal_case.id), form)
        absent = client.post(missing, form)
        assert refused.status_code == absent.status_code == 404, form
        assert refused.content == absent.content, form
        assert casework_state() == before, form
    refused = client.post(_case(legal_case.id), {"action": "attach", "file": upload("a.pdf", PDF)})
    absent = client.post(missing, {"action": "attach", "file": upload("a.pdf", PDF)})
    assert refused.status_code == absent.status_code == 404
    assert refused.content == absent.content
    assert casework_state() == before
    assert fresh(legal_case).status == CaseStatus.SUBMITTED


def test_a_case_of_union_123_is_missing_for_the_cadre_of_union_12(actors, people, login):
    """The path-prefix trap: "12" and "123" differ only by a suffix."""
    case = enter(actors["town_cadre"], people["m123"], CaseKind.HARDSHIP, hardship_data())
    assert case.org.code == E123
    client = login("grassroots_cadre")
    before = casework_state()
    hidden, absent = client.get(_case(case.id)), client.get(_case(uuid.uuid4()))
    assert hidden.status_code == absent.status_code == 404
    assert hidden.content == absent.content
    assert casework_state() == before


def test_a_drawn_case_takes_its_callback_result(legal_case, tree, actors, login):
    district = actors["district_cadre"]
    case = advance(district, legal_case, "closed", outcome="mediated")
    client = login("district_cadre")
    assert "callback" not in buttons(text(client.get(_case(case.id))))
    callbacks_draw(actor=district, org=tree[GS], start=today(), end=today(), share=Decimal("1"))
    page = text(client.get(_case(case.id)))
    assert "callback" in buttons(page) and "待回访" in page

    before = casework_state()
    response = client.post(_case(case.id), {"action": "callback", "callback_result": "", "note": "电话回访"})
    assert response.status_code == 200 and "请选择回访结果" in text(response)
    assert casework_state() == before

    response = client.post(_case(case.id), {"action": "callback", "callback_result": "satisfied", "note": "对结果满意"})
    assert response.status_code == 302
    case = fresh(case)
    assert (case.callback_status, case.callback_result, case.callback_note, case.callback_by) == (
        CallbackStatus.DONE,
        CallbackResult.SATISFIED,
        "对结果满意",
        "district_cadre",
    )
    assert case.events.get(action="callback").note == "满意 对结果满意"
    page = text(client.get(_case(case.id)))
    assert "已回访 · 满意 对结果满意" in page
    assert "callback" not in buttons(page)
