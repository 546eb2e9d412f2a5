"""Single-use, expiring links: invitations (72 hours), password resets (1 hour) and, after an
admin's reset of the second factor, enrolment links (72 hours, like an invitation).

Built on Django's token generator: a token is bound to the user's password hash
and last sign-in (so it works once), to the partnership's schema (so a link for
one partnership is worthless on another's host) and to its purpose.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import connection
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int


class _PurposeTokenGenerator(PasswordResetTokenGenerator):
    lifetime_setting = "PASSWORD_RESET_TIMEOUT"

    def _make_hash_value(self, user, timestamp):
        return f"{connection.schema_name}:{super()._make_hash_value(user, timestamp)}"

    def check_token(self, user, token):
        if not (user and token):
            return False
        try:
            ts_b36, _ = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token):
                break
        else:
            return False
        return (self._num_seconds(self._now()) - ts) <= getattr(settings, self.lifetime_setting)


class InvitationTokenGenerator(_PurposeTokenGenerator):
    key_salt = "concord.accounts.invitation"
    lifetime_setting = "PASSWORD_RESET_TIMEOUT"  # 72 hours


class ResetTokenGenerator(_PurposeTokenGenerator):
    key_salt = "concord.accounts.reset"
    lifetime_setting = "RESET_LINK_SECONDS"  # 1 hour


class EnrolmentTokenGenerator(_PurposeTokenGenerator):
    """After an admin reset: a link to enrol a new authenticator. Bound to the user's
    ``enrolment_link_issued_at``, which a newer link moves on and enrolment clears, so only
    the latest link works, and only until it has been used. Not bound to the password or
    the last sign-in: signing in with the password (to use the link) must not spend it."""

    key_salt = "concord.accounts.enrolment"
    lifetime_setting = "PASSWORD_RESET_TIMEOUT"  # 72 hours, as an invitation

    def _make_hash_value(self, user, timestamp):
        issued = user.enrolment_link_issued_at
        issued_at = "" if issued is None else f"{issued.timestamp():.6f}"
        return f"{connection.schema_name}:{user.pk}:{user.email}:{issued_at}:{timestamp}"

    def check_token(self, user, token):
        if user is None or user.enrolment_link_issued_at is None:
            return False
        return super().check_token(user, token)


invitation_tokens = InvitationTokenGenerator()
reset_tokens = ResetTokenGenerator()
enrolment_tokens = EnrolmentTokenGenerator()
