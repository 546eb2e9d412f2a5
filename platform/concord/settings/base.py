"""Settings shared by every environment, read from the environment strictly.

See ``.env.example`` for every variable. A malformed value stops start-up with
a message naming the variable (``concord.env``).
"""

from __future__ import annotations

import re
from pathlib import Path

from botocore.config import Config as BotocoreConfig

from concord.crypto_keys import development_key
from concord.env import (
    EnvError,
    env_bool,
    env_choice,
    env_database_url,
    env_fernet_keys,
    env_hostname,
    env_int,
    env_networks,
    env_port,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parents[3]  # the repository root

DEBUG = False
SECRET_KEY = env_str("SECRET_KEY", "")  # each environment decides whether a default is safe

# --- Hosts --------------------------------------------------------------------
# Partnerships are served at <slug>.<PLATFORM_DOMAIN>; the bare domain serves the
# public site and the operator area. Anything else is refused.
PLATFORM_DOMAIN = env_hostname("PLATFORM_DOMAIN", "localhost")
ALLOWED_HOSTS = [PLATFORM_DOMAIN, f".{PLATFORM_DOMAIN}"]
# Host -> partnership is cached per process for this many seconds: a suspension
# or a domain change reaches every worker within this time.
TENANT_CACHE_SECONDS = env_int("TENANT_CACHE_SECONDS", 3, minimum=0, maximum=60)
# The reverse proxies we run in front of the application (addresses or CIDR networks). The
# client's address (audit rows, the sign-in throttle: concord.http.client_ip) is read from
# X-Forwarded-For only behind one of them; by default none is trusted and it is REMOTE_ADDR.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES", [])

# --- Applications -------------------------------------------------------------
# auth, contenttypes, sessions and the OTP apps live at both levels (users live in
# their partnership's schema; operators in public). See docs in ARCHITECTURE.md.
_BOTH = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django_otp",
    "django_otp_webauthn",  # passkeys: a django-otp device per credential, beside the user (accounts.passkeys)
    "tenant_apps.accounts",
    "tenant_apps.outbox",  # e-mails kept in their partnership's schema; operators' in public
    "tenant_apps.audit",
]

SHARED_APPS = [
    # Before django_tenants: its migrate and migrate_schemas commands, run as the owner, are ours.
    "tenants",
    "django_tenants",
    *_BOTH,
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # trigram indexes and lookups (pg_trgm, installed in public)
    "rest_framework",
    "drf_spectacular",
    "procrastinate.contrib.django",  # the job queue: its tables live in public only (concord.jobs)
    "shared_apps.audit_anchors",  # each partnership's audit chain head, anchored (append-only, public only)
    "shared_apps.question_bank",  # the national question bank and partnerships' submissions to it
]

TENANT_APPS = [
    *_BOTH,
    "tenant_apps.directory",  # agencies, teams, memberships; the partnership admin area
    "tenant_apps.documents",  # uploaded files' metadata; the bytes live in object storage
    "tenant_apps.casework",  # profiles, families, cases, the timeline, sharing
    "tenant_apps.search",  # one search box over profiles and cases (no models)
    "tenant_apps.tasks",  # tasks to people or teams, from cases or profiles, with replies
    "tenant_apps.assessments",  # the national question bank's pages in a partnership, its submissions
    "tenant_apps.dashboard",  # the home page: my work, with counts, from the other apps' selectors
]

INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Partnership"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
# The migrated, empty schema whose DDL new partnerships replay (tenants.provisioning).
TENANT_TEMPLATE_SCHEMA = "concord_template"
TENANT_LIMIT_SET_CALLS = True
TENANT_CREATION_FAKES_MIGRATIONS = False

ROOT_URLCONF = "concord.urls_partnership"
PUBLIC_SCHEMA_URLCONF = "concord.urls_public"

AUTH_USER_MODEL = "accounts.User"
# Django's model backend, reading the signed-in user's teams and agency in the same query.
AUTHENTICATION_BACKENDS = ["tenant_apps.directory.backends.MemberBackend"]

