"""Settings for gonghui, read from environment variables (and a local, git-ignored `.env`).

Every value is validated here so that a bad deployment fails at start-up, not at the first request.
The production profile (`gonghui.settings_production`) imports this module and tightens it.
"""

import base64
import binascii
import importlib.util
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from gonghui.common.csp import tile_origins

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
ENV_FILE = Path(env.str("GONGHUI_ENV_FILE", default=str(BASE_DIR / ".env")))
if ENV_FILE.exists():
    env.read_env(str(ENV_FILE), overwrite=False)


def _required(name: str) -> str:
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(
            f"Environment variable {name} is required. Run `make env` to create a local .env for development, "
            "or set it explicitly in production (see docs/operations.md)."
        )
    return value


def _key_bytes(name: str, raw: str | None = None) -> bytes:
    """A 32-byte key given as URL-safe base64; anything else stops the start-up."""
    raw = _required(name) if raw is None else raw
    try:
        key = base64.urlsafe_b64decode(raw.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise ImproperlyConfigured(f"{name} must be URL-safe base64 of 32 random bytes.") from exc
    if len(key) != 32:
        raise ImproperlyConfigured(f"{name} must decode to exactly 32 bytes, got {len(key)}.")
    return key


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _bool(name: str, default: bool) -> bool:
    """Strict: a typo such as DEBUG=ture stops the start-up instead of silently meaning False."""
    raw = env.str(name, default=str(default)).strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}.")


def _int(name: str, default: int) -> int:
    raw = env.str(name, default=str(default)).strip()
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}.") from None


DEBUG = _bool("DEBUG", default=False)
SECRET_KEY = _required("SECRET_KEY")
if len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long.")
FIELD_ENCRYPTION_KEY = _key_bytes("FIELD_ENCRYPTION_KEY")
BLIND_INDEX_KEY = _key_bytes("BLIND_INDEX_KEY")
if FIELD_ENCRYPTION_KEY == BLIND_INDEX_KEY:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY and BLIND_INDEX_KEY must be different keys.")
# Key rotation (docs/registry.md): previous encryption keys stay readable until `manage.py reseal_people` has
# re-encrypted every record with the current key.
FIELD_ENCRYPTION_OLD_KEYS = [
    _key_bytes("FIELD_ENCRYPTION_OLD_KEYS", part.strip())
    for part in env.str("FIELD_ENCRYPTION_OLD_KEYS", default="").split(",")
    if part.strip()
]

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Demo conveniences (never on in production): shown on the login page and in `make run` output.
DEMO_MODE = _bool("GONGHUI_DEMO", default=False)
# TOTP second factor for cadre accounts: optional in the demo, required in production.
OTP_REQUIRED = _bool("GONGHUI_OTP_REQUIRED", default=False)
SESSION_IDLE_MINUTES = _int("SESSION_IDLE_MINUTES", default=30)
if not 5 <= SESSION_IDLE_MINUTES <= 24 * 60:
    raise ImproperlyConfigured("SESSION_IDLE_MINUTES must be between 5 and 1440.")

INSTALLED_APPS = [
    "gonghui.backoffice",  # first, so its templates (login page) extend unfold's
    "unfold",
    "unfold.contrib.filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_htmx",
    "treebeard",
    "django_tasks",
    "django_tasks_db",
    "gonghui.common",
    "gonghui.audit",
    "gonghui.orgs",
    "gonghui.accounts",
    "gonghui.members",
    "gonghui.imports",
    "gonghui.casework",
    "gonghui.stats",
    "gonghui.stations",
    "gonghui.jobs",
    "gonghui.demo",
    "gonghui.portal",
    "ninja",  # the API docs page uses ninja's own copy of Swagger UI, not a CDN
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "gonghui.common.csp.ContentSecurityPolicyMiddleware",  # outside WhiteNoise and the error pages: every response
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "gonghui.backoffice.middleware.SecondFactorMiddleware",
    "gonghui.backoffice.middleware.RoleRefusalMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gonghui.urls"
WSGI_APPLICATION = "gonghui.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "gonghui.common.csp.csp_nonce",
            ],
        },
    },
]

VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'gonghui.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the job worker writes; a busy timeout instead of "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] not in ("django.db.backends.postgresql",):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...) or SQLite (sqlite:///...).")
DATABASES["default"]["ATOMIC_REQUESTS"] = False

# Rate limits (searches, document checks) count in the cache. With several web processes, point REDIS_URL at Redis
# so every process shares the counts; without it each process counts for itself.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "gonghui"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "gonghui.accounts.passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "gonghui.accounts.passwords.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
]
LOGIN_URL = "admin:login"
# unfold's login form has no hidden "next" field: a sign-in at /admin/login/ itself must land on the workbench.
LOGIN_REDIRECT_URL = "admin:index"

