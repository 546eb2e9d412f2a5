"""Sign-in, second factors, invitations and resets: every write about accounts.

Each function is keyword-only, audits what it did through the audit service,
and sends e-mail through the job queue in the same transaction as its data.
Nothing here logs or audits a password, a code or a secret.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, urlencode

import django_otp
from django.conf import settings
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django_otp_webauthn.models import WebAuthnCredential
from django_tenants.utils import get_public_schema_name, schema_context

from concord import crypto
from concord.http import client_ip
from tenant_apps.accounts import limits, notices, passkeys
from tenant_apps.accounts.models import (
    BackupCode,
    BackupCodeDevice,
    FailedSignIn,
    SecurityNotice,
    SecuritySettings,
    TOTPDevice,
    User,
    normalise_backup_code,
)
from tenant_apps.accounts.tokens import enrolment_tokens, invitation_tokens, reset_tokens
from tenant_apps.audit.services import audit_record
from tenant_apps.outbox.services import mail_send_later
from tenants.hosts import absolute_url

SESSION_SIGNED_IN_AT = "concord_signed_in_at"
SESSION_LAST_SEEN = "concord_last_seen"
BACKUP_CODE_COUNT = 10


class SignInRefused(Exception):
    """Shown to the user as it is; never says whether a password was right."""


# --- Brute force ------------------------------------------------------------------------
#
# Progressive delays per (account, source), not account lock-out (README "Accounts"):
# - a *source* is a trusted device (the signed cookie a full sign-in leaves, OWASP's
#   "device cookies") or else the client's address;
# - after SIGN_IN_FREE_FAILURES failures in a row of one account from one source,
#   each further failure makes that source wait longer (1, 2, 4, 8, then 15 minutes);
#   the owner elsewhere, or on a trusted device, is not held up at all;
# - an address with SIGN_IN_IP_MAX_FAILURES failures in 15 minutes (any accounts,
#   anywhere on the platform) is throttled, trusted devices apart;
# - an account with SIGN_IN_ACCOUNT_MAX_FAILURES failures in an hour from untrusted
#   sources (a distributed attack) refuses new devices; its trusted devices still work.
# Every count is keyed by a hash of the schema and the address *tried*, so a missing
# account gets exactly the answers an existing one gets (and the hasher runs for it too:
# Django's backend hashes the password it was given when no user has the address). The
# counts live in the public schema, for every partnership and the operator area: the
# helpers that touch it say so in their names (``*_in_public``). The address and account
# limits are charged first, in one atomic statement, and decided on what it returned
# (``accounts.limits``: parallel attempts cannot all pass); the per-source delay reads the
# source's FailedSignIn rows, its attempts checked one at a time (an advisory lock).


@dataclass(frozen=True)
class _Source:
    account: str  # keyed hash of the schema and the e-mail address tried
    ip: str
    device: str  # keyed hash of a trusted device's id, or "" for an untrusted source

    def mine_q(self) -> Q:
        """Failure rows of this (account, source)."""
        if self.device:
            return Q(account=self.account, device=self.device)
        return Q(account=self.account, ip_address=self.ip, device="")


def _account_key(email: str) -> str:
    return crypto.keyed_hash(f"{connection.schema_name}:{email}", purpose="sign-in-account")


_DEVICE_SALT = "concord.accounts.trusted-device"


def trusted_device_token(*, user: User) -> str:
    """The signed value of the device cookie for ``user`` (set by the view after a full sign-in).

    It names the account (by its key, not its address), a random device id and
    when it was issued; it stops counting as trusted after SIGN_IN_DEVICE_COOKIE_DAYS
    and when the user's sessions are ended (sign out everywhere, a reset, deactivation).
    """
    payload = {"a": _account_key(user.email), "n": secrets.token_urlsafe(16), "t": time.time()}
    return signing.dumps(payload, salt=_DEVICE_SALT, compress=True)


def _trusted_device(request, account: str, user: User | None) -> str:
    """The device id (hashed) if the request carries a valid device cookie for this account."""
    raw = request.COOKIES.get(settings.SIGN_IN_DEVICE_COOKIE_NAME) if request is not None else None
    if not raw:
        return ""
    try:
        data = signing.loads(raw, salt=_DEVICE_SALT, max_age=settings.SIGN_IN_DEVICE_COOKIE_DAYS * 86400)
    except signing.BadSignature:
        return ""
    if not isinstance(data, dict) or data.get("a") != account or not data.get("n"):
        return ""
    valid_after = getattr(user, "sessions_valid_after", None)  # sign out everywhere, reset: trust ends
    if valid_after is not None and data.get("t", 0) < valid_after.timestamp():
        return ""
    return crypto.keyed_hash(str(data["n"]), purpose="trusted-device")


def _source(request, email: str, user: User | None) -> _Source:
    account = _account_key(email)
    ip = client_ip(request) or "0.0.0.0"  # noqa: S104 - a placeholder address, never bound
    return _Source(account=account, ip=ip, device=_trusted_device(request, account, user))


def _in_public():
    return schema_context(get_public_schema_name())


def _delay_seconds(failures: int) -> int:
    """How long a source waits after its ``failures``-th failure in a row (0 for the free ones)."""
    if failures < settings.SIGN_IN_FREE_FAILURES:
        return 0
    doublings = min(failures - settings.SIGN_IN_FREE_FAILURES, 16)
    return min(settings.SIGN_IN_DELAY_BASE_SECONDS * 2**doublings, settings.SIGN_IN_DELAY_MAX_SECONDS)


def _limit_windows(source: _Source) -> dict[str, int]:
    """The limits an attempt from ``source`` is charged to (``accounts.limits``): the address
    throttle and the account-wide limit, for untrusted sources only; key -> window seconds."""
    if source.device:
        return {}
    return {
        f"address:{source.ip}": settings.SIGN_IN_IP_WINDOW_SECONDS,
        f"account:{source.account}": settings.SIGN_IN_ACCOUNT_WINDOW_SECONDS,
    }


def _charge_in_public(source: _Source) -> tuple[list[limits.Charge], tuple[str, float] | None]:
    """Charge this attempt to its limits first (one atomic statement), then decide.

    Returns the charges and ``(why, seconds)`` if this source must wait before trying this
    account again, else None. ``why`` is ``"address"`` (the address is throttled),
    ``"account"`` (new devices are refused for this account) or ``"delay"`` (this source
    failed too often). The address and account limits are decided on the count the charge
    returned (so parallel attempts cannot all pass); the delay on this source's own rows,
    read under ``_one_attempt_at_a_time``.
    """
    windows = _limit_windows(source)
    charges = limits.charge_in_public(windows) if windows else {}
    if charges:
        if charges[f"address:{source.ip}"].count > settings.SIGN_IN_IP_MAX_FAILURES:
            return list(charges.values()), ("address", settings.SIGN_IN_IP_WINDOW_SECONDS)
        if charges[f"account:{source.account}"].count > settings.SIGN_IN_ACCOUNT_MAX_FAILURES:
            return list(charges.values()), ("account", settings.SIGN_IN_ACCOUNT_WINDOW_SECONDS)
    now = timezone.now()
    since_memory = now - timedelta(seconds=settings.SIGN_IN_FAILURE_MEMORY_SECONDS)
    with _in_public():
        mine = FailedSignIn.objects.filter(source.mine_q(), at__gte=since_memory).aggregate(
            n_mine=Count("id"), last_mine=Max("at")
        )
    wait = _delay_seconds(mine["n_mine"])
    if wait and mine["last_mine"] is not None:
        remaining = (mine["last_mine"] + timedelta(seconds=wait) - now).total_seconds()
        if remaining > 0:
            return list(charges.values()), ("delay", remaining)
    return list(charges.values()), None


def _charges_release_in_public(charges: list[limits.Charge]) -> None:
    """An attempt refused unchecked, or a right password or code: not a failure, uncharged."""
    for charge in charges:
        limits.release_in_public([charge.key], [charge.at])


def _failure_record_in_public(source: _Source, charges: list[limits.Charge]) -> tuple[int, int]:
    """Keep this attempt's charges as a failure and record it (its ``at`` is the charge's, so a
    full sign-in can release it again). Returns this source's failures in a row for the account,
    and the account's failures from untrusted sources within its window (0 for a trusted one)."""
    now = timezone.now()
    since_memory = now - timedelta(seconds=settings.SIGN_IN_FAILURE_MEMORY_SECONDS)
    at = charges[0].at if charges else now
    account = [c.count for c in charges if c.key.startswith("account:")]
    with _in_public():
        FailedSignIn.objects.create(ip_address=source.ip, account=source.account, device=source.device, at=at)
        FailedSignIn.objects.filter(at__lt=since_memory).delete()  # forgotten as we go
        limits.forget_idle_in_public(
            seconds=max(settings.SIGN_IN_IP_WINDOW_SECONDS, settings.SIGN_IN_ACCOUNT_WINDOW_SECONDS)
        )
        in_a_row = FailedSignIn.objects.filter(source.mine_q(), at__gte=since_memory).count()
    return in_a_row, account[0] if account else 0


