"""Test settings: real PostgreSQL, fast password hashing, no pool."""

from concord.env import env_bool, env_int
from concord.settings.base import *  # noqa: F403
from concord.settings.base import DOCUMENTS_STORAGE
from concord.settings.base import PASSWORD_HASHERS as PRODUCTION_PASSWORD_HASHERS

DEBUG = False
SECRET_KEY = "test-only-not-secret-" + "y" * 40
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; Argon2 is tested explicitly
# The sign-in timing test (tests/test_lock_concurrency.py) serves with the production hashers.
if env_bool("TEST_PRODUCTION_HASHERS", False):
    PASSWORD_HASHERS = PRODUCTION_PASSWORD_HASHERS
# Off in-process (tests change partnerships under the client's feet); the multi-worker
# test passes its own value to the servers it starts.
TENANT_CACHE_SECONDS = env_int("TENANT_CACHE_SECONDS", 0, minimum=0, maximum=60)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # Documents: S3 against the moto server that the `s3` fixture (tests/s3.py) starts on
    # loopback. Without the fixture the endpoint is a closed port: nothing reaches real AWS.
    "documents": DOCUMENTS_STORAGE,
}
AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"
AWS_ACCESS_KEY_ID = "testing"
AWS_SECRET_ACCESS_KEY = "testing"  # noqa: S105 - moto accepts any credentials
STATIC_ROOT = None  # nothing collected in tests: WhiteNoise serves from the finders
WHITENOISE_USE_FINDERS = True  # serve static files from STATICFILES_DIRS (.build/frontend), no collectstatic
