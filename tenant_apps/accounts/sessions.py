"""The session engine (``SESSION_ENGINE``): Django's database sessions, kind to a failing database.

``SessionPolicyMiddleware`` writes a session only to move its last-seen clock, at most
once a minute. When that write fails because the database is read-only or unreachable,
the request that was only reading goes on (the clock moves at a later request) instead
of Django's bare 400 "session was deleted". Any other change that cannot be saved (a
sign-in, a second factor, a stored ``next`` page) still fails, as a clear 503
(``concord.views.server_error``): a session is never silently left behind.
"""

from __future__ import annotations

import logging

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

from concord.postgresql.faults import database_fault
from tenant_apps.accounts.services import SESSION_LAST_SEEN

logger = logging.getLogger(__name__)


class SessionStore(DatabaseSessionStore):
    def load(self):
        data = super().load()
        self._as_loaded = dict(data)
        return data

    def save(self, must_create=False):
        try:
            super().save(must_create=must_create)
        except UpdateError as exc:
            fault = database_fault(exc.__context__)
            if fault is None:
                raise  # the session was deleted meanwhile: Django's own answer
            if self._only_the_clock_moved():
                logger.warning("session: last-seen time not saved (database %s)", fault)
                return
            raise exc.__context__ from None

    def _only_the_clock_moved(self) -> bool:
        loaded = getattr(self, "_as_loaded", None)
        if loaded is None:
            return False

        def without_clock(data):
            return {key: value for key, value in data.items() if key != SESSION_LAST_SEEN}

        return without_clock(self._session) == without_clock(loaded)
