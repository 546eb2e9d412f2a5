"""The admin area's gate: partnership admins only.

Anonymous and second-factor-unverified requests never get here (the accounts
middleware sends them to sign in); everyone else who is not an active
partnership admin gets the 403 page, before the view reads anything. The
selectors and services check again (fail closed).
"""

from __future__ import annotations

import functools

from concord.pages import forbidden
from tenant_apps.directory.selectors import may_administer

FORBIDDEN_PAGE = "directory/403.html"


def partnership_admin_required(view):
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not may_administer(request.user):
            return forbidden(request, FORBIDDEN_PAGE)
        return view(request, *args, **kwargs)

    return wrapped
