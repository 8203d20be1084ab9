"""The service centre: evidence attachments of a case and the callbacks after a case closes."""

import hashlib
import math
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage

from gonghui.casework.models import CaseAttachment, CaseEvent, ServiceCase
from gonghui.casework.services import (
    CaseMovedOn,
    callback_record,
    callbacks_draw,
    case_attach,
    case_reject,
    member_case_attach,
    member_case_withdraw,
)
from gonghui.common.errors import NotFound, PermissionDenied, ValidationFailed
from tests.casework.factories import E12, GS, NOVEMBER, PDF, T01, advance, apply, enter, last_audit, nothing_changes
from tests.members.factories import IP, enrol, fresh

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "media")]


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32


# ================================================================ 10. attachments


EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


class TestAttachments:
    def test_the_member_attaches_pdf_jpg_and_png_evidence_to_their_open_case(self, media, member):
        case = apply(member, "hardship")
        for name, content, content_type, listed_as in [
            ("诊断证明.pdf", PDF, "application/pdf", "诊断证明.pdf"),
            ("C:\\Users\\me\\住院发票.JPG", JPEG, "image/jpeg", "住院发票.jpg"),
            ("照片.pdf", PNG + b"\x01", "image/png", "照片.png"),  # the content decides the extension
            ("证明.exe", PDF + b"\x01", "application/pdf", "证明.pdf"),
            ("../../etc/passwd", PDF + b"\x02", "application/pdf", "passwd.pdf"),
            ("scan", PNG, "image/png", "scan.png"),
            ("", JPEG + b"\x01", "image/jpeg", "证明材料.jpg"),
        ]:
            attachment = member_case_attach(account=member.account, case_id=case.id, name=name, content=content, ip=IP)

            attachment = fresh(attachment)
            assert (attachment.name, attachment.content_type, attachment.size) == (
                listed_as,
                content_type,
                len(content),
            )
            assert attachment.sha256 == hashlib.sha256(content).hexdigest()
            assert attachment.uploaded_by == "会员136****0001"
            assert attachment.file.name.startswith("casework/")
            assert attachment.file.name.endswith(attachment.id.hex + EXTENSIONS[content_type])
            assert (media / attachment.file.name).read_bytes() == content
            with default_storage.open(attachment.file.name) as stored:
                assert stored.read() == content
            assert last_audit("case.attach").details == {"kind": "hardship", "file": listed_as, "size": len(content)}
        notes = CaseEvent.objects.filter(case=case, action="attach").values_list("note", flat=True)
        assert list(notes) == [
            "诊断证明.pdf",
            "住院发票.jpg",
            "照片.png",
            "证明.pdf",
            "passwd.pdf",
            "scan.png",
            "证明材料.jpg",
        ]
        assert len([p for p in media.rglob("*") if p.is_file()]) == 7

    def test_anything_but_a_small_pdf_jpg_or_png_is_refused(self, media, member, actors):
        case = apply(member, "hardship")
        for content, message in [
            (b"MZ\x90\x00\x03\x00\x00\x00", "只能上传 PDF、JPG 或 PNG 格式的证明材料"),
            (b"just some text, named like a pdf", "只能上传 PDF、JPG 或 PNG 格式的证明材料"),
            (b"<html><script>alert(1)</script>", "只能上传 PDF、JPG 或 PNG 格式的证明材料"),
            (b"PK\x03\x04 a zip or docx", "只能上传 PDF、JPG 或 PNG 格式的证明材料"),
            (b"", "文件是空的，请重新选择"),
            (b"%PDF-" + b"0" * (10 * 1024 * 1024 - 4), "文件不能超过 10 MB"),
        ]:
            with nothing_changes(), pytest.raises(ValidationFailed) as refused:
                member_case_attach(account=member.account, case_id=case.id, name="证明.pdf", content=content)
            assert refused.value.errors == {"file": message}
            with nothing_changes(), pytest.raises(ValidationFailed):
                case_attach(actor=actors["grassroots_cadre"], case=case, name="证明.pdf", content=content)

    def test_exactly_ten_mebibytes_is_accepted(self, media, member):
        case = apply(member, "hardship")
        content = b"%PDF-" + b"0" * (10 * 1024 * 1024 - 5)
        attachment = member_case_attach(account=member.account, case_id=case.id, name="a.pdf", content=content)
        assert attachment.size == 10 * 1024 * 1024

    def test_an_eleventh_attachment_is_refused(self, media, member, actors):
        case = apply(member, "hardship")
        for number in range(10):
            member_case_attach(
                account=member.account, case_id=case.id, name=f"第{number}页.pdf", content=PDF + bytes([number])
            )
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            case_attach(actor=actors["grassroots_cadre"], case=case, name="第11页.pdf", content=PDF)
        assert refused.value.errors == {"file": "每件申请最多上传 10 份材料"}
        assert CaseAttachment.objects.filter(case=case).count() == 10
        assert len([p for p in media.rglob("*") if p.is_file()]) == 10

    def test_the_member_attaches_only_to_their_own_open_case(self, media, member, other_member, actors):
        theirs = apply(other_member, "hardship")
        with nothing_changes(), pytest.raises(NotFound):
            member_case_attach(account=member.account, case_id=theirs.id, name="a.pdf", content=PDF)

        case = advance(apply(member, "hardship"), actors, "closed")
        with nothing_changes(), pytest.raises(CaseMovedOn):
            member_case_attach(account=member.account, case_id=case.id, name="a.pdf", content=PDF)
        # The handling union may still file evidence on a closed case...
        assert case_attach(actor=actors["grassroots_cadre"], case=case, name="回执.pdf", content=PDF).case_id == case.id
        # ... but not on a withdrawn or rejected one.
        withdrawn = apply(member, "legal")
        member_case_withdraw(account=member.account, case_id=withdrawn.id)
        rejected = apply(member, "student")
        case_reject(actor=actors["grassroots_cadre"], case=rejected, reason="不符合条件")
        for finished, cadre in ((withdrawn, "district_cadre"), (rejected, "grassroots_cadre")):
            with nothing_changes(), pytest.raises(CaseMovedOn):
                case_attach(actor=actors[cadre], case=finished, name="a.pdf", content=PDF)
            with nothing_changes(), pytest.raises(CaseMovedOn):
                member_case_attach(account=member.account, case_id=finished.id, name="a.pdf", content=PDF)

    @pytest.mark.parametrize("end", ["closed", "withdrawn"])
    def test_the_refusal_to_attach_to_a_finished_case_reads_well(self, media, member, actors, end):
        case = apply(member, "hardship")
        if end == "closed":
            case = advance(case, actors, "closed")
        else:
            member_case_withdraw(account=member.account, case_id=case.id)
        with nothing_changes(), pytest.raises(CaseMovedOn) as refused:
            member_case_attach(account=member.account, case_id=case.id, name="a.pdf", content=PDF)
        expected = {"closed": "该申请已办结，不能再上传材料", "withdrawn": "该申请已撤回，不能再上传材料"}
        assert refused.value.message == expected[end]


