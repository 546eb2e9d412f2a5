"""Creates that happen once: the rows behind ``concord.api.answer_once`` (an API create's
``Idempotency-Key``) and behind the pages' one-time form tokens.

A key is the user's, in their partnership's schema (``IdempotencyKey``), kept for ``KEPT_FOR``;
every keyed request first deletes the partnership's expired keys (lazily: no job needed).
``claim`` inserts the key with ``ON CONFLICT DO NOTHING`` and locks it: a second request with
the same key waits there until the first one's transaction ends, then reads its answer (or,
if the first one failed and rolled back, claims the key itself). Never two creates.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import secrets

from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.shortcuts import redirect
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter

from concord.api import answer_once
from tenant_apps.casework.models import IdempotencyKey

KEPT_FOR = dt.timedelta(hours=24)
FORM_TOKEN_FIELD = "form_token"  # noqa: S105 - a form field's name, not a secret
ALREADY_SENT = "This form had already been sent: nothing was created twice. Here is what it created."


class KeyStore:
    """The ``store`` of ``concord.api.answer_once``."""

    @staticmethod
    def claim(*, user, key: str, fingerprint: str) -> IdempotencyKey | None:
        """Take the key for this request (None), or return the earlier request's row, answered."""
        IdempotencyKey.objects.filter(created_at__lt=timezone.now() - KEPT_FOR).delete()
        IdempotencyKey.objects.bulk_create(
            [IdempotencyKey(user=user, key=key, fingerprint=fingerprint)], ignore_conflicts=True
        )
        row = IdempotencyKey.objects.select_for_update().get(user=user, key=key)
        return row if row.status_code is not None else None

    @staticmethod
    def remember(*, user, key: str, status_code: int, body) -> None:
        text = json.dumps(body, cls=DjangoJSONEncoder)
        IdempotencyKey.objects.filter(user=user, key=key).update(status_code=status_code, body=text)

    @staticmethod
    def answer(row: IdempotencyKey):
        """The stored answer's data, keys in their first order."""
        return json.loads(row.body) if row.body else None

    @staticmethod
    def forget(*, user, key: str) -> None:
        IdempotencyKey.objects.filter(user=user, key=key, status_code__isnull=True).delete()


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description="Optional, 1 to 200 printable ASCII characters. A retry with the same key and request gets the "
    "first answer (header Idempotent-Replayed: true) and creates nothing; the same key with another request "
    "answers 422 idempotency_key_reused. Kept 24 hours, per user.",
)  # fmt: skip


def api_create_once(request, create):
    """An API create, answered from what it commits, and once per ``Idempotency-Key``."""
    return answer_once(request, create, store=KeyStore)


# --- Pages: a one-time token on each create form ---------------------------------------------


def new_form_token() -> str:
    return secrets.token_urlsafe(24)


def form_token_of(request) -> str:
    """The token a create form carries: the one posted (kept when the form is shown again with
    its errors), or a new one for a form shown afresh."""
    posted = request.POST.get(FORM_TOKEN_FIELD, "") if request.method == "POST" else ""
    return posted if 0 < len(posted) <= 100 else new_form_token()


def page_create_once(request, create):
    """Run a create page's POST once per form token: ``create()`` returns the page's response
    (a redirect to what it made, or the form again with its errors). The same form sent again
    (a double click, a resubmission) redirects to what the first one made, with a message; two
    sent at the same instant: the second waits for the first. A POST without a token runs as
    before (no protection)."""
    token = request.POST.get(FORM_TOKEN_FIELD, "")
    if not token or len(token) > 100:
        return create()
    key = f"form:{token}"
    with transaction.atomic():
        earlier = KeyStore.claim(user=request.user, key=key, fingerprint=request.path)
        if earlier is not None and earlier.fingerprint == request.path:
            messages.info(request, ALREADY_SENT)
            return redirect(KeyStore.answer(earlier)["location"])
        if earlier is not None:  # a token of another form: run as a new one, unprotected
            return create()
        response = create()
        if response.status_code in (301, 302, 303) and response.get("Location"):
            KeyStore.remember(user=request.user, key=key, status_code=response.status_code,
                              body={"location": response["Location"]})  # fmt: skip
        else:
            KeyStore.forget(user=request.user, key=key)  # errors shown: the same token may be sent again
    return response


def create_once(view):
    """A create page whose POST runs once per form token (``page_create_once``). The token is
    ``request.form_token``; the form's template sends it back in a hidden ``form_token`` field."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        request.form_token = form_token_of(request)
        if request.method != "POST":
            return view(request, *args, **kwargs)
        return page_create_once(request, lambda: view(request, *args, **kwargs))

    return wrapped
