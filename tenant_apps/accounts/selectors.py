"""Reads of accounts for the pages (the sign-in checks, ``is_verified`` and ``has_second_factor``,
live in ``services`` beside the writes that rely on them)."""

from __future__ import annotations

from tenant_apps.accounts.models import TOTPDevice, User


def totp_enrolment_pending(*, user: User) -> TOTPDevice | None:
    """The user's authenticator started by ``services.totp_enrolment_start`` and not yet confirmed."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).first()
