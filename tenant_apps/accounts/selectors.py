"""Reads of accounts for the pages (the sign-in checks, ``is_verified`` and ``has_second_factor``,
live in ``services`` beside the writes that rely on them)."""

from __future__ import annotations

from dataclasses import dataclass

from django_otp_webauthn.models import WebAuthnCredential

from tenant_apps.accounts import passkeys
from tenant_apps.accounts.models import BackupCode, TOTPDevice, User


def totp_enrolment_pending(*, user: User) -> TOTPDevice | None:
    """The user's authenticator started by ``services.totp_enrolment_start`` and not yet confirmed."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).first()


@dataclass(frozen=True)
class SecondFactors:
    """What the account security page shows of the signed-in user's factors."""

    authenticator: bool
    backup_codes_left: int
    passkeys: list[WebAuthnCredential]

    @property
    def may_add_passkey(self) -> bool:
        """A passkey only beside a factor that works without it (``services.passkey_add_check``)."""
        return self.authenticator or self.backup_codes_left > 0


def second_factors(*, user: User) -> SecondFactors:
    return SecondFactors(
        authenticator=TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        backup_codes_left=BackupCode.objects.filter(
            device__user=user, device__confirmed=True, used_at__isnull=True
        ).count(),
        passkeys=passkeys.passkeys_of(user),
    )