# ================================================================ 11. callbacks


@pytest.fixture
def closed_cases(tree, actors, member, wz_member, clock):
    """Cases closed in November 2025: three at union "12" and one at 姑苏区 (legal); around them, one closed in
    October, one open, one rejected, and one closed in 吴中区."""
    cadre = actors["grassroots_cadre"]
    people = [enrol(cadre, tree[E12], name=name, seq=seq) for name, seq in (("甲", 321), ("乙", 322), ("丙", 323))]
    clock.set(date(2025, 10, 20))
    october = advance(enter(cadre, people[0], "student"), actors, "closed")
    clock.set(date(2025, 11, 3))
    at_12 = [advance(enter(cadre, person, "hardship"), actors, "closed") for person in people]
    at_gs = advance(apply(member, "legal"), actors, "closed")
    open_case = enter(cadre, people[0], "legal")
    rejected = enter(cadre, people[1], "legal")
    case_reject(actor=actors["district_cadre"], case=rejected, reason="不属于劳动争议")
    wuzhong = advance(apply(wz_member, "legal"), actors, "closed")
    return {"at_12": at_12, "at_gs": at_gs, "october": october, "open": open_case, "rejected": rejected, "wz": wuzhong}


class TestCallbacks:
    def test_a_share_of_the_cases_closed_in_the_period_is_drawn_never_twice(self, tree, actors, closed_cases):
        pool = {c.id for c in closed_cases["at_12"]} | {closed_cases["at_gs"].id}

        drawn = callbacks_draw(actor=actors["district_cadre"], org=tree[GS], share=Decimal("0.3"), **NOVEMBER)

        assert len(drawn) == math.ceil(4 * Decimal("0.3")) == 2
        assert {c.id for c in drawn} <= pool
        pending = ServiceCase.objects.filter(callback_status="pending")
        assert set(pending.values_list("id", flat=True)) == {c.id for c in drawn}
        assert all(fresh(c).callback_drawn_at is not None for c in drawn)
        audit = last_audit("case.callback_draw")
        assert audit.details == {"pool": 4, "drawn": 2, "start": "2025-11-01", "end": "2025-11-30"}

        rest = callbacks_draw(actor=actors["district_cadre"], org=tree[GS], share=Decimal("1"), **NOVEMBER)
        assert {c.id for c in rest} == pool - {c.id for c in drawn}
        assert callbacks_draw(actor=actors["district_cadre"], org=tree[GS], share=Decimal("1"), **NOVEMBER) == []
        never = [closed_cases[key].id for key in ("october", "open", "rejected", "wz")]
        assert not ServiceCase.objects.filter(id__in=never).exclude(callback_status="").exists()

    def test_at_least_one_is_drawn_and_only_from_the_subtree_handled(self, tree, actors, closed_cases):
        drawn = callbacks_draw(actor=actors["town_cadre"], org=tree[T01], share=Decimal("0.01"), **NOVEMBER)
        assert len(drawn) == 1
        assert drawn[0].id in {c.id for c in closed_cases["at_12"]}
        everything = callbacks_draw(actor=actors["town_cadre"], org=tree[T01], share=Decimal("1"), **NOVEMBER)
        assert len(everything) == 2  # the legal case handled at 姑苏区 is outside the town's subtree
        assert last_audit("case.callback_draw").details["pool"] == 2

    def test_callbacks_draw_refuses(self, tree, actors, closed_cases):
        for username, org, share, start, error, detail in [
            ("district_cadre", GS, Decimal("0"), date(2025, 11, 1), ValidationFailed, "share"),
            ("district_cadre", GS, Decimal("1.01"), date(2025, 11, 1), ValidationFailed, "share"),
            ("district_cadre", GS, Decimal("0.1"), date(2025, 12, 1), ValidationFailed, "end"),
            ("other_district_cadre", GS, Decimal("0.1"), date(2025, 11, 1), NotFound, None),
            ("town_cadre", GS, Decimal("0.1"), date(2025, 11, 1), NotFound, None),
            ("auditor", GS, Decimal("0.1"), date(2025, 11, 1), PermissionDenied, None),
        ]:
            with nothing_changes(), pytest.raises(error) as refused:
                callbacks_draw(actor=actors[username], org=tree[org], start=start, end=date(2025, 11, 30), share=share)
            if detail is not None:
                assert list(refused.value.errors) == [detail]

    def test_a_callback_is_recorded_once_and_only_for_a_drawn_case(self, tree, actors, closed_cases):
        cadre = actors["district_cadre"]
        (drawn,) = callbacks_draw(actor=cadre, org=tree[GS], share=Decimal("0.01"), **NOVEMBER)
        not_drawn = next(c for c in [*closed_cases["at_12"], closed_cases["at_gs"]] if c.id != drawn.id)

        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            callback_record(actor=cadre, case=drawn, result="great")
        assert refused.value.errors == {"result": "请选择回访结果"}
        for case in (not_drawn, closed_cases["open"]):
            with nothing_changes(), pytest.raises(CaseMovedOn, match="该申请不在待回访名单中"):
                callback_record(actor=cadre, case=case, result="satisfied")

        done = fresh(callback_record(actor=cadre, case=drawn, result="basically", note="  希望再快一些 "))
        assert (done.callback_status, done.callback_result, done.callback_note) == ("done", "basically", "希望再快一些")
        assert (done.callback_by, done.callback_at is not None) == ("district_cadre", True)
        event = CaseEvent.objects.get(case=drawn, action="callback")
        assert (event.label, event.note) == ("已回访", "基本满意 希望再快一些")
        assert last_audit("case.callback").details == {"kind": drawn.kind, "result": "basically"}

        with nothing_changes(), pytest.raises(CaseMovedOn, match="该申请不在待回访名单中"):
            callback_record(actor=cadre, case=drawn, result="satisfied")
