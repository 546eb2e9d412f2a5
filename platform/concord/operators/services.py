"""What operators do to the platform: create operators, provision, suspend and resume partnerships.

Each function is keyword-only and audits in the public schema (the operators'
own trail). Provisioning through here also makes sure the first admin is
e-mailed their invitation, inside the new partnership's schema, in the same
transaction: if queueing the e-mail fails, no partnership is left behind.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from shared_apps.question_bank import selectors as bank_selectors
from shared_apps.question_bank import services as bank
from tenant_apps.accounts.models import User
from tenant_apps.accounts.services import invitation_link, invitation_send
from tenant_apps.audit.services import audit_record
from tenant_apps.outbox.services import mail_send_later
from tenants.hosts import absolute_url
from tenants.models import Partnership
from tenants.provisioning import (
    ProvisionResult,
    partnership_provision,
    partnership_resume,
    partnership_suspend,
)

PLATFORM_NAME = "Concord"


class OperatorError(Exception):
    """Bad input for an operator account. The message is one line, fit for a user."""


def _require_public() -> None:
    if connection.schema_name != get_public_schema_name():
        raise RuntimeError(f"operator services run in the public schema, not {connection.schema_name!r}")


# --- Operator accounts -------------------------------------------------------------------


def operator_create(*, email: str, full_name: str):
    """Create a platform operator in public (no usable password) and e-mail their invitation.

    Returns ``(user, set_password_url)``; the link works once, for 72 hours, on the
    platform domain. Raises ``OperatorError`` for a bad or already used address.
    """
    email = (email or "").strip().lower()
    full_name = (full_name or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise OperatorError(f"e-mail address {email!r} is not a valid address") from None
    if not full_name:
        raise OperatorError("name is required")
    if len(full_name) > 150 or any(ord(ch) < 32 for ch in full_name):
        raise OperatorError("name must be at most 150 printable characters")
    with schema_context(get_public_schema_name()), transaction.atomic():
        if User.objects.filter(email__iexact=email).exists():
            raise OperatorError(f"an operator with e-mail address {email!r} already exists")
        user = User.objects.create_user(email, full_name=full_name, role=User.Role.ADMIN)
        link = operator_invitation_send(user=user)
    return user, link


def operator_invitation_send(*, user) -> str:
    """E-mail an operator their single-use set-password link (public schema); return the link."""
    _require_public()
    user.invited_at = timezone.now()
    user.save(update_fields=["invited_at"])
    link = invitation_link(user)
    mail_send_later(
        to=[user.email],
        subject="You have been made a Concord platform operator",
        body=(
            f"Hello {user.get_short_name()},\n\n"
            "You have been given a platform operator account on Concord. Operators provision, "
            "suspend and resume partnerships; they never see a partnership's case data.\n\n"
            f"Set your password with this link. It works once and expires in 72 hours:\n{link}\n\n"
            "You will then set up an authenticator app on your phone: every sign-in needs "
            "your password and a code from the app.\n\n"
            "If you were not expecting this, ignore this e-mail.\n"
        ),
    )
    audit_record(action="user.invited", object_type="user", object_id=user.pk,
                 summary=f"operator invitation sent to {user.email}")  # fmt: skip
    return link


# --- Partnerships ------------------------------------------------------------------------


def partnership_provision_by_operator(
    *, request, slug: str, name: str, admin_email: str, admin_name: str = ""
) -> ProvisionResult:
    """Provision a partnership, e-mail its first admin the invitation, audit it in public.

    One transaction: the schema, the rows, the queued e-mail (in the partnership's
    outbox) and the audit event commit together or not at all. Raises
    ``ProvisioningError`` (one line) for bad input or a conflict.
    """
    _require_public()
    started = timezone.now()
    with transaction.atomic():
        result = partnership_provision(slug=slug, name=name, admin_email=admin_email, admin_name=admin_name)
        partnership = result.partnership
        with schema_context(partnership.schema_name):
            admin = User.objects.get(email=result.admin_email)
            # Provisioning may send the invitation itself (it sets invited_at): never send two.
            if admin.invited_at is None or admin.invited_at < started:
                # No request: it belongs to the public schema, and the event is the partnership's.
                invitation_send(request=None, user=admin, partnership_name=partnership.name)
        done = "provisioned" if result.created else "invitation re-sent for"
        audit_record(
            action="partnership.provisioned" if result.created else "partnership.invitation_resent",
            request=request, object_type="partnership", object_id=partnership.schema_name,
            summary=f"{done} {partnership.name}; first admin {result.admin_email} invited by e-mail",
        )  # fmt: skip
    return result


def partnership_suspend_by_operator(*, request, partnership: Partnership) -> Partnership:
    """Suspend (every page of the partnership refused, data kept) and audit it in public."""
    _require_public()
    with transaction.atomic():
        partnership_suspend(partnership=partnership)
        audit_record(action="partnership.suspended", request=request, object_type="partnership",
                     object_id=partnership.schema_name, summary=f"suspended {partnership.name}")  # fmt: skip
    return partnership


def partnership_resume_by_operator(*, request, partnership: Partnership) -> Partnership:
    """Resume a suspended partnership and audit it in public."""
    _require_public()
    with transaction.atomic():
        partnership_resume(partnership=partnership)
        audit_record(action="partnership.resumed", request=request, object_type="partnership",
                     object_id=partnership.schema_name, summary=f"resumed {partnership.name}")  # fmt: skip
    return partnership


# --- The national question bank ---------------------------------------------------------------
# Operators moderate what partnerships submit and keep the bank. Each decision is audited in the
# operators' trail (who decided) and in the submitting partnership's (that its question was
# decided, by the platform), and its admins are e-mailed, all in one transaction with the
# decision. The e-mail names no person and carries no content: a link that needs signing in.


def _bank_outcome_tell_partnership(*, submission, action: str, outcome: str) -> None:
    """In the submitting partnership's schema: audit the outcome, and e-mail each active admin."""
    with schema_context(submission.partnership_schema):
        admins = User.objects.filter(role=User.Role.ADMIN, is_active=True, is_integration=False).order_by("pk")
        path = reverse("assessments:bank-submission", kwargs={"submission_id": submission.pk},
                       urlconf="concord.urls_partnership")  # fmt: skip
        link = absolute_url(path)
        for admin in admins:
            mail_send_later(
                to=[admin.email],
                subject=f"Your question for the national bank has been {outcome}",
                body=(
                    f"A question your partnership submitted to Concord's national question bank has been {outcome} "
                    f"by the platform's operators.\n\nSign in to read the decision: {link}\n"
                ),
            )
        audit_record(action=action, object_type="bank_submission", object_id=submission.pk,
                     summary=f"bank submission {submission.pk} {outcome} by the platform's operators")  # fmt: skip


