"""Helpers of the member portal tests: the phones used, signing in with the code just sent, the join form."""

import re
from datetime import date

from django.test import Client
from django.urls import reverse

from gonghui.common.sms import MemorySmsSender
from tests.members.factories import resident_id

PHONE = "13912345678"
OTHER_PHONE = "13800001111"
NEW_WORKER_ID = resident_id(date(1995, 3, 8), 21)


def _last_code(phone: str) -> str:
    sent = [text for to, text in MemorySmsSender.outbox if to == phone]
    return re.search(r"\d{6}", sent[-1]).group(0)


def _without_csrf(content: bytes) -> bytes:
    return re.sub(rb'"X-CSRFToken": "[^"]+"', b"", content)


def sign_in(client: Client, phone: str = PHONE, next_url: str = "") -> object:
    client.post(reverse("portal:login"), {"phone": phone, "action": "send", "next": next_url})
    return client.post(reverse("portal:login"), {"phone": phone, "code": _last_code(phone), "next": next_url})


JOIN_FORM = {
    "name": "李新工",
    "doc_type": "resident_id",
    "doc_number": NEW_WORKER_ID,
    "ethnicity": "汉族",
    "education": "bachelor",
    "employment_form": "standard",
    "work_unit": "十二号有限公司",
    "post": "装配工",
    "consent": "on",
}


def _apply(client, union, **changes):
    return client.post(reverse("portal:join_union", args=[union.id]), {**JOIN_FORM, **changes})
