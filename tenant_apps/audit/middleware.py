"""Refused reads, recorded: a signed-in user's GET of a record by id that answered 404.

Pages and the API answer "not found" alike for a missing id and for someone else's (another
team's, agency's or partnership's): no existence oracle. This middleware leaves that response
exactly as it is and records ``access.refused`` (rate-limited: ``audit_read_refused``) so that
a partnership admin can see probing. It sits after the authentication and second-factor
middleware, so only signed-in, verified users' requests get here.

Which id: the first of the route's keyword arguments named in ``ID_ARGUMENTS`` (the record the
URL is about). A 404 for a record the user may in fact see (a page of a timeline past its end,
an edit page they may not edit) is not a refused read: the redaction rule of the object's type
(``tenant_apps.audit.redaction``) decides, and a type with no rule counts as refused.
"""

from __future__ import annotations

import logging

from django_tenants.utils import get_public_schema_name

from tenant_apps.audit import redaction
from tenant_apps.audit.services import audit_read_refused

logger = logging.getLogger(__name__)

ID_ARGUMENTS = {
    "profile_id": "profile",
    "case_id": "case",
    "entry_id": "timeline_entry",
    "family_id": "family",
    "document_id": "document",
    "task_id": "task",
}


class RefusedReadMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 404 and request.method in ("GET", "HEAD"):
            self._record(request)
        return response

    def _record(self, request) -> None:
        tenant = getattr(request, "tenant", None)
        user = getattr(request, "user", None)
        match = getattr(request, "resolver_match", None)
        if tenant is None or tenant.schema_name == get_public_schema_name() or match is None:
            return
        if user is None or not user.is_authenticated:
            return
        asked = next(
            ((ID_ARGUMENTS[name], value) for name, value in match.kwargs.items() if name in ID_ARGUMENTS), None
        )
        if asked is None:
            return
        object_type, object_id = asked
        try:
            if not redaction.hidden_from(user, object_type, str(object_id)):
                return
            audit_read_refused(request=request, object_type=object_type, object_id=object_id,
                               how=f"{request.method} {match.route}")  # fmt: skip
        except Exception:  # the answer must not change with the audit's fate (no oracle)
            logger.exception("a refused read of %s could not be recorded", object_type)