MIDDLEWARE = [
    "concord.middleware.SecurityHeadersMiddleware",  # outermost: headers (COOP, HSTS...) on every response
    "concord.middleware.ErrorReferenceMiddleware",  # request.error_reference: on a 500, its log line, Sentry
    "concord.middleware.HealthCheckMiddleware",  # any host, before the tenant lookup; never redirected
    "concord.middleware.DisallowedHostMiddleware",  # a host outside ALLOWED_HOSTS: 404, not redirected
    # Before every other early answer (static files, the suspended page, unknown partnership
    # hosts), so that each is redirected to HTTPS and gets HSTS in production.
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files, any host
    "concord.middleware.PartnershipMiddleware",  # host -> schema; unknown host: 404
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified()
    "tenant_apps.accounts.middleware.SessionPolicyMiddleware",  # idle/absolute timeouts, sign-out everywhere
    "tenant_apps.accounts.middleware.RequireSecondFactorMiddleware",  # fail closed: every view needs 2FA
    "tenant_apps.audit.middleware.RefusedAccessMiddleware",  # 403s, refused writes and reads: access.*
    "tenant_apps.directory.middleware.ApiClientAuditMiddleware",  # every API client's call: api.call
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Refusals (tenant_apps.audit.services.audit_access_refused): at most one access.refused or
# access.forbidden event per user per object and route per window, and at most this many per user
# per window; the rest are counted and summarised in one access.refusals_suppressed per window.
AUDIT_REFUSED_WINDOW_MINUTES = 10
AUDIT_REFUSED_MAX_PER_WINDOW = 50

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "platform" / "concord" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "concord.context_processors.site",
                "concord.context_processors.navigation",
            ],
            "libraries": {"concord": "concord.templatetags.concord"},
        },
    },
]

WSGI_APPLICATION = "concord.wsgi.application"


# --- Database -----------------------------------------------------------------
def database_config(*, pool: bool) -> dict:
    """The default database from DATABASE_URL, with Django's psycopg pool or persistent connections."""
    config = env_database_url("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/concord").django(
        CONN_MAX_AGE=0 if pool else env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        CONN_HEALTH_CHECKS=True,  # with the pool: a dead connection drops all dead ones (concord.postgresql)
    )
    # A database that does not answer fails a connection attempt after this many seconds
    # (libpq waits for ever by default: requests hung for a minute while PostgreSQL was down).
    config["OPTIONS"].setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=1, maximum=60))
    if pool:
        # Django's psycopg pool: shown (tests/test_routing.py) to keep search_path right per
        # checkout. Recycle connections so one that visited many schemas drops its catalog cache.
        config["OPTIONS"]["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN", 2, minimum=0),
            "max_size": env_int("DATABASE_POOL_MAX", 10, minimum=1),
            "max_lifetime": 600,
            # A request waits at most this long for a connection, then answers 503 (the default,
            # 30 s, held a worker for as long as gunicorn's timeout while the database was down).
            "timeout": env_int("DATABASE_POOL_TIMEOUT", 3, minimum=1, maximum=30),
            # Give up one reconnection attempt after 5 s of back-off; the next request starts a
            # fresh one, so the pool reconnects within seconds of the database coming back
            # (the default, 5 minutes of doubling delays, left it waiting up to a minute).
            "reconnect_timeout": 5,
        }
    return config


DATABASE_POOL = env_bool("DATABASE_POOL", False)
DATABASES = {"default": database_config(pool=DATABASE_POOL)}


def database_owner() -> dict[str, str]:
    """The owner's credentials (DATABASE_OWNER_URL: same host, port and database as DATABASE_URL;
    only the user and password differ). Unset: the DATABASE_URL user owns (development)."""
    if not env_str("DATABASE_OWNER_URL", ""):
        return {}
    owner = env_database_url("DATABASE_OWNER_URL")
    app = DATABASES["default"]
    if (owner.name, owner.host, str(owner.port)) != (app["NAME"], app["HOST"], app["PORT"]):
        raise EnvError("DATABASE_OWNER_URL must name the same host, port and database as DATABASE_URL")
    return {"USER": owner.user, "PASSWORD": owner.password}