def _failures_clear_in_public(source: _Source) -> None:
    """A full sign-in from this source: its failures for this account are forgotten, in its
    delay and in the address's and the account's limits."""
    with _in_public():
        mine = FailedSignIn.objects.filter(source.mine_q())
        at = list(mine.values_list("at", flat=True)) if not source.device else []
        mine.delete()
        limits.release_in_public(_limit_windows(source), at)


@contextmanager
def _one_attempt_at_a_time(source: _Source):
    """Serialise attempts of one (account, source), across processes (a session advisory lock),
    so parallel requests cannot all pass the check before any failure is counted."""
    digest = hashlib.sha256(f"sign-in:{source.account}:{source.device or source.ip}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _minutes(seconds: float) -> str:
    minutes = max(1, int(seconds + 59) // 60)
    return f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"


def _wait_message(why: str, seconds: float) -> str:
    if why == "address":
        return f"Too many failed attempts from your network. Wait {_minutes(seconds)}, then try again."
    if why == "account":
        return (
            "Too many failed attempts for this e-mail address from new devices. Sign in on a device "
            f"you have signed in with before, or wait up to {_minutes(seconds)}."
        )
    return f"Too many failed attempts for this e-mail address. Wait {_minutes(seconds)}, then try again."


_REFUSAL_ACTIONS = {"address": "auth.throttled", "account": "auth.sign_in_refused_locked",
                    "delay": "auth.sign_in_refused_delayed"}  # fmt: skip
_REFUSAL_SUMMARIES = {
    "address": "too many failures from this address",
    "account": "too many failures for this account from new devices; only trusted devices may sign in",
    "delay": "too many failures for this account from this source; it must wait",
}


def _user_object(user: User | None) -> dict:
    return {"actor": user, "object_type": "user", "object_id": user.pk} if user is not None else {}


def _charge_or_refuse(request, user: User | None, source: _Source) -> list[limits.Charge]:
    """Charge this attempt (see ``_charge_in_public``) and return its charges, or raise
    ``SignInRefused`` (audited, the charges released) if this source must wait; the answer is
    the same whether or not an account has the address. The caller releases the charges on
    a success (``_charges_release_in_public``) and keeps them on a failure (``_record_failure``);
    an attempt that ends in an error stays charged, so an error is never a free guess."""
    charges, waiting = _charge_in_public(source)
    if waiting is None:
        return charges
    _charges_release_in_public(charges)
    why, seconds = waiting
    summary = _REFUSAL_SUMMARIES[why] + ("" if user is not None else " (no active account with that address)")
    audit_record(action=_REFUSAL_ACTIONS[why], request=request, summary=summary, **_user_object(user))
    raise SignInRefused(_wait_message(why, seconds))


def _record_failure(request, user: User | None, source: _Source, charges: list[limits.Charge], *, what: str) -> float:
    """Count and audit a failure; return how long this source must now wait (0: not yet)."""
    in_a_row, account_untrusted = _failure_record_in_public(source, charges)
    trusted = "a trusted device" if source.device else "this address"
    if user is None:
        audit_record(
            action="auth.sign_in_failed",
            request=request,
            summary=f"{what}: no active account with that address ({in_a_row} in a row from {trusted})",
        )
    else:
        audit_record(action="auth.sign_in_failed", request=request,
                     summary=f"wrong {what} ({in_a_row} in a row from {trusted})", **_user_object(user))  # fmt: skip
    wait = _delay_seconds(in_a_row)
    if wait:
        audit_record(action="auth.delayed", request=request,
                     summary=f"sign-ins from {trusted} must wait {_minutes(wait)} after {in_a_row} failures in a row",
                     **_user_object(user))  # fmt: skip
    if not source.device and account_untrusted == settings.SIGN_IN_ACCOUNT_MAX_FAILURES:
        audit_record(action="auth.locked", request=request,
                     summary=f"{account_untrusted} failures in an hour from untrusted sources: only trusted devices "
                             "may sign in until they age out", **_user_object(user))  # fmt: skip
    return wait


# --- Signing in -------------------------------------------------------------------------


def _start_session(request) -> None:
    now = time.time()
    request.session[SESSION_SIGNED_IN_AT] = now
    request.session[SESSION_LAST_SEEN] = now


def sign_in_with_password(*, request, email: str, password: str) -> User:
    """First factor. On success the session is new (rotated) but not yet verified.

    Refusals (``SignInRefused``) read the same whether or not an account has the
    address: a wrong password, or the wait this source now owes (see "Brute force").
    """
    email = (email or "").strip().lower()
    user = User.objects.filter(email=email, is_active=True, is_integration=False).first()
    source = _source(request, email, user)
    with _one_attempt_at_a_time(source):
        charges = _charge_or_refuse(request, user, source)
        authenticated = authenticate(request, username=email, password=password)
        if authenticated is None:
            wait = _record_failure(request, user, source, charges, what="password")
            if wait:
                raise SignInRefused(_wait_message("delay", wait))
            raise SignInRefused("Enter a correct e-mail address and password.")
        _charges_release_in_public(charges)
    login(request, authenticated)  # rotates the session key
    _start_session(request)
    audit_record(action="auth.sign_in", request=request, actor=authenticated, object_type="user",
                 object_id=authenticated.pk, summary="password accepted; second factor next")  # fmt: skip
    password_recheck_at_sign_in(request=request, user=authenticated, password=password)
    return authenticated


# --- A password accepted before the rules were tightened (2.1.7) ----------------------------

SESSION_PASSWORD_CHANGE_REQUIRED = "concord_password_change_required"  # noqa: S105 - a session key


def password_recheck_at_sign_in(*, request, user: User, password: str) -> bool:
    """Run the password just verified through today's validators (locally: zxcvbn and Django's
    lists, nothing sent out). If it fails, mark the session: once the second factor is given,
    ``RequireSecondFactorMiddleware`` sends every page (and refuses every API call made with
    this session) to the change-password page until the password is changed. Neither the
    password nor the validators' reasons are stored or logged. True if a change is required."""
    try:
        validate_password(password, user)
    except ValidationError:
        request.session[SESSION_PASSWORD_CHANGE_REQUIRED] = True
        audit_record(action="auth.password_change_required", request=request, actor=user, object_type="user",
                     object_id=user.pk, summary="password no longer meets the rules; must be changed")  # fmt: skip
        return True
    request.session.pop(SESSION_PASSWORD_CHANGE_REQUIRED, None)
    return False


def password_change_required(request) -> bool:
    """Whether this session must change its password before anything else (see above)."""
    return bool(request.session.get(SESSION_PASSWORD_CHANGE_REQUIRED))


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


def _second_factor_accepted(request, user: User, device, source: _Source, charges, *, summary: str) -> None:
    """The second factor is given: the session is verified by ``device`` with a new key, this
    attempt is not a failure and the source's failures are forgotten; audited."""
    django_otp.login(request, device)
    request.session.cycle_key()
    _charges_release_in_public(charges)
    _failures_clear_in_public(source)
    audit_record(action="auth.second_factor", request=request, actor=user, object_type="user",
                 object_id=user.pk, summary=summary)  # fmt: skip


def verify_second_factor(*, request, token: str):
    """Second factor: a code from the authenticator app or an unused backup code.

    A wrong code counts like a wrong password. When this source must wait, the
    session is signed out and ``SignInRefused`` says how long.
    """
    user = request.user
    source = _source(request, user.email, user)
    with _one_attempt_at_a_time(source):
        try:
            charges = _charge_or_refuse(request, user, source)
        except SignInRefused:
            logout(request)
            raise
        token = (token or "").strip()
        for device in confirmed_devices(user):
            if device.verify_token(token):
                summary = "authenticator code accepted"
                if isinstance(device, BackupCodeDevice):
                    summary = f"backup code used; {device.remaining()} left"
                _second_factor_accepted(request, user, device, source, charges, summary=summary)
                return device
        wait = _record_failure(request, user, source, charges, what="code")
    if wait:
        logout(request)
        raise SignInRefused(_wait_message("delay", wait))
    raise SignInRefused("Enter the 6-digit code from your authenticator app, or one of your backup codes.")


PASSKEY_REFUSED = (
    "That passkey was not accepted. Try again with a passkey you added to this account on this site, "
    "or enter a code from your authenticator app or a backup code."
)


def verify_second_factor_passkey(*, request, credential: str):
    """Second factor: the browser's answer (``navigator.credentials.get``, as JSON) to the
    challenge this session was given (``passkeys.assertion_options``), by one of the user's
    passkeys on this host. Charged and counted exactly like a code: a failure (another
    partnership's passkey, a replayed or forged answer, a stale challenge) counts like a wrong
    code, and when this source must wait the session is signed out (``SignInRefused``).
    """
    user = request.user
    source = _source(request, user.email, user)
    with _one_attempt_at_a_time(source):
        try:
            charges = _charge_or_refuse(request, user, source)
        except SignInRefused:
            logout(request)
            raise
        try:
            device = passkeys.assertion_verify(request=request, credential=credential)
        except passkeys.PasskeyRefused:
            wait = _record_failure(request, user, source, charges, what="passkey")
        else:
            _second_factor_accepted(request, user, device, source, charges, summary=f'passkey "{device.name}" used')
            return device
    if wait:
        logout(request)
        raise SignInRefused(_wait_message("delay", wait))
    raise SignInRefused(PASSKEY_REFUSED)


def sign_out(*, request) -> None:
    if request.user.is_authenticated:
        audit_record(action="auth.sign_out", request=request, object_type="user", object_id=request.user.pk)
    logout(request)


def sign_out_everywhere(*, request) -> None:
    """End every session of this user, this one included."""
    user = request.user
    user.sessions_valid_after = timezone.now()
    user.save(update_fields=["sessions_valid_after"])
    audit_record(action="auth.sign_out_everywhere", request=request, object_type="user", object_id=user.pk)
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
    audit_record(action="settings.session_timeout_changed", request=request, object_type="security_settings",
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
    issuer = f"{settings.OTP_ISSUER} {partnership_name}".strip()
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    label = quote(f"{issuer}:{device.user.email}")
    query = urlencode({"secret": secret, "issuer": issuer, "digits": device.digits, "period": device.step})
    return f"otpauth://totp/{label}?{query}"


def totp_secret_text(device: TOTPDevice) -> str:
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_enrolment_confirm(*, request, device: TOTPDevice, token: str) -> list[str]:
    """Confirm the new authenticator with its first code; returns fresh backup codes.

    A wrong code counts towards the lock like any other (recorded outside the
    transaction that confirms, so a refusal is never rolled back). Replacing a
    confirmed authenticator needs a fresh re-authentication, and enrolling after
    an admin's reset a session that opened the e-mailed link (``enrolment_check``);
    either change is e-mailed to the user (``notices``).
    """
    enrolment_check(request=request)
    source = _source(request, request.user.email, request.user)
    with _one_attempt_at_a_time(source):
        charges = _charge_or_refuse(request, request.user, source)
        if not device.verify_token(token):
            wait = _record_failure(request, request.user, source, charges, what="enrolment code")
            if wait:
                raise SignInRefused(_wait_message("delay", wait))
            raise SignInRefused("That code did not match. Enter the current 6-digit code from your app.")
        _charges_release_in_public(charges)
    _failures_clear_in_public(source)
    with transaction.atomic():
        replaced, _ = TOTPDevice.objects.filter(user=device.user, confirmed=True).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = backup_codes_generate(user=device.user)
        after_reset = _enrolment_after_reset_done(user=device.user)
        audit_record(action="otp.enrolled", request=request, object_type="user", object_id=device.user.pk,
                     summary=("authenticator app replaced" if replaced else "authenticator app enrolled")
                     + (" after an admin's reset" if after_reset else "") + "; backup codes issued")  # fmt: skip
        if replaced or after_reset:
            change = SecurityNotice.Change.AUTHENTICATOR_ENROLLED
            if replaced:
                change = SecurityNotice.Change.AUTHENTICATOR_REPLACED
            notices.notice_send(request=request, user=device.user, change=change,
                                extra="New backup codes were issued; the earlier ones no longer work.")  # fmt: skip
    request.session.pop(SESSION_ENROLMENT_LINK, None)
    django_otp.login(request, device)
    request.session.cycle_key()
    return codes


def _new_backup_code() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
    raw = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def backup_codes_generate(*, user: User) -> list[str]:
    """Replace the user's backup codes with ten new ones, returned once and stored hashed."""
    BackupCodeDevice.objects.filter(user=user).delete()
    device = BackupCodeDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    codes = [_new_backup_code() for _ in range(BACKUP_CODE_COUNT)]
    BackupCode.objects.bulk_create(
        BackupCode(device=device, code_hash=crypto.keyed_hash(normalise_backup_code(c), purpose="backup-code"))
        for c in codes
    )
    return codes


@transaction.atomic
def backup_codes_regenerate(*, request) -> list[str]:
    """New backup codes for the signed-in user: needs a fresh re-authentication; e-mailed."""
    reauthentication_check(request=request)
    codes = backup_codes_generate(user=request.user)
    audit_record(action="otp.backup_codes_regenerated", request=request, object_type="user", object_id=request.user.pk)
    notices.notice_send(request=request, user=request.user, change=SecurityNotice.Change.BACKUP_CODES_REGENERATED)
    return codes


# --- Passkeys ---------------------------------------------------------------------------
#
# README "Passkeys". A passkey is a second factor beside the authenticator app and the backup
# codes, never instead of them: it can be added only by a user who has a factor that works
# without it (the app, or backup codes left), so losing the device never locks anyone out.
# Adding, renaming and removing one need a fresh re-authentication, like replacing the app;
# adding and removing are e-mailed to the user (``notices``).


class PasskeyNotAllowed(PermissionDenied):
    """A passkey asked for by a user with no factor that works without it."""


def has_factor_besides_passkeys(user: User) -> bool:
    """Whether the user can give a second factor without any passkey: a confirmed authenticator
    app, or backup codes left."""
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or BackupCode.objects.filter(device__user=user, device__confirmed=True, used_at__isnull=True).exists()
    )


def passkey_add_check(*, request) -> None:
    """Raise unless this session may add a passkey now: verified, freshly re-authenticated, and
    the user has a factor besides passkeys (``PasskeyNotAllowed``)."""
    if not is_verified(request.user):
        raise PermissionDenied("Give your second factor first.")
    if not has_factor_besides_passkeys(request.user):
        raise PasskeyNotAllowed(
            "Set up your authenticator app and keep backup codes before you add a passkey: "
            "you need a way to sign in without it."
        )
    reauthentication_check(request=request)


def _passkey_name(user: User, name: str, *, exclude_pk: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": ["Enter a name for the passkey, such as the device it is on."]})
    if len(name) > passkeys.NAME_MAX_LENGTH:
        raise ValidationError({"name": [f"Enter a name of at most {passkeys.NAME_MAX_LENGTH} characters."]})
    taken = [p.name.casefold() for p in passkeys.passkeys_of(user) if p.pk != exclude_pk]
    if name.casefold() in taken:
        raise ValidationError({"name": ["You already have a passkey with this name. Choose another."]})
    return name


def passkey_add(*, request, name: str, credential: str):
    """Add the passkey the browser just created (``navigator.credentials.create``'s answer, as
    JSON, to ``passkeys.registration_options``' challenge) under ``name``: checked by
    ``passkey_add_check``, then verified for this host; audited and e-mailed. ``ValidationError``
    naming ``name`` for a bad name, or on the whole form when the passkey did not verify."""
    passkey_add_check(request=request)
    user = request.user
    name = _passkey_name(user, name)
    with transaction.atomic():
        try:
            passkey = passkeys.registration_verify(request=request, credential=credential)
        except passkeys.PasskeyRefused:
            raise ValidationError(
                "The passkey could not be added: your browser's answer did not match this page. Try again."
            ) from None
        passkey.name = name
        passkey.save(update_fields=["name"])
        audit_record(action="otp.passkey_added", request=request, object_type="user", object_id=user.pk,
                     summary=f'passkey "{name}" added')  # fmt: skip
        notices.notice_send(request=request, user=user, change=SecurityNotice.Change.PASSKEY_ADDED,
                            extra=f"Its name: {name}.")  # fmt: skip
    return passkey


@transaction.atomic
def passkey_rename(*, request, passkey, name: str):
    """Rename one of the user's passkeys (``passkeys.access_passkey``); needs a fresh
    re-authentication. Audited; no e-mail: the passkey itself is unchanged."""
    reauthentication_check(request=request)
    before = passkey.name
    passkey.name = _passkey_name(request.user, name, exclude_pk=passkey.pk)
    passkey.save(update_fields=["name"])
    audit_record(action="otp.passkey_renamed", request=request, object_type="user", object_id=request.user.pk,
                 summary=f'passkey "{before}" renamed "{passkey.name}"',
                 changes={"name": [before, passkey.name]})  # fmt: skip
    return passkey


def passkey_remove(*, request, passkey) -> None:
    """Remove one of the user's passkeys (``passkeys.access_passkey``); needs a fresh
    re-authentication; audited and e-mailed. Removing passkeys never leaves a user without a
    factor: the app or backup codes were required to add one. If this session was verified by
    that passkey, it stays verified by the factor that re-authenticated it a moment ago."""
    reauthentication_check(request=request)
    user = request.user
    verified_by_it = getattr(user, "otp_device", None) is not None and user.otp_device.persistent_id == (
        passkey.persistent_id
    )
    with transaction.atomic():
        name = passkey.name
        passkey.delete()
        audit_record(action="otp.passkey_removed", request=request, object_type="user", object_id=user.pk,
                     summary=f'passkey "{name}" removed')  # fmt: skip
        notices.notice_send(request=request, user=user, change=SecurityNotice.Change.PASSKEY_REMOVED,
                            extra=f"Its name was: {name}.")  # fmt: skip
    if verified_by_it:
        device = next(iter(confirmed_devices(user)), None)
        if device is not None:
            django_otp.login(request, device)


@transaction.atomic
def second_factor_reset(*, request, user: User) -> None:
    """A partnership admin clears a user's second factors and ends their sessions. They enrol
    again only through the single-use link this e-mails them (with the notice of the reset):
    their password alone no longer leads to enrolment (``enrolment_check``)."""
    TOTPDevice.objects.filter(user=user).delete()
    BackupCodeDevice.objects.filter(user=user).delete()
    WebAuthnCredential.objects.filter(user=user).delete()  # passkeys too: they never stand alone
    user.sessions_valid_after = user.enrolment_link_issued_at = timezone.now()
    user.save(update_fields=["sessions_valid_after", "enrolment_link_issued_at"])
    audit_record(action="otp.reset", request=request, object_type="user", object_id=user.pk,
                 summary=f"second factor reset for {user.email}")  # fmt: skip
    by = getattr(request, "user", None)
    notices.notice_send(request=request, user=user, change=SecurityNotice.Change.SECOND_FACTOR_RESET,
                        by=by if by is not None and by.is_authenticated and by.pk != user.pk else None,
                        extra=notices.enrolment_instructions(enrolment_link(user)))  # fmt: skip


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
    mail_send_later(
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
    audit_record(action="user.invited", request=request, object_type="user", object_id=user.pk,
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
    user = User.objects.filter(email=email, is_active=True, is_integration=False).first()
    if user is None:  # an API client's service account has no password to reset either
        audit_record(action="auth.reset_requested", request=request, summary="no active account with that address")
        return
    link = _link("accounts:reset-password", user, reset_tokens.make_token(user))
    mail_send_later(
        to=[user.email],
        subject=f"Reset your password for {partnership_name} on Concord",
        body=(
            f"Hello {user.get_short_name()},\n\n"
            f"Someone asked to reset the password of your account on {partnership_name}'s Concord.\n\n"
            f"Choose a new password with this link. It works once and expires in one hour:\n{link}\n\n"
            "If it was not you, ignore this e-mail: your password has not changed.\n"
        ),
    )
    audit_record(action="auth.reset_requested", request=request, actor=user, object_type="user", object_id=user.pk)


def password_set_recorded(*, request, user: User, how: str) -> None:
    """After a link set the password and signed the user in (first factor only). A password
    set through the reset link is a change of a factor: the user is told, as for a change, with
    a "this wasn't me" link (not for the first password, set through an invitation)."""
    _start_session(request)
    _failures_clear_in_public(_source(request, user.email, user))  # the link proved the mailbox
    with transaction.atomic():
        audit_record(action="auth.password_set", request=request, actor=user, object_type="user",
                     object_id=user.pk, summary=f"password set ({how})")  # fmt: skip
        if how == "reset":
            notices.notice_send(
                request=request, user=user, change=SecurityNotice.Change.PASSWORD_CHANGED,
                extra="It was set through a password reset link e-mailed to you. "
                "You have been signed out on your other devices.",
            )  # fmt: skip


# --- Re-authentication, changes of a factor and their notices ------------------------------
#
# README "When a factor changes". Replacing the authenticator and new backup codes need the
# password and a current code (or an unused backup code) given on the "confirm it is you" page
# within REAUTH_SECONDS; changing the password needs the current one. Failures count towards
# the same delays as sign-in failures (the helpers above). Each change e-mails the user
# (``notices``) with a single-use "this wasn't me" link.

SESSION_REAUTHENTICATED_AT = "concord_reauthenticated_at"
SESSION_ENROLMENT_LINK = "concord_enrolment_link"
ENROLMENT_LINK_RESEND_SECONDS = 60


class ReauthenticationRequired(PermissionDenied):
    """A factor change asked without a fresh re-authentication (the page sends the user there)."""


class EnrolmentNeedsLink(PermissionDenied):
    """After an admin's reset, enrolment from a session that did not open the e-mailed link."""


def reauthentication_is_fresh(request) -> bool:
    """Whether this session confirmed the password and a code within ``REAUTH_SECONDS``."""
    at = request.session.get(SESSION_REAUTHENTICATED_AT)
    return isinstance(at, int | float) and 0 <= time.time() - at <= settings.REAUTH_SECONDS


def reauthentication_check(*, request) -> None:
    if not reauthentication_is_fresh(request):
        raise ReauthenticationRequired("Confirm it is you (your password and a code) first.")


def reauthenticate(*, request, password: str, code: str) -> None:
    """Confirm that the verified user at this session is still its owner: the password and a
    current authenticator code or an unused backup code. On success the session records the
    time (``reauthentication_is_fresh``).

    A wrong password or code counts like a failed sign-in (one failure for the pair; the code
    is tried only after a right password, so a wrong password never spends a backup code).
    Raises ``SignInRefused``; when this source must now wait, the session is signed out too.
    """
    user = request.user
    source = _source(request, user.email, user)
    with _one_attempt_at_a_time(source):
        try:
            charges = _charge_or_refuse(request, user, source)
        except SignInRefused:
            logout(request)
            raise
        device = None
        if user.check_password(password or ""):
            device = next((d for d in confirmed_devices(user) if d.verify_token((code or "").strip())), None)
        if device is None:
            wait = _record_failure(request, user, source, charges, what="password or code (confirming it is you)")
            if wait:
                logout(request)
                raise SignInRefused(_wait_message("delay", wait))
            raise SignInRefused("Enter your current password and a current code from your app (or a backup code).")
        _charges_release_in_public(charges)
        _failures_clear_in_public(source)
    request.session[SESSION_REAUTHENTICATED_AT] = time.time()
    how = "authenticator code"
    if isinstance(device, BackupCodeDevice):
        how = f"backup code ({device.remaining()} left)"
    audit_record(action="auth.reauthenticated", request=request, actor=user, object_type="user", object_id=user.pk,
                 summary=f"password and {how} confirmed")  # fmt: skip


def password_change(*, request, old_password: str, new_password: str) -> None:
    """The signed-in user changes their password: the current one is checked first (a wrong one
    counts like a failed sign-in; ``SignInRefused``), the new one by ``AUTH_PASSWORD_VALIDATORS``
    (``ValidationError`` on ``new_password1``). Every other session ends at its next request
    (Django's session hash, bound to the password, no longer matches); this one stays, with a
    new id. E-mailed to the user."""
    user = request.user
    source = _source(request, user.email, user)
    with _one_attempt_at_a_time(source):
        try:
            charges = _charge_or_refuse(request, user, source)
        except SignInRefused:
            logout(request)
            raise
        if not user.check_password(old_password or ""):
            wait = _record_failure(request, user, source, charges, what="current password (changing the password)")
            if wait:
                logout(request)
                raise SignInRefused(_wait_message("delay", wait))
            raise SignInRefused("Your current password is not right.")
        _charges_release_in_public(charges)
    try:
        validate_password(new_password, user)
    except ValidationError as error:
        raise ValidationError({"new_password1": error.messages}) from None
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        update_session_auth_hash(request, user)  # this session only: the others' hashes are stale
        audit_record(action="auth.password_changed", request=request, actor=user, object_type="user",
                     object_id=user.pk, summary="password changed; other sessions signed out")  # fmt: skip
        notices.notice_send(request=request, user=user, change=SecurityNotice.Change.PASSWORD_CHANGED,
                            extra="You have been signed out on your other devices.")  # fmt: skip
    request.session.pop(SESSION_PASSWORD_CHANGE_REQUIRED, None)  # the new one passed the validators
    _failures_clear_in_public(source)


def not_me_report(*, request, notice: SecurityNotice) -> bool:
    """The user says the change in ``notice`` was not theirs: their sessions end everywhere
    (as ``sign_out_everywhere``: this browser's too, and trusted devices stop being trusted),
    it is audited, and the partnership admins are e-mailed. The link works once: False if it
    was already used (one conditional UPDATE decides, also between racing requests)."""
    now = timezone.now()
    with transaction.atomic():
        claimed = SecurityNotice.objects.filter(pk=notice.pk, reported_at__isnull=True).update(reported_at=now)
        if claimed != 1:
            return False
        notice.reported_at = now
        user = notice.user
        user.sessions_valid_after = now
        user.save(update_fields=["sessions_valid_after"])
        audit_record(action="auth.sign_out_everywhere", request=request, actor=user, object_type="user",
                     object_id=user.pk, summary='from a "this wasn\'t me" link')  # fmt: skip
        told = notices.admins_alert_send(request=request, notice=notice)
        when = notices.london_time(notice.created_at)
        audit_record(action="auth.not_me_reported", request=request, actor=user, object_type="user",
                     object_id=user.pk, summary=f"the user did not make this change: {notice.get_change_display()} "
                     f"({when}); signed out everywhere; {told} admins told")  # fmt: skip
    if getattr(getattr(request, "user", None), "pk", None) == user.pk:
        logout(request)  # this browser too, at once (the others at their next request)
    return True


def enrolment_link(user: User) -> str:
    """The single-use link to enrol after an admin's reset (72 hours; only the latest works)."""
    return _link("accounts:enrol", user, enrolment_tokens.make_token(user))


def enrolment_allowed(*, request) -> bool:
    """Whether this password-only session may enrol an authenticator: always, unless an admin
    reset the user's second factor; then only once the session opened the latest link."""
    user = request.user
    if user.enrolment_link_issued_at is None:
        return True
    opened = request.session.get(SESSION_ENROLMENT_LINK)
    if not isinstance(opened, dict) or opened.get("u") != user.pk:
        return False
    return enrolment_tokens.check_token(user, opened.get("k"))


def enrolment_check(*, request) -> None:
    """Raise unless this session may enrol now: replacing an authenticator needs a verified
    session and a fresh re-authentication; enrolling after a reset needs the e-mailed link."""
    if has_second_factor(request.user):
        if not is_verified(request.user):
            raise PermissionDenied("Give your second factor first.")
        reauthentication_check(request=request)
    elif not enrolment_allowed(request=request):
        raise EnrolmentNeedsLink("Use the link we e-mailed you to set up your authenticator app.")


def _enrolment_after_reset_done(*, user: User) -> bool:
    """At enrolment: the reset's link (and any sent since) stop working. Whether there was one."""
    if user.enrolment_link_issued_at is None:
        return False
    user.enrolment_link_issued_at = None
    user.save(update_fields=["enrolment_link_issued_at"])
    return True


def enrolment_link_open(*, request, uidb64: str, token: str) -> User | None:
    """Someone opened an enrolment link: if it is the latest and unused, remember it in this
    session (whoever else was signed in here is signed out first) and return its user; the
    user still signs in with their password, then enrols. None for a bad or spent link."""
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    user = User.objects.filter(pk=pk, is_active=True, is_integration=False).first()
    if user is None or not enrolment_tokens.check_token(user, token):
        return None
    if request.user.is_authenticated and request.user.pk != user.pk:
        logout(request)
    request.session[SESSION_ENROLMENT_LINK] = {"u": user.pk, "k": token}
    audit_record(action="otp.enrolment_link_opened", request=request, actor=user, object_type="user",
                 object_id=user.pk)  # fmt: skip
    return user


@transaction.atomic
def enrolment_link_resend(*, request) -> None:
    """The password-only user whose second factor was reset asks for a new link (at most one a
    minute); the earlier links stop working. ``ValidationError`` when there is nothing to send."""
    user = User.objects.select_for_update().get(pk=request.user.pk)
    if user.enrolment_link_issued_at is None or has_second_factor(user):
        raise ValidationError("Your account does not need an enrolment link.")
    if (timezone.now() - user.enrolment_link_issued_at).total_seconds() < ENROLMENT_LINK_RESEND_SECONDS:
        raise ValidationError("We sent you a link less than a minute ago. Check your e-mail, then try again.")
    user.enrolment_link_issued_at = timezone.now()
    user.save(update_fields=["enrolment_link_issued_at"])
    notices.enrolment_link_mail(request=request, user=user, link=enrolment_link(user))
    audit_record(action="otp.enrolment_link_sent", request=request, actor=user, object_type="user",
                 object_id=user.pk, summary="a new enrolment link e-mailed")  # fmt: skip
