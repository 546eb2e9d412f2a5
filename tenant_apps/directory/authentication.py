"""The API's token authentication (first of ``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]``).

``Authorization: Bearer concord_...``: the token is looked up in the request's schema only
(``selectors.api_token_authenticate``); anything that does not work now (malformed, another
partnership's, unknown, expired, rotated out, revoked) answers 401 ``authentication_failed``
with ``WWW-Authenticate: Bearer``, whatever else the request carries. A request with a token is
the token's only, even if it also carries a session cookie (a person trying a token in the API
docs while signed in): the session is not read, so no CSRF check applies and nothing is done as
the person. Each call is counted against the client's rate limit (``API_CLIENT_RATE_LIMIT`` per
``API_CLIENT_RATE_WINDOW_SECONDS``, across processes): over it, 429 ``throttled`` with
``Retry-After``. The token is never logged or stored: only its keyed hash is compared.

A request without a Bearer header is left to the session authentication that follows.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from tenant_apps.directory.selectors import api_token_authenticate
from tenant_apps.directory.services import api_client_call_count

KEYWORD = b"bearer"
REFUSED = "The API token is not valid here: it is unknown, expired or revoked."


class ApiClientTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the token as: Authorization: Bearer <token>.")
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(REFUSED) from None
        found = api_token_authenticate(token=token)
        if found is None:
            raise exceptions.AuthenticationFailed(REFUSED)
        user, credential = found
        count = api_client_call_count(request=request._request, client_id=credential.client_id, actor=user)
        if not count.allowed:
            raise exceptions.Throttled(
                wait=count.retry_after,
                detail=f"More than {count.limit} calls a minute from this API client. Try again later.",
            )
        return user, credential

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class ApiClientTokenScheme(OpenApiAuthenticationExtension):
    """The bearer security scheme in the OpenAPI schema, listed on every operation."""

    target_class = "tenant_apps.directory.authentication.ApiClientTokenAuthentication"
    name = "apiClientToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "concord_<partnership>_<lookup>_<secret>",
            "description": "An API client's token, issued by a partnership admin at /admin/api-clients/. "
            "It acts for one team, within the client's scopes (403 scope_missing otherwise).",
        }
