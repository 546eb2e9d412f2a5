"""Session policy and the second-factor rule, for every request after authentication."""

from __future__ import annotations

import time

from django.contrib import messages
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from tenant_apps.accounts import access
from tenant_apps.accounts.services import (
    SESSION_LAST_SEEN,
    SESSION_SIGNED_IN_AT,
    has_second_factor,
    password_change_required,
    session_timeouts,
)

_LAST_SEEN_WRITE_SECONDS = 60  # refresh the idle clock at most once a minute (one write)


class SessionPolicyMiddleware:
    """Idle timeout (per partnership), absolute timeout (12 hours), and sessions that
    started before the user's ``sessions_valid_after`` (sign out everywhere, reset,
    deactivation) end here: the request continues as anonymous."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if session.get("_auth_user_id") is not None:
            now = time.time()
            started = session.get(SESSION_SIGNED_IN_AT)
            last_seen = session.get(SESSION_LAST_SEEN, started)
            idle, absolute = session_timeouts()
            user = request.user
            valid_after = getattr(user, "sessions_valid_after", None)
            expired = (
                started is None
                or now - started > absolute
                or now - last_seen > idle
                or (valid_after is not None and started < valid_after.timestamp())
                or not user.is_authenticated  # deactivated: the backend no longer loads the user
            )
            if expired:
                logout(request)
                request.concord_session_expired = True
            elif now - last_seen > _LAST_SEEN_WRITE_SECONDS:
                session[SESSION_LAST_SEEN] = now
        return self.get_response(request)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _is_token_api_call(request, view_func) -> bool:
    """An API view (DRF's, which authenticates the token itself: 401 for a bad one) called with
    ``Authorization: Bearer``. Pages never are: a token opens the API only."""
    scheme = request.META.get("HTTP_AUTHORIZATION", "").split(" ", 1)[0]
    return _is_api(request) and scheme.lower() == "bearer" and getattr(view_func, "cls", None) is not None


# What a session that must change its password may still reach (2.1.7): the change itself
# and signing out.
_WHILE_PASSWORD_CHANGE_REQUIRED = {"accounts:password-change", "accounts:sign-out", "accounts:sign-out-everywhere"}


def _api_refusal(code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"status": 403, "code": code, "message": message}}, status=403)


class RequireSecondFactorMiddleware:
    """Fail closed: every view needs a session verified by the second factor, unless it
    is marked ``public`` or ``password_only`` (``tenant_apps.accounts.access``), or it is an
    API view called with an API client's token (the API's token authentication and its
    ``IsVerified`` decide; the session, if any, is ignored there)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        mark = access.access_of(view_func)
        if mark == access.PUBLIC or _is_token_api_call(request, view_func):
            return None
        user = request.user
        if not user.is_authenticated:
            if _is_api(request):
                return _api_refusal("not_authenticated", "Sign in with your password and second factor.")
            if getattr(request, "concord_session_expired", False):
                messages.info(request, "You were signed out because your session expired. Sign in again.")
            sign_in = reverse("accounts:sign-in")
            return redirect(f"{sign_in}?{urlencode({'next': request.get_full_path()})}")
        if user.is_verified():
            return self._password_change_first(request)
        if mark == access.PASSWORD_ONLY:
            return None
        if _is_api(request):
            return _api_refusal("second_factor_required", "Give your second factor before using the API.")
        step = "accounts:two-factor" if has_second_factor(user) else "accounts:two-factor-setup"
        return redirect(reverse(step))

    @staticmethod
    def _password_change_first(request):
        """A session whose password failed today's rules at sign-in: the change-password page
        and signing out only, until the password is changed (API tokens never get here)."""
        if not password_change_required(request):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in _WHILE_PASSWORD_CHANGE_REQUIRED:
            return None
        if _is_api(request):
            return _api_refusal(
                "password_change_required", "Change your password at /account/password/ before using the API."
            )
        messages.warning(
            request,
            "Your password no longer meets the partnership's rules: it is too easy to guess. "
            "Choose a new one before you go on.",
        )
        return redirect(reverse("accounts:password-change"))
