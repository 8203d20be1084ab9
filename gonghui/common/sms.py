"""Sending text messages (SMS). The platform only ever sends one-time sign-in codes; the gateway is pluggable.

`SMS_BACKEND` names a class with a `send(*, phone, text)` method that raises `SmsNotSent` when the message could
not be handed over. Three are provided:

- `ConsoleSmsSender` (development and the demo): writes the message to the log, its code masked, instead of sending it.
- `MemorySmsSender` (tests): keeps the messages in `outbox`, newest last.
- `HttpSmsSender` (production): posts a signed JSON request to the HTTP gateway configured by `SMS_GATEWAY_URL`,
  `SMS_GATEWAY_KEY_ID`, `SMS_GATEWAY_SECRET` and `SMS_SIGN_NAME`. A vendor whose API differs is supported by a
  subclass that overrides `build_request` / `accepted` (docs/portal.md).
"""

import hashlib
import hmac
import json
import logging
import re
import time
import urllib.error
import urllib.request
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from gonghui.common.masking import mask_phone

logger = logging.getLogger("gonghui.sms")


class SmsNotSent(Exception):
    """The gateway did not accept the message (network failure, refusal, bad configuration)."""


class SmsSender(Protocol):
    def send(self, *, phone: str, text: str) -> None: ...


_DIGIT_RUN = re.compile(r"\d{4,}")


def masked_message(text: str) -> str:
    """The message as a log may hold it: every run of four or more digits (a sign-in code) becomes asterisks."""
    return _DIGIT_RUN.sub(lambda match: "*" * len(match.group()), text)


class ConsoleSmsSender:
    """Logs the message (phone masked, codes masked) instead of sending it: a code is never written to a log. The
    demo shows the code on the page instead."""

    def send(self, *, phone: str, text: str) -> None:
        logger.info("SMS to %s: %s", mask_phone(phone), masked_message(text))


class MemorySmsSender:
    """Keeps messages in memory for tests: `MemorySmsSender.outbox` is a list of (phone, text)."""

    outbox: list[tuple[str, str]] = []

    def send(self, *, phone: str, text: str) -> None:
        MemorySmsSender.outbox.append((phone, text))


class HttpSmsSender:
    """A generic HTTP gateway: POST {"phone", "sign", "text", "timestamp"} as JSON with the headers
    `X-Key-Id` and `X-Signature` (hex HMAC-SHA256 of the body with the shared secret); a 2xx answer whose JSON has
    `"ok": true` means accepted."""

    timeout_seconds = 5

    def __init__(self) -> None:
        self.url = settings.SMS_GATEWAY_URL
        self.key_id = settings.SMS_GATEWAY_KEY_ID
        self.secret = settings.SMS_GATEWAY_SECRET
        self.sign_name = settings.SMS_SIGN_NAME
        if not (self.url and self.key_id and self.secret):
            raise SmsNotSent("SMS_GATEWAY_URL, SMS_GATEWAY_KEY_ID and SMS_GATEWAY_SECRET must be set")

    def build_request(self, *, phone: str, text: str) -> urllib.request.Request:
        body = json.dumps(
            {"phone": phone, "sign": self.sign_name, "text": text, "timestamp": int(time.time())},
            ensure_ascii=False,
        ).encode("utf-8")
        signature = hmac.new(self.secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Key-Id": self.key_id, "X-Signature": signature}
        return urllib.request.Request(self.url, data=body, headers=headers, method="POST")  # noqa: S310 - configured URL

    def accepted(self, status: int, body: bytes) -> bool:
        if not 200 <= status < 300:
            return False
        try:
            return bool(json.loads(body or b"{}").get("ok"))
        except ValueError:
            return False

    def send(self, *, phone: str, text: str) -> None:
        request = self.build_request(phone=phone, text=text)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:  # noqa: S310
                status, body = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read()
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            logger.warning("SMS gateway unreachable for %s: %s", mask_phone(phone), exc)
            raise SmsNotSent(str(exc)) from exc
        if not self.accepted(status, body):
            logger.warning("SMS gateway refused %s: HTTP %s", mask_phone(phone), status)
            raise SmsNotSent(f"gateway answered HTTP {status}")


@cache
def _sender_class(path: str) -> type:
    return import_string(path)


def sms_send(*, phone: str, text: str) -> None:
    """Hand one message to the configured gateway; raises SmsNotSent when it is not accepted."""
    sender = _sender_class(settings.SMS_BACKEND)()
    sender.send(phone=phone, text=text)
