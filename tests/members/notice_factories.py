"""Helpers of the notice tests: a person's inbox, a join application entered by a cadre, and SMS senders that fail."""

from datetime import date

from gonghui.common.sms import SmsNotSent
from gonghui.members.models import JoinApplication, Notice
from gonghui.members.services import join_application_submit
from tests.members.factories import COMPLETE_PROFILE, resident_id

E12, E123 = "SZ-GS-T01-12", "SZ-GS-T01-123"
E12_NAME, E123_NAME = (
    "十二号公司工会委员会",
    "一二三公司工会委员会",
)  # as the shared tree (tests/conftest.py) names them
APPLICANT_PHONE = "13512340001"
SMS = "您有一条新的工会消息：{}。详情请登录数字工会平台查看。"


def inbox(person) -> list[tuple]:
    """A person's notices, oldest first, as (kind, title, body, subject type, subject id)."""
    rows = Notice.objects.filter(person=person).order_by("created_at", "id")
    return list(rows.values_list("kind", "title", "body", "subject_type", "subject_id"))


def all_notices() -> list[tuple]:
    return sorted(Notice.objects.values_list("person_id", "kind"))


def application_for(actors, tree, *, name="赵六", seq=201, phone=APPLICANT_PHONE) -> JoinApplication:
    """A join application a cadre of union "12" entered for a new worker."""
    return join_application_submit(
        actor=actors["grassroots_cadre"],
        org=tree[E12],
        doc_type="resident_id",
        doc_number=resident_id(date(1992, 1, 9), seq),
        phone=phone,
        name=name,
        **COMPLETE_PROFILE,
    )


class FailingSender:
    def send(self, *, phone: str, text: str) -> None:
        raise SmsNotSent("gateway answered HTTP 500")


class BrokenSender:
    def send(self, *, phone: str, text: str) -> None:
        raise ConnectionResetError("connection reset by peer")
