"""Sign-in, second factors, invitations and resets: every write about accounts.

Each function is keyword-only, audits what it did through the audit service,
and sends e-mail through the job queue in the same transaction as its data.
Nothing here logs or audits a password, a code or a secret.
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

import django_otp
from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tenant_apps.accounts.models import (
    BackupCode,
    BackupCodeDevice,
    FailedSignIn,
    SecuritySettings,
    TOTPDevice,
    User,
    normalise_backup_code,
)
from tenant_apps.accounts.tokens import invitation_tokens, reset_tokens

SESSION_SIGNED_IN_AT = "concord_signed_in_at"
SESSION_LAST_SEEN = "concord_last_seen"
BACKUP_CODE_COUNT = 10


class SignInRefused(Exception):
    """Shown to the user as it is; never says whether a password was right."""


def _audit(**kwargs) -> None:
    from tenant_apps.audit.services import audit_record

    audit_record(**kwargs)


def _mail(**kwargs) -> None:
    from concord.mail import mail_send_later

    mail_send_later(**kwargs)


def absolute_url(path: str) -> str:
    """An address on the current host: the partnership's, or the platform's in public."""
    schema = connection.schema_name
    host = settings.PLATFORM_DOMAIN if schema == "public" else f"{schema}.{settings.PLATFORM_DOMAIN}"
    port = f":{settings.PLATFORM_PORT}" if settings.PLATFORM_PORT else ""
    return f"{settings.PLATFORM_SCHEME}://{host}{port}{path}"


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"  # noqa: S104 - a placeholder address, never bound


# --- Brute force ------------------------------------------------------------------------


def _ip_throttled(ip: str) -> bool:
    since = timezone.now() - timedelta(seconds=settings.SIGN_IN_IP_WINDOW_SECONDS)
    return FailedSignIn.objects.filter(ip_address=ip, at__gte=since).count() >= settings.SIGN_IN_IP_MAX_FAILURES


def _wait_message(until) -> str:
    minutes = max(1, int((until - timezone.now()).total_seconds() + 59) // 60)
    unit = "minute" if minutes == 1 else "minutes"
    return f"This account is locked after too many failed attempts. Wait {minutes} {unit}, then try again."


def _refuse_if_throttled(request, user: User | None) -> None:
    if _ip_throttled(client_ip(request)):
        _audit(action="auth.throttled", request=request, actor=user, summary="too many failures from this address")
        raise SignInRefused("Too many failed attempts from your network. Wait 15 minutes, then try again.")
    if user is not None and user.is_locked():
        _audit(action="auth.sign_in_refused_locked", request=request, actor=user, object_type="user", object_id=user.pk)
        raise SignInRefused(_wait_message(user.locked_until))


def _record_failure(request, user: User | None, *, what: str) -> None:
    FailedSignIn.objects.create(ip_address=client_ip(request))
    if user is None:
        _audit(action="auth.sign_in_failed", request=request, summary=f"{what}: no active account with that address")
        return
    user.failed_attempts += 1
    fields = ["failed_attempts"]
    _audit(action="auth.sign_in_failed", request=request, actor=user, object_type="user", object_id=user.pk,
           summary=f"wrong {what} ({user.failed_attempts} in a row)")  # fmt: skip
    if user.failed_attempts >= settings.SIGN_IN_MAX_FAILURES:
        seconds = min(settings.SIGN_IN_LOCK_BASE_SECONDS * 2**user.lock_count, settings.SIGN_IN_LOCK_MAX_SECONDS)
        user.locked_until = timezone.now() + timedelta(seconds=seconds)
        user.lock_count += 1
        user.failed_attempts = 0
        fields += ["locked_until", "lock_count"]
        _audit(action="auth.locked", request=request, actor=user, object_type="user", object_id=user.pk,
               summary=f"locked for {seconds // 60 or 1} minute(s) after repeated failures")  # fmt: skip
    user.save(update_fields=fields)


def _clear_failures(user: User) -> None:
    if user.failed_attempts or user.lock_count or user.locked_until:
        user.failed_attempts = 0
        user.lock_count = 0
        user.locked_until = None
        user.save(update_fields=["failed_attempts", "lock_count", "locked_until"])


# --- Signing in -------------------------------------------------------------------------


def _start_session(request) -> None:
    now = time.time()
    request.session[SESSION_SIGNED_IN_AT] = now
    request.session[SESSION_LAST_SEEN] = now


def sign_in_with_password(*, request, email: str, password: str) -> User:
    """First factor. On success the session is new (rotated) but not yet verified."""
    email = (email or "").strip().lower()
    user = User.objects.filter(email=email, is_active=True).first()
    _refuse_if_throttled(request, user)
    authenticated = authenticate(request, username=email, password=password)
    if authenticated is None:
        _record_failure(request, user, what="password")
        user = User.objects.filter(pk=user.pk).first() if user else None
        if user is not None and user.is_locked():
            raise SignInRefused(_wait_message(user.locked_until))
        raise SignInRefused("Enter a correct e-mail address and password.")
    login(request, authenticated)  # rotates the session key
    _start_session(request)
    _audit(action="auth.sign_in", request=request, actor=authenticated, object_type="user",
           object_id=authenticated.pk, summary="password accepted; second factor next")  # fmt: skip
    return authenticated


def is_verified(user) -> bool:
    """Whether this request's user gave a second factor (False for a user just signed in)."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def confirmed_devices(user: User) -> list:
    return [
        *TOTPDevice.objects.filter(user=user, confirmed=True),
        *BackupCodeDevice.objects.filter(user=user, confirmed=True),
    ]


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def verify_second_factor(*, request, token: str):
    """Second factor: a code from the authenticator app or an unused backup code."""
    user = request.user
    _refuse_if_throttled(request, user)
    token = (token or "").strip()
    for device in confirmed_devices(user):
        if device.verify_token(token):
            django_otp.login(request, device)
            request.session.cycle_key()
            _clear_failures(user)
            summary = "authenticator code accepted"
            if isinstance(device, BackupCodeDevice):
                summary = f"backup code used; {device.remaining()} left"
            _audit(action="auth.second_factor", request=request, actor=user, object_type="user",
                   object_id=user.pk, summary=summary)  # fmt: skip
            return device
    _record_failure(request, user, what="code")
    user.refresh_from_db(fields=["locked_until"])
    if user.is_locked():
        logout(request)
        raise SignInRefused(_wait_message(user.locked_until))
    raise SignInRefused("Enter the 6-digit code from your authenticator app, or one of your backup codes.")