# The owner runs migrations and provisioning; DATABASE_URL's user (the app) owns nothing and
# switches to a partnership's role with its schema (concord.db_roles; README "Database roles").
DATABASE_OWNER = database_owner()
DATABASE_APP_USER = DATABASES["default"]["USER"]  # kept: owner-only processes swap the login
# Switch roles with the search path (off only for the benchmarks' baseline and for diagnosis).
DATABASE_ROLES = env_bool("DATABASE_ROLES", True)
# Put before every role name Concord makes, so that two deployments can share a PostgreSQL
# cluster (roles are cluster-wide): e.g. "staging_" gives staging_p_suffolk, staging_concord_public.
DATABASE_ROLE_PREFIX = env_str("DATABASE_ROLE_PREFIX", "")
if not re.fullmatch(r"(|[a-z][a-z0-9_]{0,19})", DATABASE_ROLE_PREFIX):
    raise EnvError("DATABASE_ROLE_PREFIX must be empty or up to 20 lower-case letters, digits and _, from a letter")
# django-tenants' migration router, answering Django's per-query questions itself (tenants.routers).
TENANT_SYNC_ROUTER = "tenants.routers.PartnershipRouter"
DATABASE_ROUTERS = (TENANT_SYNC_ROUTER,)
# The backend under django-tenants': Django's, with a pool that drops all dead connections at once.
ORIGINAL_BACKEND = "concord.postgresql"
# /healthz waits at most this long (seconds) for a connection: a load balancer needs its answer fast.
HEALTHZ_DATABASE_TIMEOUT = 1.0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Passwords ----------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# NCSC guidance: length, a deny-list of common passwords and a guessability estimate (zxcvbn,
# score 3 or more: tenant_apps.accounts.passwords says why); no composition rules, no expiry.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "tenant_apps.accounts.passwords.GuessabilityValidator", "OPTIONS": {"min_score": 3}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]
PASSWORD_RESET_TIMEOUT = 72 * 3600  # invitation and reset links expire after 72 hours
LOGIN_URL = "accounts:sign-in"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:sign-in"

# --- Sessions and cookies (host-only: never set *_COOKIE_DOMAIN) ----------------
# Database sessions, saved at most once a minute for the last-seen clock; a failed clock-only
# save (database read-only or down) does not fail the request (tenant_apps.accounts.sessions).
SESSION_ENGINE = "tenant_apps.accounts.sessions"
SESSION_COOKIE_NAME = "concord_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_NAME = "concord_csrf"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# --- Security headers -----------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# --- Locale: British English, UK time and dates --------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["concord.formats"]  # en_GB: 25 November 2026, 25/11/2026, 14:05
LANGUAGES = [("en-gb", "English (UK)")]

# --- Static files --------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".build" / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "platform" / "concord" / "static",
    BASE_DIR / ".build" / "frontend",  # GOV.UK Frontend, compiled by infra/frontend/build.sh
]

# --- E-mail ---------------------------------------------------------------------
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 1025, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Concord <no-reply@localhost>")

