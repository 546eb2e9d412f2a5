"""Refused access, recorded: a signed-in person's request answered 403, a write answered 404,
and a GET of a record by id answered 404.

Pages and the API answer "not found" alike for a missing id and for someone else's (another
team's, agency's or partnership's): no existence oracle. This middleware leaves every response
exactly as it is and records, through ``audit_access_refused`` (rate-limited, what it holds back
counted and summarised), so that a partnership admin can see probing:

- ``access.forbidden``: any request of a signed-in person answered 403 (a practitioner on an
  admin page, a viewer's write, a session that must first change its password);
- ``access.refused``: a write (any method but GET, HEAD and OPTIONS) answered 404, with the id
  when the route names one; and a GET or HEAD of a record by id answered 404.

Each event has who, when, from where, the method and the route (never the body nor the query),
and the id when known. API clients' calls are recorded whole by ``ApiClientAuditMiddleware``
(``api.call``, with the status): here only their refused reads, as before.

Which id: the first of the route's keyword arguments named in ``ID_ARGUMENTS`` (the record the
URL is about). A GET answered 404 for a record the user may in fact see (a page of a timeline
past its end, an edit page they may not edit) is not a refused read: the redaction rule of the
object's type (``tenant_apps.audit.redaction``) decides, and a type with no rule counts as
refused. A write answered 404 is a refused write whatever the record.
"""

from __future__ import annotations

import logging

from django_tenants.utils import get_public_schema_name

from tenant_apps.audit import chain, redaction
from tenant_apps.audit.models import AuditAction
from tenant_apps.audit.services import audit_access_refused

logger = logging.getLogger(__name__)

ID_ARGUMENTS = {
    "profile_id": "profile",
    "case_id": "case",
    "entry_id": "timeline_entry",
    "family_id": "family",
    "document_id": "document",
    "task_id": "task",
}
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class RefusedAccessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Events recorded apart while the request's transaction held the chain head: chain them now.
        try:
            chain.drain_held_soon()
        except Exception:  # the periodic job chains them later; the answer stands
            logger.exception("held audit events could not be chained yet")
        if response.status_code in (403, 404):
            try:
                self._record(request, response.status_code)
            except Exception:  # the answer must not change with the audit's fate (no oracle)
                logger.exception("a refusal (%s %s) could not be recorded", request.method, response.status_code)
        return response

    def _record(self, request, status: int) -> None:
        tenant = getattr(request, "tenant", None)
        user = getattr(request, "user", None)
        match = getattr(request, "resolver_match", None)
        if tenant is None or tenant.schema_name == get_public_schema_name() or match is None:
            return
        if user is None or not user.is_authenticated:
            return
        asked = next(
            ((ID_ARGUMENTS[name], value) for name, value in match.kwargs.items() if name in ID_ARGUMENTS), ("", "")
        )
        object_type, object_id = asked
        how = f"{request.method} {match.route}"
        is_read = request.method in READ_METHODS
        if status == 403 or not is_read:
            if user.is_integration:  # an API client: its call is recorded with its status (api.call)
                return
            action = AuditAction.ACCESS_FORBIDDEN if status == 403 else AuditAction.ACCESS_REFUSED
        else:
            if not object_type or request.method == "OPTIONS":
                return
            if not redaction.hidden_from(user, object_type, str(object_id)):
                return
            action = AuditAction.ACCESS_REFUSED
        audit_access_refused(request=request, action=action, object_type=object_type, object_id=object_id,
                             how=how)  # fmt: skip
