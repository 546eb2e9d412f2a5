"""The one error shape, and the one exception handler (``REST_FRAMEWORK["EXCEPTION_HANDLER"]``).

Every error answers ``{"error": {"status": 400, "code": "invalid", "message": "...",
"fields": {"field": ["message", ...]}}}``; ``fields`` appears for validation errors.

Mapped here, once, so views never translate errors by hand:

- a Django ``ValidationError`` (a service's refusal of input): 400 ``invalid`` naming the field;
- ``Http404``: 404 ``not_found``; Django's ``PermissionDenied``: 403 ``permission_denied``;
- the domain errors of ``concord.errors``, each answering its own ``code`` and ``message``:
  a ``Conflict`` (``ChangedSinceOpened``...) 409; an ``Unavailable`` (``StorageUnavailable``)
  503 with ``Retry-After``; ``DocumentMissing`` 404; any other ``DomainError`` 400.

An error message never echoes text that cannot be encoded (``safe_text``).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from concord.api.text import safe_text
from concord.errors import Conflict, DocumentMissing, DomainError, Unavailable

# The HTTP status of each kind of domain error; the nearest kind in the error's class wins.
DOMAIN_STATUS = {
    Conflict: status.HTTP_409_CONFLICT,
    Unavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
    DocumentMissing: status.HTTP_404_NOT_FOUND,
    DomainError: status.HTTP_400_BAD_REQUEST,
}


def domain_status(error: DomainError) -> int:
    return next(DOMAIN_STATUS[kind] for kind in type(error).__mro__ if kind in DOMAIN_STATUS)


def _flatten(detail):
    if isinstance(detail, dict):
        return {safe_text(key): _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        flat = []
        for item in detail:
            value = _flatten(item)
            flat.extend(value if isinstance(value, list) else [value])
        return flat
    return safe_text(detail)


def _as_api_exception(error: DomainError) -> exceptions.APIException:
    answer = exceptions.APIException(error.message, code=error.code)
    answer.status_code = domain_status(error)
    return answer


def exception_handler(exc, context):
    retry_after = None
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DomainError):
        retry_after = exc.retry_after if isinstance(exc, Unavailable) else None
        exc = _as_api_exception(exc)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's 500 handling and error reporting take it

    body = {"status": response.status_code, "code": "error", "message": ""}
    if isinstance(exc, exceptions.ValidationError):
        body["code"] = "invalid"
        body["message"] = "The request has invalid fields."
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body["fields"] = _flatten(detail)
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        body["code"] = codes if isinstance(codes, str) else "error"
        body["message"] = safe_text(exc.detail) if not isinstance(exc.detail, (dict, list)) else "Request failed."
    headers = _keep_headers(response)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Response({"error": body}, status=response.status_code, headers=headers)


def _keep_headers(response):
    return {k: v for k, v in response.items() if k in ("WWW-Authenticate", "Retry-After", "Allow")}


def error_response(status_code: int, code: str, message: str) -> Response:
    """An answer in the error shape, for the rare view that answers an error it does not raise."""
    return Response({"error": {"status": status_code, "code": code, "message": message}}, status=status_code)
