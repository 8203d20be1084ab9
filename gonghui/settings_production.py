"""Production profile: everything in `gonghui.settings`, hardened. Passes `manage.py check --deploy`.

Keys and secrets must be given explicitly: the local `.env` file is not read here.
"""

import os

os.environ.setdefault("GONGHUI_ENV_FILE", "/nonexistent/gonghui-production-reads-no-env-file")

from django.core.exceptions import ImproperlyConfigured  # noqa: E402

from gonghui.settings import *  # noqa: E402,F403
from gonghui.settings import _bool, _int, env  # noqa: E402

if not env.str("ALLOWED_HOSTS", default=""):
    raise ImproperlyConfigured("ALLOWED_HOSTS is required in production (comma-separated host names).")

DEBUG = False
DEMO_MODE = False
OTP_REQUIRED = True

SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = _int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

# Sign-in codes go through a real gateway; the console and test senders never run in production.
SMS_BACKEND = env.str("SMS_BACKEND", default="gonghui.common.sms.HttpSmsSender")
if SMS_BACKEND in ("gonghui.common.sms.ConsoleSmsSender", "gonghui.common.sms.MemorySmsSender"):
    raise ImproperlyConfigured("SMS_BACKEND must name a real SMS gateway in production (docs/portal.md).")
if SMS_BACKEND == "gonghui.common.sms.HttpSmsSender" and not (
    SMS_GATEWAY_URL and SMS_GATEWAY_KEY_ID and SMS_GATEWAY_SECRET  # noqa: F405
):
    raise ImproperlyConfigured("SMS_GATEWAY_URL, SMS_GATEWAY_KEY_ID and SMS_GATEWAY_SECRET are required in production.")
if not PORTAL_BASE_URL.startswith("https://"):  # noqa: F405
    raise ImproperlyConfigured("PORTAL_BASE_URL (https://...) is required in production: join QR codes print it.")