# --- Background jobs (procrastinate, PostgreSQL-backed; its tables live in public) ----
# Workers: `manage.py jobs_worker` (concord.worker). Every job runs inside the schema it carries
# (concord.jobs). A worker heartbeats every JOBS_HEARTBEAT_SECONDS; a periodic job (cron
# JOBS_STALLED_CHECK_CRON; an optional 6th field is seconds) re-queues the running jobs of
# workers silent for JOBS_STALLED_AFTER_SECONDS (killed, or their machine lost).
PROCRASTINATE_IMPORT_PATHS = [
    "concord.jobs",
    "tenant_apps.audit.jobs",
    "tenant_apps.documents.jobs",
    "tenant_apps.outbox.jobs",
    "tenant_apps.tasks.jobs",
    "tenant_apps.assessments.jobs",
]
JOBS_HEARTBEAT_SECONDS = env_int("JOBS_HEARTBEAT_SECONDS", 10, minimum=1, maximum=300)
JOBS_STALLED_AFTER_SECONDS = env_int("JOBS_STALLED_AFTER_SECONDS", 60, minimum=2, maximum=3600)
JOBS_STALLED_CHECK_CRON = env_str("JOBS_STALLED_CHECK_CRON", "* * * * *")
PROCRASTINATE_WORKER_DEFAULTS = {
    "update_heartbeat_interval": JOBS_HEARTBEAT_SECONDS,
    "stalled_worker_timeout": JOBS_STALLED_AFTER_SECONDS,
    "delete_jobs": "successful",  # the outbox row is the record of an e-mail, not the job
}
# `manage.py jobs_worker` (concord.worker) outlives database faults: after a failed run it
# starts again on fresh connections, waiting first_seconds, then twice as long each time up to
# max_seconds; the outage counts as over once a run has lasted stable_seconds.
# (Read from the environment so that the fault tests can run a worker with short waits.)
JOBS_RECONNECT_BACKOFF = {
    "first_seconds": float(env_int("JOBS_RECONNECT_FIRST_SECONDS", 1, minimum=1, maximum=60)),
    "max_seconds": float(env_int("JOBS_RECONNECT_MAX_SECONDS", 20, minimum=1, maximum=600)),
    "stable_seconds": float(env_int("JOBS_RECONNECT_STABLE_SECONDS", 5, minimum=1, maximum=600)),
}
# E-mail delivery (tenant_apps.outbox.mail): up to max_attempts tries, waiting first_wait_seconds and
# then factor times longer each time: 15 s, 27 s, 49 s ... about an hour in all.
MAIL_RETRY = {
    "max_attempts": 10,
    "first_wait_seconds": env_int("MAIL_RETRY_FIRST_WAIT_SECONDS", 15, minimum=1, maximum=3600),
    "factor": 1.8,
}
# Audit events a read-only database refused wait in this folder (one file per process) and
# are replayed by the next successful audit write, or by a periodic job at AUDIT_SPOOL_REPLAY_CRON
# (tenant_apps.audit.spool). Keep it on a local disk that survives restarts.
AUDIT_SPOOL_DIR = env_str("AUDIT_SPOOL_DIR", str(BASE_DIR / ".data" / "audit-spool"))
AUDIT_SPOOL_REPLAY_CRON = "* * * * *"
# The audit trail's hash chain (tenant_apps.audit.chain): every event's HMAC-SHA256 is keyed by
# AUDIT_CHAIN_KEY, read from the environment only and never stored in the database. Development
# and tests derive a fixed, non-secret value; production requires it (settings/production.py).
AUDIT_CHAIN_KEY = env_str("AUDIT_CHAIN_KEY", development_key("concord-audit-chain-development-only"))
# Each active partnership's chain head is anchored in public (shared_apps.audit_anchors) at
# AUDIT_ANCHOR_CRON when it has moved; every chain is verified at AUDIT_VERIFY_CRON.
AUDIT_ANCHOR_CRON = env_str("AUDIT_ANCHOR_CRON", "*/10 * * * *")
AUDIT_VERIFY_CRON = env_str("AUDIT_VERIFY_CRON", "23 2 * * *")
# A send is recorded ("sending", committed) before SMTP; another attempt treats it as dead
# (and sends again, same Message-ID) only once this lease has run out. It must outlast an SMTP
# exchange (a few EMAIL_TIMEOUTs) plus MAIL_RECORD_SECONDS: for that long after the server's
# reply the sender keeps trying, on fresh connections, to record the outcome.
MAIL_SENDING_LEASE_SECONDS = env_int("MAIL_SENDING_LEASE_SECONDS", 300, minimum=1, maximum=86400)
MAIL_RECORD_SECONDS = env_int("MAIL_RECORD_SECONDS", 120, minimum=0, maximum=3600)
# E-mails sent (or given up on) are deleted from the outbox after this many days, by a
# periodic job at OUTBOX_PURGE_CRON (tenant_apps.outbox.jobs); queued ones are kept.
OUTBOX_KEEP_DAYS = env_int("OUTBOX_KEEP_DAYS", 30, minimum=1, maximum=3650)
OUTBOX_PURGE_CRON = "41 3 * * *"
# The daily e-mail of each person's tasks overdue and due today (tenant_apps.tasks.jobs). The cron
# is UTC: 06:30 UTC is 06:30 in winter and 07:30 in summer in London, before the working day.
TASKS_DIGEST_CRON = "30 6 * * *"
# Assessments' review reminders (tenant_apps.assessments.jobs), daily, after the tasks' digest.
ASSESSMENTS_REMINDER_CRON = "45 6 * * *"

