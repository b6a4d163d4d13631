"""Settings for the Serial Evidence Portal, read from the environment.

With nothing set, the portal runs on SQLite with Celery tasks executed eagerly (the embedded
default). With ``DATABASE_URL`` and ``CELERY_BROKER_URL`` it runs on PostgreSQL and Redis with
real workers. With ``DEBUG`` off it refuses to start without a real ``SECRET_KEY`` and
``ALLOWED_HOSTS``.
"""

import datetime
import hashlib
import urllib.parse
from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"
DEV_AUDIT_KEY = "dev-only-audit-chain-key-never-use-in-production"

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
# The audit chain's HMAC key (portal.models.AuditEvent.compute_hash, portal.anchors): from the
# environment only, never stored in the database, so whoever can write the database cannot
# re-hash the chain. Changing it makes every event written before fail integrity_verify.
AUDIT_KEY = env.str("AUDIT_KEY", default=DEV_AUDIT_KEY)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)

if not DEBUG:
    # Fail loudly rather than serve production with a guessable key or an open Host header.
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "DEBUG is off: set SECRET_KEY to a random string of at least 50 characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DEBUG is off: set ALLOWED_HOSTS (comma-separated host names).")
    if AUDIT_KEY in (DEV_AUDIT_KEY, SECRET_KEY) or len(AUDIT_KEY) < 32:
        raise ImproperlyConfigured(
            "DEBUG is off: set AUDIT_KEY to a random string of at least 32 characters, other "
            "than SECRET_KEY, and keep it out of the database and its backups "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )

INSTALLED_APPS = [
    "csp",  # django-csp: its system checks for CONTENT_SECURITY_POLICY
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "pgtrigger",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp_webauthn",
    "portal",
    "accounts",
    "orders",
    "evidence",
    "serials",
    "inspection",
    "lookup",
    "approvals",
    "dossier",
    "scorecards",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language from the cookie or the browser; PreferencesMiddleware below puts the
    # signed-in person's own language and time zone over it.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.PreferencesMiddleware",
    # request.user.is_verified(): whether this session answered its second factor (django-otp).
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "portal.middleware.PrivatePagesMiddleware",
    # Content-Security-Policy on every response (django-csp; the policy is below).
    "csp.middleware.CSPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout response.
    "axes.middleware.AxesMiddleware",
]

# Failed logins (the sign-in page, the admin and the API token endpoint) are counted per
# username and address by django-axes; after LOGIN_FAILURE_LIMIT in a row, that username is
# locked from that address for LOGIN_COOLOFF_MINUTES. A success resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env.bool("LOGIN_LOCKOUT", default=True)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "portal.views.login_locked_out"
AXES_VERBOSE = False


ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.membership",
                "portal.context_processors.inbox",
                "accounts.context_processors.second_factor",
                "accounts.context_processors.people",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # One test database per checkout, so two clones on one machine can test at the same time.
    _checkout = hashlib.sha1(str(BASE_DIR).encode(), usedforsecurity=False).hexdigest()[:8]
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{_checkout}"}

