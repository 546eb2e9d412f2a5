"""Passkeys (WebAuthn) as a second factor: the glue to django-otp-webauthn's models and verification.

Only its models (``WebAuthnCredential``: a django-otp device per passkey, in the user's schema)
and its helper's "begin"/"complete" logic are used, here; never its views, which sign the user in
themselves. ``accounts.services`` decides, charges the sign-in limits, audits and e-mails.

- ``relying_party_id(request)``: the request's host without its port (``suffolk.localhost``):
  a passkey made on one partnership's host is refused on another's and on the platform domain.
- ``PasskeyHelper``: the package's helper, expecting exactly the request's own origin.
- ``registration_options(request=)`` / ``registration_verify(request=, credential=)``: adding one.
- ``assertion_options(request=)`` / ``assertion_verify(request=, credential=)``: using one.
  Each ``*_options`` keeps its challenge in the session; each ``*_verify`` takes it out first,
  so a challenge is answered once; both verify return None (or raise ``PasskeyRefused``).
- ``passkeys_of(user)``, ``access_passkey(user=, passkey_id=)``: the user's own passkeys only.
"""

from __future__ import annotations

import json

from django.http import Http404
from django.http.request import split_domain_port
from django.utils import timezone
from django_otp_webauthn import exceptions as package_exceptions
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from django_tenants.utils import get_public_schema_name
from webauthn import base64url_to_bytes, verify_authentication_response
from webauthn.helpers import exceptions as webauthn_exceptions
from webauthn.helpers import parse_authentication_credential_json

from tenant_apps.accounts.models import User

SESSION_REGISTRATION = "concord_passkey_registration"
SESSION_ASSERTION = "concord_passkey_assertion"
NAME_MAX_LENGTH = WebAuthnCredential._meta.get_field("name").max_length  # 64


class PasskeyRefused(Exception):
    """The browser's answer did not verify (or there was no challenge waiting for it)."""


def relying_party_id(request) -> str:
    """The WebAuthn relying party: the host this request came to (already checked against
    ALLOWED_HOSTS and routed to its partnership), without the port."""
    host, _port = split_domain_port(request.get_host())
    return host


def relying_party_name(request) -> str:
    """What a browser may show while making a passkey: "Concord: <partnership>" or "Concord"."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == get_public_schema_name():
        return "Concord"
    return f"Concord: {tenant.name}"


class PasskeyHelper(WebAuthnHelper):
    """django-otp-webauthn's helper, with the origin the browser must report being this
    request's own (scheme, host and port): one relying party per partnership host."""

    def get_allowed_origins(self) -> list[str]:
        return [f"{self.request.scheme}://{self.request.get_host()}"]

    def authenticate_complete(self, user, state: dict, data: dict) -> WebAuthnCredential:
        """The package's verification, with its last step made a claim: the counter and the
        last-used time are written by one conditional UPDATE on the values read, so of two
        requests answering with the same assertion at the same moment (a copied session, a
        passkey whose counter stays 0) only one is accepted."""
        credential = parse_authentication_credential_json(data)
        device = WebAuthnCredential.objects.filter(
            credential_id_sha256=WebAuthnCredential.get_credential_id_sha256(credential.raw_id)
        ).first()
        if device is None or device.user_id != user.pk:
            raise PasskeyRefused("not one of this user's passkeys here")
        verified = verify_authentication_response(
            credential=credential,
            credential_current_sign_count=device.sign_count,
            credential_public_key=device.public_key,
            expected_challenge=base64url_to_bytes(state["challenge"]),
            expected_rp_id=self.get_relying_party_domain(),
            expected_origin=self.get_allowed_origins(),
            require_user_verification=state["require_user_verification"],
        )
        now = timezone.now()
        claimed = WebAuthnCredential.objects.filter(
            pk=device.pk, sign_count=device.sign_count, last_used_at=device.last_used_at
        ).update(sign_count=verified.new_sign_count, backup_state=verified.credential_backed_up, last_used_at=now)
        if claimed != 1:
            raise PasskeyRefused("answered twice")
        device.sign_count, device.backup_state, device.last_used_at = (
            verified.new_sign_count,
            verified.credential_backed_up,
            now,
        )
        return device

    def get_credential_name(self, user) -> str:
        return user.email

    def get_credential_display_name(self, user) -> str:
        return f"{user.get_full_name()} ({user.email})" if user.get_full_name() else user.email


def _helper(request) -> PasskeyHelper:
    return PasskeyHelper(request=request)


def _take_state(request, key: str) -> dict:
    """The challenge this session is waiting on, removed (and the session saved) before anything
    else: whatever happens next, it cannot be answered twice."""
    state = request.session.pop(key, None)
    request.session.save()
    if not isinstance(state, dict) or "challenge" not in state:
        raise PasskeyRefused("no challenge is waiting")
    return state


def _parsed(credential: str) -> dict:
    try:
        data = json.loads(credential or "")
    except (ValueError, TypeError):
        raise PasskeyRefused("not JSON") from None
    if not isinstance(data, dict):
        raise PasskeyRefused("not a credential")
    return data


_VERIFY_ERRORS = (
    webauthn_exceptions.WebAuthnException,
    package_exceptions.OTPWebAuthnApiError,
    ValueError,
    TypeError,
    KeyError,
)


def registration_options(*, request) -> dict:
    """Options for ``navigator.credentials.create`` for the signed-in user (their passkeys
    excluded), the challenge kept in the session."""
    options, state = _helper(request).register_begin(user=request.user)
    request.session[SESSION_REGISTRATION] = state
    return options


def registration_verify(*, request, credential: str) -> WebAuthnCredential:
    """Check the browser's new credential against the session's challenge, this host's relying
    party and origin; save it (confirmed) for the signed-in user. ``PasskeyRefused`` otherwise."""
    state = _take_state(request, SESSION_REGISTRATION)
    data = _parsed(credential)
    try:
        return _helper(request).register_complete(user=request.user, state=state, data=data)
    except _VERIFY_ERRORS as error:
        raise PasskeyRefused(type(error).__name__) from None


def assertion_options(*, request) -> dict:
    """Options for ``navigator.credentials.get``: the signed-in (password-only) user's passkeys
    in this schema, the challenge kept in the session."""
    options, state = _helper(request).authenticate_begin(user=request.user, require_user_verification=False)
    request.session[SESSION_ASSERTION] = state
    return options


def assertion_verify(*, request, credential: str) -> WebAuthnCredential:
    """The passkey that signed this session's challenge for this host, if it is one of the
    user's confirmed passkeys here (its signature counter updated). ``PasskeyRefused`` otherwise."""
    state = _take_state(request, SESSION_ASSERTION)
    data = _parsed(credential)
    try:
        device = _helper(request).authenticate_complete(user=request.user, state=state, data=data)
    except PasskeyRefused:
        raise
    except _VERIFY_ERRORS as error:
        raise PasskeyRefused(type(error).__name__) from None
    if not device.confirmed or device.user_id != request.user.pk:
        raise PasskeyRefused("not usable")
    return device


def passkeys_of(user: User) -> list[WebAuthnCredential]:
    """The user's passkeys, oldest first."""
    return list(WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at", "pk"))


def has_passkey(user: User) -> bool:
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()


def access_passkey(*, user: User, passkey_id: int) -> WebAuthnCredential:
    """One of ``user``'s own passkeys; 404 alike for another's and for none."""
    passkey = WebAuthnCredential.objects.filter(user=user, pk=passkey_id).first()
    if passkey is None:
        raise Http404("No such passkey.")
    return passkey
