"""Every API call of an API client, audited: ``api.call`` under the client's service account
("API client: Police RMS"), with the method, the path without its query (a query may carry
search-like terms) and the answer's status; never the token, a body or a header.

One event per call, besides the events the call's own reads and writes record
(``profile.viewed``, ``case.created``...): those say what was seen or changed, this one says that
the client called at all, also when the answer was a refusal (403 ``scope_missing``, 404, 400)
that records nothing else. Calls refused for a bad token (401) have no client to name; calls over
the rate limit are audited once per window (``api.rate_limited``). It sits after the
authentication middleware; the client is known once DRF has authenticated the token
(``request.auth``).
"""

from __future__ import annotations

from concord.api import client_of
from tenant_apps.audit.services import audit_record

API_CALL = "api.call"


class ApiClientAuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        client = client_of(request)
        if client is not None:
            summary = f"{client.label}: {request.method} {request.path} answered {response.status_code}"
            audit_record(action=API_CALL, request=request, actor=request.user, object_type="api_client",
                         object_id=client.client_id, summary=summary)  # fmt: skip
        return response
