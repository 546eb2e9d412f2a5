"""The admin area's gate: partnership admins only.

Anonymous and second-factor-unverified requests never get here (the accounts
middleware sends them to sign in); everyone else who is not an active
partnership admin gets the 403 page, before the view reads anything. The
selectors and services check again (fail closed).
"""

from __future__ import annotations

import functools

from django.shortcuts import render

from tenant_apps.directory.selectors import may_administer


def forbidden(request):
    return render(request, "directory/403.html", status=403)


def partnership_admin_required(view):
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not may_administer(request.user):
            return forbidden(request)
        return view(request, *args, **kwargs)

    return wrapped
