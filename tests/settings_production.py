"""Production settings for tests that start gunicorn: everything as deployed (the pool,
HTTPS, HSTS, secure cookies, timeouts) except two things a test database needs:

- static files are served from the finders (a test run collects nothing, and the
  manifest storage needs collectstatic);
- MD5 can verify (never make) the cast's passwords, which the test settings hashed
  with MD5 for speed.
"""

from concord.settings.production import *  # noqa: F403
from concord.settings.production import PASSWORD_HASHERS, STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
PASSWORD_HASHERS = [*PASSWORD_HASHERS, "django.contrib.auth.hashers.MD5PasswordHasher"]
