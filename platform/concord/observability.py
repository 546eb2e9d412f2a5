"""Sentry error reporting: off unless SENTRY_DSN is set, and scrubbed; error references.

No request bodies, cookies, local variables, source lines or user e-mail
addresses are sent. Every event carries the partnership's schema name as the
``partnership`` tag (set by the partnership middleware).

Error references: every request gets a short random reference (``new_error_reference``, set by
``concord.middleware.ErrorReferenceMiddleware`` as ``request.error_reference``). A 500 shows it
(the page, and ``"reference"`` in the API's JSON), the log line of the error carries it
(``ErrorReferenceLogFilter`` on ``django.request``) and so does the Sentry event (the
``reference`` tag): a user quotes it to support, and support finds the one error. It is random,
so it says nothing about the person, the partnership or the request.
"""

from __future__ import annotations

import base64
import logging
import secrets
from typing import Any

ERROR_REFERENCE_TAG = "reference"


def new_error_reference() -> str:
    """Eight characters of base32 (40 random bits) in two groups: ``ABCD-EF23``.

    Base32's alphabet has no 0, 1, 8 or 9, so an O, I or B read out over the phone cannot be
    taken for a digit; 40 bits make two equal references among a hundred thousand errors
    unlikely (about 1 in 200), and support looks one up with its date anyway.
    """
    text = base64.b32encode(secrets.token_bytes(5)).decode()
    return f"{text[:4]}-{text[4:]}"


def tag_error_reports_with_reference(reference: str) -> None:
    """Put ``reference`` on this request's Sentry events (the caller checks that Sentry is on)."""
    import sentry_sdk

    sentry_sdk.set_tag(ERROR_REFERENCE_TAG, reference)


class ErrorReferenceLogFilter(logging.Filter):
    """Add the request's error reference to the log line of a 5xx answer (``django.request``'s
    "Internal Server Error: /path"), so the line a user's reference names is found by it."""

    def filter(self, record: logging.LogRecord) -> bool:
        reference = getattr(getattr(record, "request", None), "error_reference", None)
        if reference and getattr(record, "status_code", 0) >= 500 and not getattr(record, "error_reference", None):
            record.msg = f"{record.getMessage()} (reference {reference})"
            record.args = ()
            record.error_reference = reference
        return True


_SENSITIVE_HEADERS = {"cookie", "authorization", "x-csrftoken", "proxy-authorization", "set-cookie"}


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Remove anything that could identify a person or a session."""
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("cookies", None)
        request.pop("data", None)
        request.pop("query_string", None)  # search terms never belong in a report
        request.pop("env", None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {k: v for k, v in headers.items() if k.lower() not in _SENSITIVE_HEADERS}
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
            frame.pop("pre_context", None)
            frame.pop("context_line", None)
            frame.pop("post_context", None)
    breadcrumbs = event.get("breadcrumbs")
    if isinstance(breadcrumbs, dict):
        for crumb in breadcrumbs.get("values") or []:
            crumb.pop("data", None)
    return event


def init_sentry(dsn: str | None, *, environment: str) -> bool:
    """Initialise Sentry when a DSN is given. Returns whether it was initialised."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        include_source_context=False,
        max_request_body_size="never",
        before_send=scrub_event,
        before_send_transaction=scrub_event,
        traces_sample_rate=0.0,
    )
    return True