AUTH_USER_MODEL = "portal.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
# Suppliers read the portal in their own language (each user's choice, remembered; else the
# browser's). Serials, names and what people wrote stay as written. Catalogues: locale/*/LC_MESSAGES
# (django.po kept in git, compiled to .mo by `make` and the Dockerfile).
LANGUAGES = [
    ("en-gb", "English"),
    ("zh-hans", "简体中文"),
    ("vi", "Tiếng Việt"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates as each language writes them; templates name the format (portal/formats/).
FORMAT_MODULE_PATH = ["portal.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "media/"  # never served directly: uploads go through permission-checked views
# Checkpoints of the audit chain (portal.anchors): an append-only file of HMAC'd JSON lines,
# outside the database. Empty means integrity/audit-anchor.jsonl beside MEDIA_ROOT (its
# parent directory), resolved when used. With TSA_URL, each checkpoint also gets an RFC 3161
# time-stamp token from that authority, kept beside the anchor file; integrity_verify checks
# the tokens with `openssl ts -verify` against TSA_CA_PATH (a PEM file) when it is set.
AUDIT_ANCHOR_PATH = env.str("AUDIT_ANCHOR_PATH", default="")
TSA_URL = env.str("TSA_URL", default="")
TSA_CA_PATH = env.str("TSA_CA_PATH", default="")
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # The manifest storage needs collectstatic; debug and test runs use the plain one.
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# The public genuine-or-not check (lookup.public, /01/{gtin}/21/{serial}): checks one client
# may make per window ("count/period", django-ratelimit's form, counted in the default cache:
# production needs a shared one, CACHE_URL=rediscache://..., or each worker counts alone), and
# how many reverse proxies of yours append to X-Forwarded-For. 0 trusts the header never: the
# client is REMOTE_ADDR. N takes the N-th address from its right end (the one your outermost
# proxy saw); set it only when nothing but those proxies can reach the portal.
PUBLIC_CHECK_RATE = env.str("PUBLIC_CHECK_RATE", default="30/10m")
PUBLIC_CHECK_PROXY_HOPS = env.int("PUBLIC_CHECK_PROXY_HOPS", default=0)
_count, _, _period = PUBLIC_CHECK_RATE.partition("/")
if not (_count.isdigit() and int(_count) > 0 and _period[-1:] in ("s", "m", "h", "d")) or not (
    _period[:-1].isdigit() or _period[:-1] == ""
):
    raise ImproperlyConfigured(
        f"PUBLIC_CHECK_RATE={PUBLIC_CHECK_RATE!r}: give checks per period, e.g. 30/10m."
    )

# Security: strict by default in production; check --deploy must print nothing.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Celery. No broker configured means the embedded default: tasks run eagerly in-process.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True  # progress and results live on the job's own row
# acks_late alone loses the job when a worker is killed; reject_on_worker_lost redelivers it.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis redelivers unacknowledged messages after the visibility timeout: keep it above the
# longest job (a 10-million-row serial list), in all three places Celery reads it.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=4 * 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # How often a worker sweeps for messages whose worker died (interval × throttle seconds).
    "unacked_restore_interval": env.int("CELERY_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_RESTORE_THROTTLE", default=6),
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "requeue-stuck-serial-lists": {
        "task": "serials.tasks.requeue_stuck_serial_lists",
        "schedule": 300.0,
    },
    # Dossier builds queued too long or whose worker died (dossier.services).
    "requeue-stuck-dossier-exports": {
        "task": "dossier.tasks.requeue_stuck_dossier_exports",
        "schedule": 300.0,
    },
    # Seals the audit chain's head outside the database (portal.anchors).
    "integrity-checkpoint": {"task": "portal.tasks.integrity_checkpoint", "schedule": 600.0},
    # The whole verification (portal.integrity), nightly at 02:30 UTC; each run is logged.
    "integrity-verify": {
        "task": "portal.tasks.integrity_verify",
        "schedule": crontab(hour="2", minute="30"),
    },
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Query parameters are read strictly (portal.api_query): an empty or mistyped value is a 400
    # naming it; the schema documents every refusal an operation can answer (portal.api_schema).
    "DEFAULT_PAGINATION_CLASS": "portal.api_query.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "portal.api_query.FilterBackend",
        "portal.api_query.StrictOrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "portal.api_schema.ApiSchema",
    "EXCEPTION_HANDLER": "portal.api.exception_handler",
}

# API tokens (django-rest-knox): only a SHA-512 digest is stored, the token is shown once; each
# has a name (the device or system holding it) and expires API_TOKEN_TTL_DAYS after it is made.
# A password change revokes all of a user's tokens (accounts.signals).
KNOX_TOKEN_MODEL = "accounts.ApiToken"
# knox's own AuthToken is swapped out for ApiToken; its migrations would still create its table
# (with a foreign key to users, which a test flush's TRUNCATE refuses). Unmigrated, a swapped
# model gets no table at all.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_MODEL": KNOX_TOKEN_MODEL,
    "TOKEN_TTL": datetime.timedelta(days=env.int("API_TOKEN_TTL_DAYS", default=30)),
    "AUTH_HEADER_PREFIX": "Token",  # `Authorization: Token <token>`, as with DRF's tokens
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Serial Evidence Portal API",
    "DESCRIPTION": "Purchase orders, batches, serial lists, evidence, approvals, gates and "
    "payments. "
    "Authenticate with `Authorization: Token <token>` from `POST /api/auth/token/` (or the "
    "API tokens page): tokens are named per device, expire (30 days by default) and are "
    "revoked by a password change.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.PurchaseOrder.Status",
        "BatchStatusEnum": "orders.models.Batch.Status",
        "ApprovalDecisionEnum": "approvals.models.Approval.Decision",
        "GateKindEnum": "approvals.models.Gate.Kind",
        "PaymentKindEnum": "approvals.models.Payment.Kind",
        "SerialListKindEnum": "serials.models.SerialList.Kind",
        "SerialListStatusEnum": "serials.models.SerialList.Status",
        "SerialExceptionKindEnum": "serials.models.SerialException.Kind",
        "SerialExceptionStatusEnum": "serials.models.SerialException.Status",
        "ExceptionDecisionEnum": "serials.models.ExceptionDecision.Decision",
        "EvidenceKindEnum": "evidence.models.EvidenceKind",
        "NumberingRuleKindEnum": "serials.models.NumberingRule.Kind",
        "LookupStatusEnum": "lookup.results.LookupStatus",
    },
}

# Content-Security-Policy (django-csp 4): scripts, styles, images, fonts and requests only from
# this origin; no inline script or style (pages declare behaviour by data attributes handled in
# static/js/portal.js; htmx's indicator styles live in portal.css), no eval, no plugins, no
# framing, forms post only here. Passkeys need nothing more: WebAuthn is a browser API.
# Evidence thumbnails and QR codes are served by the portal itself; `data:` images are the
# vendored Bootstrap's own icons inside its CSS.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint narrates every step of every PDF at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # pikepdf announces its logging bridge at INFO when first imported.
        "pikepdf": {"level": "WARNING"},
    },
}

