"""People who sign in, their second factors and the partnership's sign-in policy.

A partnership's users live in its own schema; platform operators use the same
models in the public schema.
"""

from __future__ import annotations

import time
import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django_otp.models import Device
from django_otp.oath import TOTP

from concord import crypto


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("role", User.Role.ADMIN)
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """An account, identified by e-mail address.

    ``role`` says what the user may do inside the partnership: a partnership
    admin runs it, a practitioner records work, a viewer only reads. In the
    public schema every user is a platform operator.
    """

    class Role(models.TextChoices):
        ADMIN = "admin", "Partnership admin"
        PRACTITIONER = "practitioner", "Practitioner"
        VIEWER = "viewer", "Viewer (read-only)"

    email = models.EmailField("e-mail address", max_length=254, unique=True)  # stored lower-case
    full_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PRACTITIONER)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    # Sessions started before this moment are refused ("sign out everywhere", deactivation).
    sessions_valid_after = models.DateTimeField(null=True, blank=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    # A partner system's service account (directory.ApiClient): no password, no second factor,
    # never signs in to pages, receives no e-mail; it calls the API with its client's token only.
    is_integration = models.BooleanField(default=False)
    # Set when a partnership admin resets the second factor, and moved on by each new e-mailed
    # enrolment link (so only the latest works): while set, a new authenticator can be enrolled
    # only from a session that opened that link (README "When a factor changes"). Cleared at enrolment.
    enrolment_link_issued_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["full_name", "email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return (self.full_name.split() or [self.email])[0]

    @property
    def is_partnership_admin(self) -> bool:
        return self.role == self.Role.ADMIN

    @property
    def is_read_only(self) -> bool:
        return self.role == self.Role.VIEWER


class SecuritySettings(models.Model):
    """The partnership's sign-in policy (one row per schema)."""

    session_idle_minutes = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(480)],
        help_text="Sign people out after this many minutes without activity (5 to 480).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "security settings"

    def __str__(self) -> str:
        return f"idle timeout {self.session_idle_minutes} min"

    @classmethod
    def current(cls) -> SecuritySettings:
        return cls.objects.order_by("pk").first() or cls()


class TOTPDevice(Device):
    """An authenticator app. The shared secret is encrypted at rest (``concord.crypto``)."""

    encrypted_key = models.TextField()
    step = models.PositiveSmallIntegerField(default=30)
    digits = models.PositiveSmallIntegerField(default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)  # a code is accepted once: no replay
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "authenticator app"

    @property
    def bin_key(self) -> bytes:
        return crypto.decrypt(self.encrypted_key)

    def set_key(self, key: bytes) -> None:
        self.encrypted_key = crypto.encrypt(key)

    def verify_token(self, token) -> bool:
        """Accept a valid code at most once, even when sessions race with it.

        The code is checked against this copy, then claimed by one conditional
        UPDATE (``last_t < t``): PostgreSQL lets one of two racing updates match
        the row and re-checks the other against the committed ``last_t``, so
        only one caller gets True. A stale copy cannot replay a used code.
        """
        token = str(token).strip().replace(" ", "")
        if not (token.isdigit() and len(token) == self.digits):
            return False
        totp = TOTP(self.bin_key, self.step, 0, self.digits, self.drift)
        totp.time = time.time()
        if not totp.verify(int(token), self.tolerance, self.last_t + 1):
            return False
        t, drift = totp.t(), totp.drift
        claimed = TOTPDevice.objects.filter(pk=self.pk, last_t__lt=t).update(last_t=t, drift=drift)
        if claimed != 1:
            return False
        self.last_t, self.drift = t, drift
        return True


class BackupCodeDevice(Device):
    """Ten single-use backup codes, stored only as keyed hashes."""

    class Meta:
        verbose_name = "backup codes"

    def verify_token(self, token) -> bool:
        """Use an unused code, at most once: one conditional UPDATE claims it (races included)."""
        code = normalise_backup_code(str(token))
        if not code:
            return False
        digest = crypto.keyed_hash(code, purpose="backup-code")
        used = self.codes.filter(code_hash=digest, used_at__isnull=True).update(used_at=timezone.now())
        return used == 1

    def remaining(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()


def normalise_backup_code(token: str) -> str:
    return "".join(ch for ch in token.lower() if ch.isalnum())


class BackupCode(models.Model):
    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "code_hash"], name="accounts_backup_code_unique")]

    def __str__(self) -> str:
        return f"backup code {'used' if self.used_at else 'unused'}"


class SecurityNotice(models.Model):
    """An e-mail telling a user that one of their factors changed, and its "this wasn't me" link.

    The link (``accounts.notices.not_me_link``) names this row; it works once (``reported_at``
    is claimed by one conditional UPDATE) and for ``NOT_ME_LINK_SECONDS``. ``ip_address`` and
    ``user_agent`` (shortened, e.g. "Firefox on Windows") say where the change came from, for
    the e-mail to the user and, when the link is used, to the partnership admins.
    """

    class Change(models.TextChoices):
        AUTHENTICATOR_REPLACED = "authenticator_replaced", "Your authenticator app was replaced"
        AUTHENTICATOR_ENROLLED = "authenticator_enrolled", "A new authenticator app was set up"
        BACKUP_CODES_REGENERATED = "backup_codes_regenerated", "Your backup codes were replaced"
        PASSWORD_CHANGED = "password_changed", "Your password was changed"
        SECOND_FACTOR_RESET = "second_factor_reset", "Your second factor was reset by a partnership admin"
        PASSKEY_ADDED = "passkey_added", "A passkey was added"
        PASSKEY_REMOVED = "passkey_removed", "A passkey was removed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="security_notices")
    change = models.CharField(max_length=32, choices=Change.choices)
    created_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=80, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)  # "this wasn't me" used

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_change_display()} ({self.created_at:%Y-%m-%d %H:%M})"


