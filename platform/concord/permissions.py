"""API permissions. Only rest_framework.permissions is imported here (DRF loads this early)."""

from rest_framework import permissions


class IsVerified(permissions.BasePermission):
    """Signed in with a password and a second factor: the default for every API view.

    A password-only session is refused like an anonymous one. The middleware
    refuses it first; this is the second layer.
    """

    message = "Sign in with your password and second factor."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and getattr(user, "is_verified", lambda: False)())
