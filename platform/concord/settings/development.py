"""Local development: works with no variables set. Never used in production."""

from concord.env import env_str, env_url
from concord.settings.base import *  # noqa: F403
from concord.settings.base import BASE_DIR, CLAMAV_HOST, CLAMAV_SOCKET, SENTRY_DSN, SENTRY_ENVIRONMENT

DEBUG = True
# A fixed key is safe only here: development data is fictional and local.
SECRET_KEY = env_str("SECRET_KEY", "development-only-not-secret-" + "x" * 32)

# Documents go to S3 as in production: `make run` starts an S3-compatible server (moto)
# on 127.0.0.1:9000 unless AWS_S3_ENDPOINT_URL names another, and creates the bucket.
AWS_S3_ENDPOINT_URL = env_url("AWS_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
AWS_ACCESS_KEY_ID = env_str("AWS_ACCESS_KEY_ID", "development")
AWS_SECRET_ACCESS_KEY = env_str("AWS_SECRET_ACCESS_KEY", "development")

# Malware scanning: `make run` starts a clamd of its own on this socket (infra/dev/clamav.sh).
if not CLAMAV_SOCKET and not CLAMAV_HOST:
    CLAMAV_SOCKET = str(BASE_DIR / ".build" / "clamav" / "clamd.sock")

from concord.observability import init_sentry  # noqa: E402

init_sentry(SENTRY_DSN, environment=SENTRY_ENVIRONMENT)