# --- Object storage (S3-compatible) -------------------------------------------
AWS_S3_ENDPOINT_URL = env_url("AWS_S3_ENDPOINT_URL", None)
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME", "concord")
AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME", "eu-west-2")  # London: data held in England
AWS_ACCESS_KEY_ID = env_str("AWS_ACCESS_KEY_ID", "")
AWS_SECRET_ACCESS_KEY = env_str("AWS_SECRET_ACCESS_KEY", "")
AWS_S3_OBJECT_PARAMETERS = {"ServerSideEncryption": env_str("AWS_S3_SERVER_SIDE_ENCRYPTION", "AES256")}
AWS_QUERYSTRING_EXPIRE = env_int("AWS_QUERYSTRING_EXPIRE", 60, minimum=1, maximum=60)
AWS_DEFAULT_ACL = None
AWS_S3_FILE_OVERWRITE = False
AWS_QUERYSTRING_AUTH = True  # downloads only by presigned URLs (tenant_apps.documents)
AWS_S3_SIGNATURE_VERSION = "s3v4"  # SigV4 everywhere: X-Amz-Expires in every presigned URL
# "path" for MinIO and other servers addressed by IP or a single host name; AWS S3: "auto".
AWS_S3_ADDRESSING_STYLE = env_choice("AWS_S3_ADDRESSING_STYLE", ("auto", "path", "virtual"), "auto")
# Fail fast when storage is unreachable or frozen: an upload is refused with a clear message
# rather than holding a web worker (botocore's defaults retry 5 times, 60 s timeouts). The
# client's own bound (2 tries of 2 s connect + 5 s per read) caps a call's background thread;
# STORAGE_DEADLINE_SECONDS caps what a request waits for one storage operation in all,
# a slow-drip response included (tenants.storage.bounded_call).
AWS_S3_CLIENT_CONFIG = BotocoreConfig(
    signature_version=AWS_S3_SIGNATURE_VERSION,
    s3={"addressing_style": AWS_S3_ADDRESSING_STYLE},
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 2},
)
STORAGE_DEADLINE_SECONDS = env_int("STORAGE_DEADLINE_SECONDS", 5, minimum=1, maximum=60)
# Storage calls in flight per process (a stuck call counts until botocore gives up on it);
# one more is refused at once, so a frozen store never holds more than this many threads of
# a gunicorn worker (infra/gunicorn.conf.py runs 8): the others keep serving pages.
STORAGE_MAX_CALLS = env_int("STORAGE_MAX_CALLS", 4, minimum=1, maximum=64)
# The storage alias that holds documents' bytes (STORAGES["documents"] in each environment).
DOCUMENTS_STORAGE = {"BACKEND": "tenants.storage.PartnershipS3Storage"}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "documents": DOCUMENTS_STORAGE,
}

# --- Documents (tenant_apps.documents) -------------------------------------------
# Largest upload accepted, in bytes (25 MB). Images are also bounded in pixels, so that a
# small file cannot decode into gigabytes (a decompression bomb).
DOCUMENT_MAX_BYTES = env_int("DOCUMENT_MAX_BYTES", 25 * 1024 * 1024, minimum=1)
DOCUMENT_MAX_IMAGE_PIXELS = 40_000_000
# Objects under <schema>/documents/ with no Document row, older than this, are removed by
# the sweep (documents_sweep_all, run by a periodic job at DOCUMENTS_SWEEP_CRON).
DOCUMENTS_ORPHAN_AGE_SECONDS = 3600
DOCUMENTS_SWEEP_CRON = "17 * * * *"

# --- Malware scanning (ClamAV's daemon, clamd: tenant_apps.documents.scanning) -----
# Every upload is scanned by clamd before it is stored; when clamd cannot be reached, refuses or
# does not answer within CLAMAV_TIMEOUT_SECONDS, the upload is refused (fail closed). clamd is
# reached by its unix socket (CLAMAV_SOCKET) or over TCP (CLAMAV_HOST, CLAMAV_PORT); the socket
# wins when both are set, and with neither every upload is refused. Production requires one;
# development and tests run a clamd of their own (infra/dev/clamav.sh).
CLAMAV_SOCKET = env_str("CLAMAV_SOCKET", "")
CLAMAV_HOST = env_hostname("CLAMAV_HOST") if env_str("CLAMAV_HOST", "") else ""
CLAMAV_PORT = int(env_port("CLAMAV_PORT", "3310"))
CLAMAV_TIMEOUT_SECONDS = env_int("CLAMAV_TIMEOUT_SECONDS", 20, minimum=1, maximum=300)

