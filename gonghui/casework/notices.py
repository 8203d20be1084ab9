"""What the service centre tells the applicant (消息 and SMS, through the members' inbox): each step a union takes on
their case, and a deadline that passed. The casework services call these inside their transaction, after the step
is written; the inbox queues the SMS on commit (gonghui/members/notices.py)."""

from gonghui.casework.models import CaseStatus, ServiceCase
from gonghui.members.models import NoticeKind, NoticeSubject
from gonghui.members.notices import notice_send

# status -> (kind, title, body). Placeholders: label (服务类型), number (受理编号), org (承办工会), due (当前环节期限),
# text (the reason, result or note the union wrote).
STEP_NOTICES: dict[str, tuple[NoticeKind, str, str]] = {
    CaseStatus.ACCEPTED: (
        NoticeKind.CASE_ACCEPTED,
        "{label}申请已受理",
        "您的{label}申请（受理编号 {number}）已由“{org}”受理，将于 {due} 前开始办理。",
    ),
    CaseStatus.REJECTED: (
        NoticeKind.CASE_REJECTED,
        "{label}申请不予受理",
        "您的{label}申请（受理编号 {number}）“{org}”不予受理。理由：{text}",
    ),
    CaseStatus.IN_PROGRESS: (
        NoticeKind.CASE_STARTED,
        "{label}申请办理中",
        "“{org}”已开始办理您的{label}申请（受理编号 {number}），办理期限 {due}。",
    ),
    CaseStatus.CLOSED: (
        NoticeKind.CASE_CLOSED,
        "{label}申请已办结",
        "您的{label}申请（受理编号 {number}）已办结。办理结果：{text}。欢迎对本次服务进行评价。",
    ),
    CaseStatus.WITHDRAWN: (
        NoticeKind.CASE_WITHDRAWN,
        "{label}申请已撤回",
        "您的{label}申请（受理编号 {number}）已按您的要求撤回。说明：{text}",
    ),
}
PROGRESS_NOTICE = (
    NoticeKind.CASE_PROGRESS,
    "{label}申请进展：{status}",
    "您的{label}申请（受理编号 {number}）当前为“{status}”，办理期限 {due}。",
)


def _fields(case: ServiceCase, text: str) -> dict:
    return {
        "label": case.get_kind_display(),
        "number": case.number,
        "org": case.org.name,
        "due": f"{case.due_on:%Y-%m-%d}",
        "status": case.get_status_display(),
        "text": text.strip().rstrip("。．.；;，, "),
    }


def notice_case_step(case: ServiceCase, text: str = "", *, progress: bool = False) -> None:
    """Tell the applicant that their case has reached its current status; `text` is the reason, result or note
    that goes with it (shown in the portal, never in the SMS). `progress` words it as news of a step reached
    again (a case back in 办理中 after the parent union's refusal) rather than as the step's start."""
    kind, title, body = PROGRESS_NOTICE if progress else STEP_NOTICES.get(case.status, PROGRESS_NOTICE)
    fields = _fields(case, text)
    notice_send(
        person=case.person,
        kind=kind,
        title=title.format(**fields),
        body=body.format(**fields),
        subject_type=NoticeSubject.SERVICE_CASE,
        subject_id=case.id,
    )


def notice_case_overdue(case: ServiceCase) -> None:
    """The case passed its step's deadline and went to the parent union: once per case and deadline."""
    fields = _fields(case, "")
    escalated_to = case.escalated_to or case.org
    notice_send(
        person=case.person,
        kind=NoticeKind.CASE_OVERDUE,
        title="{label}申请已超期，已上报督办".format(**fields),
        body="您的{label}申请（受理编号 {number}）已超过“{status}”环节的办理期限（{due}），".format(**fields)
        + f"已上报“{escalated_to.name}”督办。",
        subject_type=NoticeSubject.SERVICE_CASE,
        subject_id=case.id,
        dedupe_key=f"case_overdue:{case.id}:{case.due_on:%Y-%m-%d}",
    )
