"""E-mails about a change of a factor, and the signed "this wasn't me" link they carry.

Called by ``accounts.services`` (which audits and decides); this module only records the
notice, composes the e-mail and queues it through the outbox, in the caller's transaction.
No e-mail here ever holds a password, a code, a key or a backup code.

- ``notice_send(request=, user=, change=, by=None, extra="")``: record a ``SecurityNotice``
  for ``user`` and e-mail them what changed, when (London time), from where (the client's
  address and a short description of its browser) and a single-use "this wasn't me" link.
- ``not_me_link(notice)`` / ``notice_from_link(token)``: the signed link (7 days) and back.
- ``admins_alert_send(request=, notice=)``: tell the partnership admins a link was used.
- ``enrolment_link_mail(request=, user=, link=)``: after an admin reset, a fresh enrolment link.
- ``short_user_agent(text)``: "Firefox on Windows", never the raw header.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from concord.http import client_ip
from tenant_apps.accounts.models import SecurityNotice, User
from tenant_apps.outbox.services import mail_send_later
from tenants.hosts import absolute_url

LONDON = ZoneInfo("Europe/London")
_NOT_ME_SALT = "concord.accounts.not-me"

# What the admins read about someone else's notice (the user's own wording is the label).
_FOR_ADMINS = {
    SecurityNotice.Change.AUTHENTICATOR_REPLACED: "their authenticator app was replaced",
    SecurityNotice.Change.AUTHENTICATOR_ENROLLED: "a new authenticator app was set up",
    SecurityNotice.Change.BACKUP_CODES_REGENERATED: "their backup codes were replaced",
    SecurityNotice.Change.PASSWORD_CHANGED: "their password was changed",
    SecurityNotice.Change.SECOND_FACTOR_RESET: "their second factor was reset by a partnership admin",
    SecurityNotice.Change.PASSKEY_ADDED: "a passkey was added to their account",
    SecurityNotice.Change.PASSKEY_REMOVED: "a passkey was removed from their account",
}

_BROWSERS = [("Edg/", "Edge"), ("EdgA/", "Edge"), ("OPR/", "Opera"), ("FxiOS/", "Firefox"), ("Firefox/", "Firefox"),
             ("CriOS/", "Chrome"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]  # fmt: skip
_SYSTEMS = [("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux")]  # fmt: skip
_PROGRAM = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,23}")


def short_user_agent(text: str | None) -> str:
    """A few words for the e-mail ("Chrome on Android"). The header is the client's to write:
    beyond a known browser and system only a bare program name is kept ("curl"), so a
    sender cannot put a sentence or a link into someone's mail."""
    text = text or ""
    browser = next((name for mark, name in _BROWSERS if mark in text), "")
    system = next((name for mark, name in _SYSTEMS if mark in text), "")
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or f"a browser on {system}"
    program = _PROGRAM.match(text.split("/", 1)[0].strip())
    if program and program.group(0) == text.split("/", 1)[0].strip():
        return program.group(0)
    return "an unrecognised browser or program"


def london_time(moment: datetime) -> str:
    """``2 December 2026 at 18:05 (London time)``."""
    local = timezone.localtime(moment, LONDON)
    return f"{local.day} {local:%B %Y at %H:%M} (London time)"


def _partnership_name(request) -> str:
    return getattr(getattr(request, "tenant", None), "name", "") or "Concord"


def _where(ip_address: str | None, user_agent: str) -> str:
    return f"{ip_address or 'an unknown address'}, {user_agent}"


def not_me_link(notice: SecurityNotice) -> str:
    """The signed "this wasn't me" link of ``notice`` (it names the notice and the schema)."""
    token = signing.dumps({"n": notice.pk.hex, "s": connection.schema_name}, salt=_NOT_ME_SALT)
    return absolute_url(reverse("accounts:not-me", kwargs={"token": token}))