# --- API -----------------------------------------------------------------------
REST_FRAMEWORK = {
    # An API client's Bearer token first (a request with one is the token's only), else the session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenant_apps.directory.authentication.ApiClientTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["concord.api.permissions.IsVerified"],
    # Bulk-read limits: every API read of a record, search and download counted per person and per
    # partnership in PostgreSQL (tenant_apps.accounts.readlimits); over a limit, 429 with Retry-After.
    "DEFAULT_THROTTLE_CLASSES": ["tenant_apps.accounts.readlimits.ReadLimitThrottle"],
    # JSON with <, > and & escaped (also BaseApi's): no stored text is ever markup in the bytes.
    "DEFAULT_RENDERER_CLASSES": ["concord.api.renderers.EscapedJSONRenderer"],
    # concord.api.parsers.JSONParser: a 400 naming the field for lone surrogates, NUL, deep nesting, 1e999.
    # JSON only: any other body is a 415 (BaseApi); the views that take files add multipart themselves
    # (casework.api: an entry's attachments, an entry created with its files). No form-encoded bodies.
    "DEFAULT_PARSER_CLASSES": ["concord.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "concord.api.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# API clients (tenant_apps.directory: partner systems with a token). Each may make at most
# API_CLIENT_RATE_LIMIT calls per window (counted in PostgreSQL, so across processes); a token's
# expiry is at most API_CLIENT_MAX_DAYS ahead.
API_CLIENT_RATE_LIMIT = env_int("API_CLIENT_RATE_LIMIT", 600, minimum=1, maximum=1_000_000)
API_CLIENT_RATE_WINDOW_SECONDS = 60
API_CLIENT_MAX_DAYS = env_int("API_CLIENT_MAX_DAYS", 365, minimum=1, maximum=3650)
SPECTACULAR_SETTINGS = {
    "TITLE": "Concord API",
    "DESCRIPTION": "Casework for community-safety partnerships. Every path is served per partnership host.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation documents its error answers (400/403/404/409/429) in the one Error shape.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "concord.api.schema.document_error_responses",
    ],
}

# --- Caches: keys carry the schema ---------------------------------------------
_FRAGMENT_ENTRIES = env_int("FRAGMENT_CACHE_ENTRIES", 10000, minimum=0, maximum=1_000_000)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    },
    # Rendered timeline entries, keyed by a digest of what they show (tenant_apps.casework.timeline_html).
    # In the process only: entry text is never written to another server. 0 entries: none kept.
    "fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache"
        if _FRAGMENT_ENTRIES
        else "django.core.cache.backends.dummy.DummyCache",
        "LOCATION": "fragments",
        "TIMEOUT": env_int("FRAGMENT_CACHE_SECONDS", 3600, minimum=1, maximum=86400),
        "OPTIONS": {"MAX_ENTRIES": _FRAGMENT_ENTRIES},
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    },
    # Thumbnails of photos (tenant_apps.documents.services.document_thumbnail), made on their first
    # read: in the process only, like the fragments. 2,000 of at most about 12 KB: under 25 MB a worker.
    "thumbnails": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "thumbnails",
        "TIMEOUT": 86400,
        "OPTIONS": {"MAX_ENTRIES": 2000},
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    },
}

# --- Logging: no request bodies, no personal data --------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # A 5xx's log line ends with the reference its page shows (concord.observability).
    "filters": {"error_reference": {"()": "concord.observability.ErrorReferenceLogFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"filters": ["error_reference"]},
        "django.db.backends": {"level": "WARNING"},
        "procrastinate": {"level": "WARNING"},  # start-up chatter would break one-line command errors
    },
}

# --- Sentry ---------------------------------------------------------------------
SENTRY_DSN = env_url("SENTRY_DSN", None)
SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT", "development")

