"""The member's messages (消息): the inbox the registry and the service centre fill when a union decides on the
member's application, transfer or service case, or a deadline passes. Newest first, paginated, with the unread
count; opening a message marks it read and offers the way to what it is about. A member only reaches their own
messages; another person's answers like a missing page."""

from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from gonghui.members.models import NoticeSubject
from gonghui.members.notices import notice_read, notices_read_all, own_notices, own_unread_count
from gonghui.portal.session import member_required
from gonghui.portal.views.common import _own_or_404, _page

NOTICES_PER_PAGE = 20
# Where each kind of subject is read in the portal, and the button that leads there.
SUBJECT_PAGES = {
    NoticeSubject.JOIN_APPLICATION: ("portal:application", "查看入会申请"),
    NoticeSubject.TRANSFER: ("portal:transfer_detail", "查看接转进度"),
    NoticeSubject.SERVICE_CASE: ("portal:service_case", "查看服务申请"),
}


@member_required
def messages(request, account):
    page = Paginator(own_notices(account=account), NOTICES_PER_PAGE).get_page(request.GET.get("page"))
    return _page(request, "portal/messages.html", page=page, unread=own_unread_count(account=account))


@member_required
def message(request, account, notice_id: str):
    notice = _own_or_404(notice_read, account=account, notice_id=notice_id)
    route, label = SUBJECT_PAGES[notice.subject_type]
    return _page(
        request,
        "portal/message.html",
        notice=notice,
        subject_url=reverse(route, args=[notice.subject_id]),
        subject_label=label,
    )


@require_POST
@member_required
def messages_read_all(request, account):
    notices_read_all(account=account)
    return redirect("portal:messages")