# Serial lists: the upload cap, and how long a worker's claim lasts without a heartbeat before
# another worker may take the job over (it must stay below the broker's visibility timeout).
SERIAL_LIST_MAX_BYTES = env.int("SERIAL_LIST_MAX_BYTES", default=400 * 1024 * 1024)
SERIAL_LIST_LEASE_SECONDS = env.int("SERIAL_LIST_LEASE_SECONDS", default=120)
# A list whose check was started this many times, each time by a worker that died before the end,
# is failed with the reason instead of being sent again (a poison job).
SERIAL_LIST_MAX_ATTEMPTS = env.int("SERIAL_LIST_MAX_ATTEMPTS", default=3)
# Dossier builds (dossier.services): the same rules as serial lists' jobs.
DOSSIER_EXPORT_LEASE_SECONDS = env.int("DOSSIER_EXPORT_LEASE_SECONDS", default=300)
DOSSIER_EXPORT_MAX_ATTEMPTS = env.int("DOSSIER_EXPORT_MAX_ATTEMPTS", default=3)
# A gate falling due within this many days, on a batch with an exception not decided yet: the
# buyer's inbox offers a written request to the supplier, due the day before (approvals.explain).
EXPLAIN_BEFORE_GATE_DAYS = env.int("EXPLAIN_BEFORE_GATE_DAYS", default=14)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Evidence uploads: a size cap and the types allowed, told by the bytes (libmagic) and
# confirmed by parsing (Pillow for images).
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=25 * 1024 * 1024)
EVIDENCE_ALLOWED_TYPES = env.list(
    "EVIDENCE_ALLOWED_TYPES",
    default=[
        "image/jpeg",
        "image/png",
        "image/webp",
        "application/pdf",
        "text/plain",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ],
)

# Payment documents (a bank's confirmation, a receipt): through the same gate as evidence, for
# documents only (never HTML, SVG, a program or a spreadsheet that may carry macros).
PAYMENT_DOCUMENT_MAX_BYTES = env.int("PAYMENT_DOCUMENT_MAX_BYTES", default=25 * 1024 * 1024)
PAYMENT_DOCUMENT_ALLOWED_TYPES = env.list(
    "PAYMENT_DOCUMENT_ALLOWED_TYPES",
    default=["application/pdf", "image/jpeg", "image/png", "image/webp"],
)

# S3-compatible storage for uploads when a bucket is configured (django-storages); local files
# otherwise. Objects are named by their hash, so nothing is ever overwritten.
if env.str("AWS_STORAGE_BUCKET_NAME", default=""):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "file_overwrite": False,
            "default_acl": None,
            "querystring_auth": True,
        },
    }

# The largest request body accepted at all (one serial list, or several evidence files at once),
# checked from Content-Length before anything is written to disk.
UPLOAD_MAX_REQUEST_BYTES = env.int(
    "UPLOAD_MAX_REQUEST_BYTES", default=SERIAL_LIST_MAX_BYTES + 1024 * 1024
)
FILE_UPLOAD_HANDLERS = [
    "portal.uploads.UploadSizeCap",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Email notifications. The console backend by default: messages are printed, nothing is sent.
# Set EMAIL_URL (e.g. smtp+tls://user:password@smtp.example.com:587) to send real mail.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Serial Evidence Portal <portal@localhost>"
)
# A mail server that does not answer must not hold a notification's transaction for ever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# Where links in emails point; the portal cannot know its public address by itself.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://localhost:8000").rstrip("/")

# A second factor (issue 12): passkeys (django-otp-webauthn) with an authenticator app's codes
# (django-otp TOTP) as the fallback. Buyers who sign, finance and admins need one to sign an
# approval or release a gate, and everyone who holds one answers it at sign-in. A passkey belongs
# to one host name (PASSKEY_RP_ID, never an IP address) and is accepted only from
# PASSKEY_ORIGINS; both default to PORTAL_BASE_URL's.
_portal_url = urllib.parse.urlsplit(PORTAL_BASE_URL)
OTP_WEBAUTHN_RP_ID = env.str("PASSKEY_RP_ID", default=_portal_url.hostname or "localhost")
OTP_WEBAUTHN_RP_NAME = env.str("PASSKEY_RP_NAME", default="Serial Evidence Portal")
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.list(
    "PASSKEY_ORIGINS", default=[f"{_portal_url.scheme}://{_portal_url.netloc}"]
)
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False  # the password first; a passkey is the second step
OTP_WEBAUTHN_HELPER_CLASS = "accounts.passkeys.PasskeyHelper"
OTP_WEBAUTHN_TIMEOUT_SECONDS = 120
OTP_TOTP_ISSUER = OTP_WEBAUTHN_RP_NAME
OTP_TOTP_THROTTLE_FACTOR = 1  # a wrong code waits 1 s, then 2, 4, 8 ... before the next is tried

# django-tables2: sortable tables in Bootstrap 5's look, scrolling sideways on a phone.
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5-responsive.html"
DJANGO_TABLES2_TABLE_ATTRS = {"class": "table table-sm table-hover align-middle mb-0"}
