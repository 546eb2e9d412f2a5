"""Which views a request may reach before it is fully signed in.

Every view requires a session verified by the second factor unless it is marked
here. Marks are read by ``RequireSecondFactorMiddleware`` (and the API's default
permission), so a view added later is protected without anyone remembering.
"""

from __future__ import annotations

PUBLIC = "public"  # anyone: sign-in, password reset, set password from a link
PASSWORD_ONLY = "password_only"  # noqa: S105 - a mark, not a password: enrol or give the second factor

ACCESS_ATTRIBUTE = "concord_access"


def public(view):
    setattr(view, ACCESS_ATTRIBUTE, PUBLIC)
    return view


def password_only(view):
    setattr(view, ACCESS_ATTRIBUTE, PASSWORD_ONLY)
    return view


def access_of(view_func) -> str | None:
    """The mark of a view function, a class-based view or a DRF view; None means full sign-in."""
    for candidate in (view_func, getattr(view_func, "view_class", None), getattr(view_func, "cls", None)):
        mark = getattr(candidate, ACCESS_ATTRIBUTE, None)
        if mark is not None:
            return mark
    return None