def bank_submission_publish_by_operator(*, request, submission, version: int, edits: dict | None = None,
                                        note: str = ""):  # fmt: skip
    """Publish a submitted question (with the operator's ``edits``, if any); returns the new version."""
    _require_public()
    with transaction.atomic():
        published = bank.submission_publish(submission=submission, version=version, edits=edits, note=note,
                                            partnership_name=submission.partnership_name or "")  # fmt: skip
        decided = bank_selectors.access_submission(submission_id=submission.pk)
        edited = f", with {len(decided.changes)} field(s) edited" if decided.changes else ""
        audit_record(action="question_bank.submission_published", request=request, object_type="bank_submission",
                     object_id=submission.pk,
                     summary=f"submission {submission.pk} of {submission.partnership_schema} published as "
                             f"{published.label}{edited}")  # fmt: skip
        _bank_outcome_tell_partnership(submission=decided, action="question_bank.submission_published",
                                       outcome="published")  # fmt: skip
    return published


def bank_submission_reject_by_operator(*, request, submission, version: int, reason: str):
    """Reject a submitted question with the reason its partnership reads."""
    _require_public()
    with transaction.atomic():
        rejected = bank.submission_reject(submission=submission, version=version, reason=reason)
        audit_record(action="question_bank.submission_rejected", request=request, object_type="bank_submission",
                     object_id=submission.pk,
                     summary=f"submission {submission.pk} of {submission.partnership_schema} rejected")  # fmt: skip
        _bank_outcome_tell_partnership(submission=rejected, action="question_bank.submission_rejected",
                                       outcome="rejected")  # fmt: skip
    return rejected


def bank_question_retire_by_operator(*, request, question, reason: str):
    """Retire a national question: no new template offers it; every use of it stays valid."""
    _require_public()
    with transaction.atomic():
        retired = bank.question_retire(question=question, reason=reason)
        audit_record(action="question_bank.question_retired", request=request, object_type="bank_question",
                     object_id=question.code, summary=f"question {question.code} retired")  # fmt: skip
    return retired
