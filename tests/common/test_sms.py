"""The HTTP SMS gateway adapter against a real local HTTP server: what it sends, how it signs, what counts as sent."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from gonghui.common.sms import HttpSmsSender, SmsNotSent, sms_send


class _Gateway(BaseHTTPRequestHandler):
    answer_status = 200
    answer_body = b'{"ok": true}'
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Gateway.received.append({"headers": dict(self.headers), "body": body})
        self.send_response(_Gateway.answer_status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(_Gateway.answer_body)

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway(settings):
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Gateway.received = []
    _Gateway.answer_status, _Gateway.answer_body = 200, b'{"ok": true}'
    settings.SMS_BACKEND = "gonghui.common.sms.HttpSmsSender"
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{server.server_port}/send"
    settings.SMS_GATEWAY_KEY_ID = "gonghui"
    settings.SMS_GATEWAY_SECRET = "s3cret-for-tests"
    settings.SMS_SIGN_NAME = "数字工会"
    yield _Gateway
    server.shutdown()
    server.server_close()


def test_sends_signed_json(gateway):
    sms_send(phone="13912345678", text="您的登录验证码为123456")

    (request,) = gateway.received
    payload = json.loads(request["body"])
    assert {k: payload[k] for k in ("phone", "sign", "text")} == {
        "phone": "13912345678",
        "sign": "数字工会",
        "text": "您的登录验证码为123456",
    }
    assert isinstance(payload["timestamp"], int)
    assert request["headers"]["X-Key-Id"] == "gonghui"
    expected = hmac.new(b"s3cret-for-tests", request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Signature"] == expected


@pytest.mark.parametrize(
    ("status", "body"),
    [(200, b'{"ok": false, "error": "quota"}'), (500, b"{}"), (200, b"not json"), (403, b'{"ok": true}')],
)
def test_a_refusal_raises(gateway, status, body):
    gateway.answer_status, gateway.answer_body = status, body
    with pytest.raises(SmsNotSent):
        sms_send(phone="13912345678", text="x")


def test_an_unreachable_gateway_raises(settings):
    settings.SMS_GATEWAY_URL = "http://127.0.0.1:9/send"  # discard port: nothing listens
    settings.SMS_GATEWAY_KEY_ID = "gonghui"
    settings.SMS_GATEWAY_SECRET = "x"
    with pytest.raises(SmsNotSent):
        HttpSmsSender().send(phone="13912345678", text="x")


def test_missing_settings_raise(settings):
    settings.SMS_GATEWAY_URL = ""
    with pytest.raises(SmsNotSent):
        HttpSmsSender()


@pytest.mark.django_db
def test_sign_in_code_goes_through_the_gateway(gateway):
    from gonghui.members.member_accounts import phone_code_send

    sent = phone_code_send(phone="13912345678")

    (request,) = gateway.received
    assert f"您的登录验证码为{sent.code}" in json.loads(request["body"])["text"]


def test_the_console_sender_never_logs_the_code(settings, caplog, db):
    """Development and the demo log the message instead of sending it: the phone and the code are masked."""
    from gonghui.members.member_accounts import phone_code_send

    settings.SMS_BACKEND = "gonghui.common.sms.ConsoleSmsSender"
    with caplog.at_level("INFO", logger="gonghui.sms"):
        sent = phone_code_send(phone="13912345678")
    (record,) = [r for r in caplog.records if r.name == "gonghui.sms"]
    logged = record.getMessage()
    assert sent.code not in logged and "13912345678" not in logged
    assert logged.startswith("SMS to 139****5678: ")
    assert "您的登录验证码为" + "*" * len(sent.code) in logged
