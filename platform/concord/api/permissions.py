"""Who may call an API view: a verified user; writes by writers only.

DRF imports this while it defines ``APIView`` (``DEFAULT_PERMISSION_CLASSES``): only
``rest_framework.permissions`` is imported here, never a module that subclasses ``APIView``.
"""

from __future__ import annotations

from rest_framework import permissions

from concord.api.clients import client_of


class IsVerified(permissions.BasePermission):
    """Signed in with a password and a second factor, or an API client's token: the default for
    every API view.

    A password-only session is refused like an anonymous one. The middleware
    refuses it first; this is the second layer. A token request (``request.auth`` a
    ``concord.api.clients.ClientCredential``, set by the token's authentication class) is
    verified by the token itself: its service account has no password and no second factor.
    """

    message = "Sign in with your password and second factor."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if client_of(request) is not None:
            return True
        return bool(getattr(user, "is_verified", lambda: False)())


class WritersOnly(permissions.BasePermission):
    """Viewers (the read-only role) read; any other method is refused before input is even
    parsed (fails closed)."""

    message = "Viewers cannot change records."

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or not request.user.is_read_only
