"""Test settings: real PostgreSQL, fast password hashing, no pool."""

from concord.settings.base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-not-secret-" + "y" * 40
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; Argon2 is tested explicitly
TENANT_CACHE_SECONDS = 0
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve static files from STATICFILES_DIRS (.build/frontend), no collectstatic