# --- Links in e-mails and printed output ---------------------------------------
PLATFORM_SCHEME = env_choice("PLATFORM_SCHEME", ("http", "https"), "http")
PLATFORM_PORT = env_port("PLATFORM_PORT", "8000")  # empty: the scheme's default port
# Where `seed_demo` keeps the generated demo password (development only; gitignored).
DEMO_PASSWORD_FILE = BASE_DIR / ".data" / "demo-password"

# --- Second factors ----------------------------------------------------------------
# Fernet keys for TOTP secrets at rest (see concord.crypto). Development and tests use a
# key derived from a fixed seed; production has no default.
FIELD_ENCRYPTION_KEYS = env_fernet_keys("FIELD_ENCRYPTION_KEYS", [development_key("concord-development-only")])
OTP_ISSUER = env_str("OTP_ISSUER", "Concord")
# Brute force (README "Accounts"; counted in public, across partnerships and operators).
# Per (account, source): a source is a trusted device (its cookie) or else a client
# address. After FREE_FAILURES in a row, each further failure makes that source wait
# DELAY_BASE_SECONDS, doubling, at most DELAY_MAX_SECONDS: never the whole account.
SIGN_IN_FREE_FAILURES = 5
SIGN_IN_DELAY_BASE_SECONDS = 60
SIGN_IN_DELAY_MAX_SECONDS = 900
SIGN_IN_FAILURE_MEMORY_SECONDS = 24 * 3600  # failures older than this are forgotten
# Failures from one client address (any accounts, anywhere) within the window before it is throttled.
SIGN_IN_IP_MAX_FAILURES = env_int("SIGN_IN_IP_MAX_FAILURES", 20, minimum=1)
SIGN_IN_IP_WINDOW_SECONDS = 900
# Failures for one account from untrusted sources within the window (NIST 800-63B: at most
# 100) before new devices are refused for it; its trusted devices still sign in. One
# address alone cannot reach it: the address throttle allows 80 an hour.
SIGN_IN_ACCOUNT_MAX_FAILURES = env_int("SIGN_IN_ACCOUNT_MAX_FAILURES", 100, minimum=1, maximum=100)
SIGN_IN_ACCOUNT_WINDOW_SECONDS = 3600
# The device cookie a full sign-in leaves (signed; host-only, so per partnership).
SIGN_IN_DEVICE_COOKIE_NAME = "concord_device"
SIGN_IN_DEVICE_COOKIE_DAYS = 180
SESSION_ABSOLUTE_SECONDS = 12 * 3600
RESET_LINK_SECONDS = 3600  # password reset links; invitations use PASSWORD_RESET_TIMEOUT (72 h)
# Re-authentication (README "When a factor changes"): replacing the authenticator or the backup
# codes needs the password and a current code given within this many seconds.
REAUTH_SECONDS = env_int("REAUTH_SECONDS", 300, minimum=30, maximum=3600)
# Passkeys (WebAuthn, django-otp-webauthn's models and verification, called by accounts.passkeys and
# accounts.services: never its own views). The relying party is the request's host, so a passkey made
# on suffolk.<domain> is refused on norfolk.<domain> and on the platform domain (and lives in its schema).
OTP_WEBAUTHN_HELPER_CLASS = "tenant_apps.accounts.passkeys.PasskeyHelper"
OTP_WEBAUTHN_RP_ID_CALLABLE = "tenant_apps.accounts.passkeys.relying_party_id"
OTP_WEBAUTHN_RP_NAME_CALLABLE = "tenant_apps.accounts.passkeys.relying_party_name"
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False  # a second factor after the password, never instead of it
OTP_WEBAUTHN_EXCEPTION_LOGGER_NAME = ""  # refusals are audited by accounts.services, not logged with tracebacks
# Its check wants a fixed list of origins; PasskeyHelper expects exactly the request's own origin
# (scheme, host, port) instead, one per partnership host.
SILENCED_SYSTEM_CHECKS = ["otp_webauthn.E030"]
# The "this wasn't me" link in the e-mail each change of a factor sends (single-use).
NOT_ME_LINK_SECONDS = 7 * 86400
