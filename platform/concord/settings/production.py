"""Production: refuses to start without a real SECRET_KEY; HTTPS everywhere."""

from concord.env import EnvError, env_bool, env_choice, env_fernet_keys, env_int, env_port, env_str
from concord.settings.base import *  # noqa: F403
from concord.settings.base import (
    CLAMAV_HOST,
    CLAMAV_SOCKET,
    DOCUMENTS_STORAGE,
    SENTRY_DSN,
    SENTRY_ENVIRONMENT,
    database_config,
)

DEBUG = False
SECRET_KEY = env_str("SECRET_KEY")
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or "not-secret" in SECRET_KEY:
    raise EnvError("SECRET_KEY must be a random value of at least 50 characters in production")

PLATFORM_SCHEME = env_choice("PLATFORM_SCHEME", ("http", "https"), "https")
PLATFORM_PORT = env_port("PLATFORM_PORT", "")

FIELD_ENCRYPTION_KEYS = env_fernet_keys("FIELD_ENCRYPTION_KEYS")  # required: no default in production
AUDIT_CHAIN_KEY = env_str("AUDIT_CHAIN_KEY")  # required: no default in production (the chain's HMAC key)
if len(AUDIT_CHAIN_KEY) < 32 or len(set(AUDIT_CHAIN_KEY)) < 5:
    raise EnvError("AUDIT_CHAIN_KEY must be a random value of at least 32 characters in production")

# Django's psycopg pool by default in production (never PgBouncer in transaction mode).
DATABASE_POOL = env_bool("DATABASE_POOL", True)
DATABASES = {"default": database_config(pool=DATABASE_POOL)}

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 63072000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-concord_session"
CSRF_COOKIE_NAME = "__Host-concord_csrf"
SIGN_IN_DEVICE_COOKIE_NAME = "__Host-concord_device"

# Uploads are scanned by clamd before they are stored, and refused when it cannot be reached:
# production names its clamd (clamav-daemon, signatures kept current by freshclam).
if not CLAMAV_SOCKET and not CLAMAV_HOST:
    raise EnvError(
        "CLAMAV_SOCKET (or CLAMAV_HOST and CLAMAV_PORT) must be set in production: uploads are scanned by clamd"
    )

STORAGES = {
    "default": {"BACKEND": "tenants.storage.PartnershipS3Storage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    "documents": DOCUMENTS_STORAGE,
}

from concord.observability import init_sentry  # noqa: E402

init_sentry(SENTRY_DSN, environment=SENTRY_ENVIRONMENT)