def sign_out(*, request) -> None:
    if request.user.is_authenticated:
        _audit(action="auth.sign_out", request=request, object_type="user", object_id=request.user.pk)
    logout(request)


def sign_out_everywhere(*, request) -> None:
    """End every session of this user, this one included."""
    user = request.user
    user.sessions_valid_after = timezone.now()
    user.save(update_fields=["sessions_valid_after"])
    _audit(action="auth.sign_out_everywhere", request=request, object_type="user", object_id=user.pk)
    logout(request)


_IDLE_CACHE_KEY = "accounts:session-idle-seconds"  # the cache key function adds the schema


def session_timeouts() -> tuple[int, int]:
    """(idle, absolute) limits in seconds for the current partnership (cached 30 s per process)."""
    idle = cache.get(_IDLE_CACHE_KEY)
    if idle is None:
        idle = SecuritySettings.current().session_idle_minutes * 60
        cache.set(_IDLE_CACHE_KEY, idle, 30)
    return idle, settings.SESSION_ABSOLUTE_SECONDS


def security_settings_update(*, request, session_idle_minutes: int) -> SecuritySettings:
    """A partnership admin sets the idle timeout (5 to 480 minutes)."""
    current = SecuritySettings.current()
    before = current.session_idle_minutes
    current.session_idle_minutes = session_idle_minutes
    current.full_clean()
    current.save()
    cache.delete(_IDLE_CACHE_KEY)
    _audit(action="settings.session_timeout_changed", request=request, object_type="security_settings",
           object_id=current.pk, summary=f"idle timeout {before} -> {session_idle_minutes} minutes",
           changes={"session_idle_minutes": [before, session_idle_minutes]})  # fmt: skip
    return current


# --- Enrolment ------------------------------------------------------------------------


def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """A new, unconfirmed authenticator for the user (any earlier unconfirmed one is dropped)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice(user=user, name="Authenticator app", confirmed=False)
    device.set_key(secrets.token_bytes(20))
    device.save()
    return device


def totp_provisioning_uri(*, device: TOTPDevice, partnership_name: str) -> str:
    import base64
    from urllib.parse import quote, urlencode

    issuer = f"{settings.OTP_ISSUER} {partnership_name}".strip()
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    label = quote(f"{issuer}:{device.user.email}")
    query = urlencode({"secret": secret, "issuer": issuer, "digits": device.digits, "period": device.step})
    return f"otpauth://totp/{label}?{query}"


def totp_secret_text(device: TOTPDevice) -> str:
    import base64

    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_enrolment_confirm(*, request, device: TOTPDevice, token: str) -> list[str]:
    """Confirm the new authenticator with its first code; returns fresh backup codes.

    A wrong code counts towards the lock like any other (recorded outside the
    transaction that confirms, so a refusal is never rolled back).
    """
    _refuse_if_throttled(request, request.user)
    if not device.verify_token(token):
        _record_failure(request, request.user, what="enrolment code")
        raise SignInRefused("That code did not match. Enter the current 6-digit code from your app.")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=device.user, confirmed=True).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = backup_codes_generate(user=device.user)
        _clear_failures(device.user)
        _audit(action="otp.enrolled", request=request, object_type="user", object_id=device.user.pk,
               summary="authenticator app enrolled; backup codes issued")  # fmt: skip
    django_otp.login(request, device)
    request.session.cycle_key()
    return codes


def _new_backup_code() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
    raw = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def backup_codes_generate(*, user: User) -> list[str]:
    """Replace the user's backup codes with ten new ones, returned once and stored hashed."""
    from concord import crypto

    BackupCodeDevice.objects.filter(user=user).delete()
    device = BackupCodeDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    codes = [_new_backup_code() for _ in range(BACKUP_CODE_COUNT)]
    BackupCode.objects.bulk_create(
        BackupCode(device=device, code_hash=crypto.keyed_hash(normalise_backup_code(c), purpose="backup-code"))
        for c in codes
    )
    return codes