def notice_from_link(token: str) -> SecurityNotice | None:
    """The unused notice a link names, in this partnership, if the link is genuine and at most
    ``NOT_ME_LINK_SECONDS`` old; None otherwise (another partnership's link included)."""
    try:
        data = signing.loads(token or "", salt=_NOT_ME_SALT, max_age=settings.NOT_ME_LINK_SECONDS)
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("s") != connection.schema_name:
        return None
    try:
        return (
            SecurityNotice.objects.select_related("user")
            .filter(pk=data.get("n"), reported_at__isnull=True, user__is_active=True)
            .first()
        )
    except (ValueError, TypeError, ValidationError):  # only we sign these, but never a 500 for one
        return None


def notice_send(*, request, user: User, change: str, by: User | None = None, extra: str = "") -> SecurityNotice | None:
    """Record the change and e-mail ``user`` about it (nothing for an API client's service
    account, which has no mailbox). ``by`` is the admin who made it, if not the user."""
    if user.is_integration:
        return None
    notice = SecurityNotice.objects.create(
        user=user,
        change=change,
        ip_address=client_ip(request) if request is not None else None,
        user_agent=short_user_agent(request.META.get("HTTP_USER_AGENT", "") if request is not None else ""),
    )
    partnership = _partnership_name(request)
    label = notice.get_change_display()
    who = f"By: {by.get_full_name()}, a partnership admin\n" if by is not None else ""
    body = (
        f"Hello {user.get_short_name()},\n\n"
        f"{label} on your account at {partnership}'s Concord.\n\n"
        f"When: {london_time(notice.created_at)}\n"
        f"Where: {_where(notice.ip_address, notice.user_agent)}\n"
        f"{who}\n" + (f"{extra}\n\n" if extra else "") + "If this was you, there is nothing to do.\n\n"
        "If it was not you, open this link at once. It signs you out on every device and tells your "
        f"partnership admins. It works once and expires in {settings.NOT_ME_LINK_SECONDS // 86400} days:\n"
        f"{not_me_link(notice)}\n"
    )
    mail_send_later(to=[user.email], subject=f"{label} ({partnership})", body=body)
    return notice


def admins_alert_send(*, request, notice: SecurityNotice) -> int:
    """E-mail every active partnership admin that ``notice``'s user says the change was not
    theirs. Returns how many were told."""
    user = notice.user
    partnership = _partnership_name(request)
    admins = list(
        User.objects.filter(role=User.Role.ADMIN, is_active=True, is_integration=False).values_list("email", flat=True)
    )
    reported_from = _where(client_ip(request), short_user_agent(request.META.get("HTTP_USER_AGENT", "")))
    for email in admins:
        mail_send_later(
            to=[email],
            subject=f"Security alert: {user.get_full_name()} did not make a change to their account",
            body=(
                f'{user.get_full_name()} ({user.email}) used the "this wasn\'t me" link of a security notice '
                f"on {partnership}'s Concord.\n\n"
                f"What changed: {_FOR_ADMINS.get(notice.change, notice.get_change_display())}\n"
                f"When: {london_time(notice.created_at)}\n"
                f"From where: {_where(notice.ip_address, notice.user_agent)}\n"
                f"Reported: {london_time(notice.reported_at or timezone.now())}, from {reported_from}\n\n"
                "They have been signed out on every device. Check their recent activity in the audit trail, "
                "reset their second factor if it may be in someone else's hands, and ask them to reset their "
                "password.\n"
            ),
        )
    return len(admins)


def enrolment_link_mail(*, request, user: User, link: str) -> None:
    """The e-mail with a fresh link to enrol an authenticator after an admin reset."""
    partnership = _partnership_name(request)
    mail_send_later(
        to=[user.email],
        subject=f"Set up your new authenticator app ({partnership})",
        body=(
            f"Hello {user.get_short_name()},\n\n"
            f"{enrolment_instructions(link)}\n\n"
            "If you did not ask for this, tell your partnership admin.\n"
        ),
    )


def enrolment_instructions(link: str) -> str:
    """The paragraph with the enrolment link (also in the notice of the admin's reset)."""
    return (
        "To set up a new authenticator app, open this link. It works once, only the latest link sent "
        f"works, and it expires in {settings.PASSWORD_RESET_TIMEOUT // 3600} hours. You will be asked "
        f"for your password:\n{link}"
    )