class FailedSignIn(models.Model):
    """One failed password or code. Only the public schema's table is used: one place
    for the whole platform, so a source is counted across every partnership and the
    operator area (``accounts.services``, the ``*_in_public`` helpers). The per-source
    delays are read from these rows; the address and account limits from ``SignInLimit``
    (counted atomically), whose entries are these rows' ``at`` for untrusted sources.

    - ``ip_address``: where it came from (the per-address throttle counts these).
    - ``account``: a keyed hash of the schema and the e-mail address tried, whether
      or not such an account exists (never the address itself).
    - ``device``: a keyed hash of the trusted device's id when the attempt came with
      a valid device cookie for that account, else empty.
    """

    ip_address = models.GenericIPAddressField()
    account = models.CharField(max_length=64, default="")
    device = models.CharField(max_length=64, blank=True, default="")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["ip_address", "at"], name="accounts_failed_ip_at"),
            models.Index(fields=["account", "at"], name="accounts_failed_account_at"),
            models.Index(fields=["at"], name="accounts_failed_at"),
        ]

    def __str__(self) -> str:
        return f"{self.ip_address} at {self.at:%Y-%m-%d %H:%M}"


class SignInLimit(models.Model):
    """The failures charged to one sign-in limit, for the atomic count (``accounts.limits``).
    Only the public schema's table is used, like ``FailedSignIn``: one budget per address and
    per account for the whole platform.

    - ``key``: ``address:<client address>`` or ``account:<keyed hash of schema and e-mail tried>``.
    - ``failures``: when each charge still in the limit's window was made (the database's
      clock, oldest first); a charge a success or a refusal releases is removed again. Each kept
      entry is the ``at`` of a ``FailedSignIn`` row of an untrusted source.
    - ``charged_at``: the last charge; a row idle for longer than every window is deleted.
    """

    key = models.CharField(primary_key=True, max_length=80)
    failures = ArrayField(models.DateTimeField(), default=list)
    charged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["charged_at"], name="accounts_limit_charged_at")]

    def __str__(self) -> str:
        return f"{self.key.partition(':')[0]} limit: {len(self.failures)} charged"


class ReadLimits(models.Model):
    """The partnership's bulk-read limits (one row per schema; the defaults until an admin saves).

    Counted per person and per partnership in fixed one-minute windows (``accounts.readlimits``):
    record reads (pages and API reads of records), searches and downloads (files, images and
    thumbnails) per person, and every counted read of the partnership together. The volume alert:
    a person who opens more than ``alert_profiles`` distinct profiles in ``alert_minutes``.
    """

    reads_per_minute = models.PositiveIntegerField(
        default=300, validators=[MinValueValidator(10), MaxValueValidator(100_000)]
    )
    searches_per_minute = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(5), MaxValueValidator(100_000)]
    )
    downloads_per_minute = models.PositiveIntegerField(
        default=600, validators=[MinValueValidator(10), MaxValueValidator(100_000)]
    )
    partnership_per_minute = models.PositiveIntegerField(
        default=20_000, validators=[MinValueValidator(10), MaxValueValidator(10_000_000)]
    )
    alert_profiles = models.PositiveIntegerField(
        default=100, validators=[MinValueValidator(5), MaxValueValidator(100_000)]
    )
    alert_minutes = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(1440)]
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "read limits"

    def __str__(self) -> str:
        return f"{self.reads_per_minute} reads a minute"

    @classmethod
    def current(cls) -> ReadLimits:
        return cls.objects.order_by("pk").first() or cls()


class ReadWindow(models.Model):
    """One counter of reads in its current fixed window: a person's (``holder`` = their user id)
    per kind (read, search, download; ``profiles``: distinct profiles in the alert's window), or
    the partnership's (``holder`` = 0, kind ``partnership``). One row per holder and kind, moved on
    to the new window by the same upsert that counts (so old windows need no pruning)."""

    holder = models.BigIntegerField()  # a user's id, or 0: the partnership as a whole
    kind = models.CharField(max_length=16)
    started_at = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)  # refused reads included

    class Meta:
        constraints = [models.UniqueConstraint(fields=["holder", "kind"], name="accounts_read_window_unique")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.holder}: {self.count} since {self.started_at}"


class ProfileRead(models.Model):
    """A profile a person opened in the current window of the volume alert (distinct profiles);
    a person's rows of earlier windows are deleted by their next counted read of a profile."""

    holder = models.BigIntegerField()  # the user's id
    started_at = models.DateTimeField()
    profile_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["holder", "started_at", "profile_id"], name="accounts_profile_read_unique")
        ]

    def __str__(self) -> str:
        return f"profile {self.profile_id} by {self.holder} since {self.started_at}"