# Lockout after 5 failures per username (django-axes); the security administrator unlocks.
AXES_FAILURE_LIMIT = _int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = _int("AXES_COOLOFF_HOURS", default=0) or None
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "backoffice/locked_out.html"
AXES_VERBOSE = False
# Lockout is per account name: a whole office behind one NAT address must not be locked out by one person's
# typos. Rotating user agents or cookies does not help an attacker against a per-username lockout.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The covering indexes (Index(include=...)) are a PostgreSQL fast path for the org-tree and station reads;
    # SQLite keeps the key columns and ignores the rest, which is what we want there, so the warning says nothing.
    SILENCED_SYSTEM_CHECKS.append("models.W040")
AXES_IPWARE_PROXY_COUNT = _int("PROXY_COUNT", default=0)

# Idle timeout: the session cookie is renewed on every request and expires after SESSION_IDLE_MINUTES of silence.
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "gonghui.error_pages.csrf_failure"

OTP_TOTP_ISSUER = "数字工会平台"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
FORMAT_MODULE_PATH = ["gonghui.formats"]
# Our catalogue fills the few admin-theme strings that have no zh-hans translation upstream (.mo committed).
LOCALE_PATHS = [BASE_DIR / "gonghui" / "locale"]

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# Leaflet's own files come from django-leaflet's static folder, found without importing the package (its app needs
# GeoDjango's GDAL, which the platform does not use): /static/leaflet/leaflet.js, leaflet.css, images/.
_LEAFLET = importlib.util.find_spec("leaflet")
assert _LEAFLET is not None and _LEAFLET.origin is not None, "django-leaflet is a dependency (pyproject.toml)"
STATICFILES_DIRS = [Path(_LEAFLET.origin).parent / "static"]
STATIC_ROOT.mkdir(exist_ok=True)  # collectstatic fills it in production; WhiteNoise expects it to exist
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
    }
}

# Member portal sign-in by SMS code (docs/portal.md). The console sender logs messages; production names a gateway.
SMS_BACKEND = env.str("SMS_BACKEND", default="gonghui.common.sms.ConsoleSmsSender")
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_KEY_ID = env.str("SMS_GATEWAY_KEY_ID", default="")
SMS_GATEWAY_SECRET = env.str("SMS_GATEWAY_SECRET", default="")
SMS_SIGN_NAME = env.str("SMS_SIGN_NAME", default="数字工会")


# Public address of the portal, printed under the join QR codes (扫码入会); empty: the address of the request.
# Stations and the e-map (docs/stations.md). The region's bounding area (south, west, north, east in WGS84
# degrees): coordinates outside it are refused. Default: Suzhou (苏州市). The tile layer is a URL template such as
# 天地图's "https://t{s}.tianditu.gov.cn/vec_w/wmts?...&tk=KEY"; empty shows the points on a plain background.
def _bounds(name: str, default: str) -> tuple[float, float, float, float]:
    raw = env.str(name, default=default)
    try:
        south, west, north, east = (float(part) for part in raw.split(","))
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be four numbers: south,west,north,east, got {raw!r}.") from None
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        raise ImproperlyConfigured(f"{name} is not a box: south < north and west < east, got {raw!r}.")
    return south, west, north, east


# The default box holds the whole of Suzhou, 太仓's shore on the Yangtze (121.37°E) included.
STATIONS_REGION_BOUNDS = _bounds("STATIONS_REGION_BOUNDS", "30.75,119.90,32.05,121.40")
# The caller name the walking links send to the map providers' web pages (高德 src, 腾讯 referer, 百度 src).
STATIONS_NAV_SOURCE = env.str("STATIONS_NAV_SOURCE", default="gonghui")
STATIONS_TILE_URL = env.str("STATIONS_TILE_URL", default="")
STATIONS_TILE_ATTRIBUTION = env.str("STATIONS_TILE_ATTRIBUTION", default="")
STATIONS_TILE_SUBDOMAINS = env.str("STATIONS_TILE_SUBDOMAINS", default="01234567")
try:  # the Content-Security-Policy lets map images come from exactly these hosts (gonghui.common.csp)
    tile_origins(STATIONS_TILE_URL, STATIONS_TILE_SUBDOMAINS)
except ValueError as exc:
    raise ImproperlyConfigured(f"STATIONS_TILE_URL: {exc}") from None

PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="").rstrip("/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

from gonghui.backoffice.unfold_config import UNFOLD  # noqa: E402,F401  (admin theme and sidebar)
