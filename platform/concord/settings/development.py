"""Local development: works with no variables set. Never used in production."""

from concord.env import env_str
from concord.settings.base import *  # noqa: F403
from concord.settings.base import SENTRY_DSN, SENTRY_ENVIRONMENT

DEBUG = True
# A fixed key is safe only here: development data is fictional and local.
SECRET_KEY = env_str("SECRET_KEY", "development-only-not-secret-" + "x" * 32)

from concord.observability import init_sentry  # noqa: E402

init_sentry(SENTRY_DSN, environment=SENTRY_ENVIRONMENT)
