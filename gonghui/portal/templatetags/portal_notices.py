"""`{% unread_notice_count account as unread %}`: the signed-in member's unread messages (消息), for the badge on the
portal's header and home tile. Counted only where a template asks for it."""

from django import template

from gonghui.members.notices import own_unread_count

register = template.Library()


@register.simple_tag
def unread_notice_count(account) -> int:
    if account is None:
        return 0
    return own_unread_count(account=account)