def backup_codes_regenerate(*, request) -> list[str]:
    codes = backup_codes_generate(user=request.user)
    _audit(action="otp.backup_codes_regenerated", request=request, object_type="user", object_id=request.user.pk)
    return codes


@transaction.atomic
def second_factor_reset(*, request, user: User) -> None:
    """A partnership admin clears a user's second factors: they enrol again at next sign-in."""
    TOTPDevice.objects.filter(user=user).delete()
    BackupCodeDevice.objects.filter(user=user).delete()
    user.sessions_valid_after = timezone.now()
    user.save(update_fields=["sessions_valid_after"])
    _audit(action="otp.reset", request=request, object_type="user", object_id=user.pk,
           summary=f"second factor reset for {user.email}")  # fmt: skip


# --- Invitations and resets -------------------------------------------------------------


def _link(view_name: str, user: User, token: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return absolute_url(reverse(view_name, kwargs={"uidb64": uid, "token": token}))


def invitation_link(user: User) -> str:
    return _link("accounts:set-password", user, invitation_tokens.make_token(user))


def invitation_send(*, request, user: User, partnership_name: str) -> str:
    """E-mail the user a single-use link to set their password (72 hours); returns the link."""
    user.invited_at = timezone.now()
    user.save(update_fields=["invited_at"])
    link = invitation_link(user)
    _mail(
        to=[user.email],
        subject=f"You have been invited to {partnership_name} on Concord",
        body=(
            f"Hello {user.get_short_name()},\n\n"
            f"You have been given an account on {partnership_name}'s Concord.\n\n"
            f"Set your password with this link. It works once and expires in 72 hours:\n{link}\n\n"
            "You will then set up an authenticator app on your phone: every sign-in needs "
            "your password and a code from the app.\n\n"
            "If you were not expecting this, ignore this e-mail.\n"
        ),
    )
    _audit(action="user.invited", request=request, object_type="user", object_id=user.pk,
           summary=f"invitation sent to {user.email}")  # fmt: skip
    return link


_EMAIL_TAKEN = "Someone in this partnership already has this e-mail address (an account or an invitation)."


def user_invite(*, request, email: str, full_name: str, role: str, partnership_name: str) -> User:
    """Create an account without a password and send its invitation.

    Raises ``ValidationError`` naming the field for bad input or an address already
    in use, also when another request invites the same address at the same moment:
    the unique index decides, the loser's savepoint rolls back and nothing of it
    (account, e-mail, audit event) is kept.
    """
    email = (email or "").strip().lower()
    errors = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = ["Enter an e-mail address in the correct format, like name@example.org."]
    if not errors and User.objects.filter(email=email).exists():
        errors["email"] = [_EMAIL_TAKEN]
    if role not in User.Role.values:
        errors["role"] = ["Choose a role."]
    if not (full_name or "").strip():
        errors["full_name"] = ["Enter the person's full name."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint: the caller's transaction survives a lost race
                user = User.objects.create_user(email, full_name=full_name.strip(), role=role)
        except IntegrityError:  # the only unique column besides the key: e-mail
            raise ValidationError({"email": [_EMAIL_TAKEN]}) from None
        invitation_send(request=request, user=user, partnership_name=partnership_name)
    return user


def password_reset_request(*, request, email: str, partnership_name: str) -> None:
    """Send a reset link if an active account has this address. Says nothing either way."""
    email = (email or "").strip().lower()
    user = User.objects.filter(email=email, is_active=True).first()
    if user is None:
        _audit(action="auth.reset_requested", request=request, summary="no active account with that address")
        return
    link = _link("accounts:reset-password", user, reset_tokens.make_token(user))
    _mail(
        to=[user.email],
        subject=f"Reset your password for {partnership_name} on Concord",
        body=(
            f"Hello {user.get_short_name()},\n\n"
            f"Someone asked to reset the password of your account on {partnership_name}'s Concord.\n\n"
            f"Choose a new password with this link. It works once and expires in one hour:\n{link}\n\n"
            "If it was not you, ignore this e-mail: your password has not changed.\n"
        ),
    )
    _audit(action="auth.reset_requested", request=request, actor=user, object_type="user", object_id=user.pk)


def password_set_recorded(*, request, user: User, how: str) -> None:
    """After a link set the password and signed the user in (first factor only)."""
    _start_session(request)
    _clear_failures(user)
    _audit(action="auth.password_set", request=request, actor=user, object_type="user", object_id=user.pk,
           summary=f"password set ({how})")  # fmt: skip
