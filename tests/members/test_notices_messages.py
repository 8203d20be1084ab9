"""The portal's 消息 page: a member reads only their own notices, opening one marks it read, read-all is a POST."""

import re
from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gonghui.common.errors import NotFound
from gonghui.members.models import Notice, NoticeKind, NoticeSubject
from gonghui.members.notices import notice_read, notices_read_all, own_notice_get, own_notices, own_unread_count
from gonghui.members.services import transfer_request
from gonghui.portal.session import ACCOUNT_KEY, VERSION_KEY
from tests.members.factories import fresh
from tests.members.notice_factories import E123

pytestmark = pytest.mark.django_db


# ================================================================ reading (selectors, services)


def _notices_for(person, count: int) -> list[Notice]:
    """`count` notices for `person`, one minute apart, the last one newest."""
    start = timezone.now() - timedelta(hours=1)
    made = []
    for i in range(count):
        notice = Notice.objects.create(
            person=person,
            kind=NoticeKind.JOIN_APPROVED,
            title=f"消息{i + 1}",
            body=f"第{i + 1}条消息的内容",
            subject_type=NoticeSubject.TRANSFER,
            subject_id=person.id,
        )
        Notice.objects.filter(pk=notice.pk).update(created_at=start + timedelta(minutes=i))
        made.append(notice)
    return made


def test_the_member_reads_only_their_own_notices(member, other_member):
    mine = _notices_for(member.person, 3)
    theirs = _notices_for(other_member.person, 1)

    assert [n.title for n in own_notices(account=member.account)] == ["消息3", "消息2", "消息1"]
    assert own_unread_count(account=member.account) == 3
    with pytest.raises(NotFound):
        own_notice_get(account=member.account, notice_id=theirs[0].id)
    with pytest.raises(NotFound):
        notice_read(account=member.account, notice_id=theirs[0].id)
    with pytest.raises(NotFound):
        own_notice_get(account=member.account, notice_id="not-an-id")
    assert Notice.objects.get(pk=theirs[0].pk).read_at is None

    read = notice_read(account=member.account, notice_id=mine[1].id)
    first_read = read.read_at
    assert first_read is not None
    assert notice_read(account=member.account, notice_id=mine[1].id).read_at == first_read
    assert own_unread_count(account=member.account) == 2
    assert notices_read_all(account=member.account) == 2
    assert own_unread_count(account=member.account) == 0
    assert own_unread_count(account=other_member.account) == 1


# ================================================================ the portal pages


def items(page: str) -> int:
    """How many messages a 消息 page lists."""
    return len(re.findall(r'<li(?: class="unread")?><a href="/messages/', page))


def portal_client(account) -> Client:
    client = Client()
    session = client.session
    session[ACCOUNT_KEY] = str(account.id)
    session[VERSION_KEY] = account.session_version
    session.save()
    return client


def test_the_messages_page_lists_newest_first_with_the_unread_count(member, other_member):
    _notices_for(member.person, 3)
    _notices_for(other_member.person, 1)
    Notice.objects.filter(person=member.person, title="消息1").update(read_at=timezone.now())
    client = portal_client(member.account)

    page = client.get(reverse("portal:messages")).content.decode()

    assert '<p class="muted" data-testid="unread-count">2 条未读</p>' in page
    assert page.index("消息3") < page.index("消息2") < page.index("消息1")
    assert page.count("未读</span>") == 2
    assert "第1条消息的内容" in page
    assert "全部标为已读" in page
    assert items(page) == 3  # 李四's message is not listed


def test_opening_a_message_marks_it_read_and_leads_to_its_subject(actors, tree, member):
    transfer = transfer_request(
        actor=actors["grassroots_cadre"], membership=member.membership, to_org=tree[E123], reason="调动"
    )
    notice = Notice.objects.get(person=member.person)
    client = portal_client(member.account)

    page = client.get(reverse("portal:message", args=[notice.id])).content.decode()

    assert "<h1>工会为您发起了会员接转</h1>" in page
    assert f'<a class="btn btn-block" href="/transfers/{transfer.id}/">查看接转进度</a>' in page
    assert fresh(notice).read_at is not None
    assert "没有未读消息" in client.get(reverse("portal:messages")).content.decode()


@pytest.mark.parametrize(
    ("subject", "url"),
    [
        ("join_application", "/applications/{}/"),
        ("transfer", "/transfers/{}/"),
        ("service_case", "/services/cases/{}/"),
    ],
)
def test_each_subject_links_to_its_page(member, subject, url):
    notice = Notice.objects.create(
        person=member.person,
        kind="case_progress",
        title="进展",
        body="内容",
        subject_type=subject,
        subject_id=member.person.id,
    )
    page = portal_client(member.account).get(reverse("portal:message", args=[notice.id])).content.decode()
    assert f'href="{url.format(member.person.id)}"' in page


def test_another_members_message_answers_like_a_missing_one(member, other_member):
    (theirs,) = _notices_for(other_member.person, 1)
    client = portal_client(member.account)

    other = client.get(reverse("portal:message", args=[theirs.id]))
    missing = client.get(reverse("portal:message", args=[member.person.id]))
    garbage = client.get("/messages/not-an-id/")

    assert other.status_code == missing.status_code == garbage.status_code == 404
    assert other.content == missing.content
    assert Notice.objects.get(pk=theirs.pk).read_at is None


def test_read_all_is_a_post_and_touches_only_the_members_own(member, other_member):
    _notices_for(member.person, 2)
    _notices_for(other_member.person, 1)
    client = portal_client(member.account)

    assert client.get(reverse("portal:messages_read_all")).status_code == 405
    assert own_unread_count(account=member.account) == 2
    response = client.post(reverse("portal:messages_read_all"))

    assert response.status_code == 302 and response["Location"] == reverse("portal:messages")
    assert own_unread_count(account=member.account) == 0
    assert own_unread_count(account=other_member.account) == 1


def test_read_all_needs_the_form_token(member):
    _notices_for(member.person, 1)
    client = Client(enforce_csrf_checks=True)
    session = client.session
    session[ACCOUNT_KEY], session[VERSION_KEY] = str(member.account.id), member.account.session_version
    session.save()

    assert client.post(reverse("portal:messages_read_all")).status_code == 403
    assert own_unread_count(account=member.account) == 1


def test_the_messages_are_paginated_twenty_a_page(member):
    _notices_for(member.person, 25)
    client = portal_client(member.account)

    first = client.get(reverse("portal:messages")).content.decode()
    second = client.get(reverse("portal:messages"), {"page": 2}).content.decode()

    assert items(first) == 20 and "消息25" in first and "消息6<" in first and "消息5<" not in first
    assert "第 1 / 2 页" in first and 'href="?page=2"' in first
    assert items(second) == 5 and "消息5<" in second and "消息1<" in second
    assert "第 2 / 2 页" in second and 'href="?page=1"' in second
    assert client.get(reverse("portal:messages"), {"page": "x"}).status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in():
    response = Client().get(reverse("portal:messages"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('portal:login')}?next=%2Fmessages%2F"


def test_an_unbound_account_has_an_empty_inbox(member):
    from tests.members.factories import sign_in

    account = sign_in("13700002222")
    page = portal_client(account).get(reverse("portal:messages")).content.decode()
    assert "暂无消息" in page and "没有未读消息" in page


def test_the_badge_tag_counts_the_members_unread(member):
    _notices_for(member.person, 2)
    template = Template("{% load portal_notices %}{% unread_notice_count account as unread %}[{{ unread }}]")
    assert template.render(Context({"account": member.account})) == "[2]"
    assert template.render(Context({"account": None})) == "[0]"
