"""The API's floor: one base class, one error shape, one strict JSON parser, the input fields
every API module uses, pagination, Idempotency-Key, the error answers documented on every
operation of the OpenAPI schema, and the schema's reference page. Imports no app.

Public API (``from concord.api import X``), by module:

- ``base``: ``BaseApi`` (every API view's base: ``IsVerified``, ``WritersOnly``, the escaped
  renderer), ``valid(serializer_class, data, **kwargs)`` (validated data, or a 400);
- ``permissions``: ``IsVerified`` (the default permission: a verified session or an API client's
  token), ``WritersOnly``;
- ``clients``: ``ClientCredential`` (``request.auth`` of a token request), ``client_of(request)``,
  ``AREAS``, ``SCOPES``, ``WRITE_SCOPES``, ``ANY_CLIENT``, ``scope_label``, ``scope_needed``,
  ``scope_refusal`` (every ``BaseApi`` checks it: 403 ``scope_missing``);
- ``renderers``: ``EscapedJSONRenderer`` (``<``, ``>``, ``&`` as ``\\u003c`` ...);
- ``errors``: ``exception_handler`` (Django's ``ValidationError`` -> 400 naming the field;
  ``concord.errors``: ``Conflict`` -> 409, ``Unavailable`` -> 503 with ``Retry-After``,
  ``DocumentMissing`` -> 404, each with its code), ``error_response``;
- ``pagination``: ``Pagination``, ``CountedPagination(count)`` (a list whose count is known),
  ``paginated(request, view, queryset, serializer_class)``;
- ``parsers``: ``JSONParser`` (lone surrogates, NUL, nesting deeper than ``MAX_JSON_DEPTH``,
  NaN/Infinity and ``1e999`` refused, naming the top-level field), ``MAX_JSON_DEPTH``;
- ``fields``: ``IdField``, ``ChoiceField``, ``TextField``, ``VisibleIdField`` (a record named by id among
  those the user may see), ``SlugRelatedField``, ``DateField``,
  ``DateTimeField`` (and ``DATE_MIN``, ``DATE_MAX`` from ``concord.fields``);
- ``schema``: ``ERROR_SCHEMA``, ``document_error_responses`` (a drf-spectacular hook),
  ``page_of(serializer_class, name)``;
- ``idempotency``: ``answer_once(request, create, store=)``, ``IDEMPOTENCY_HEADER``,
  ``IdempotencyKeyReused``, ``idempotency_key_of``, ``request_fingerprint``;
- ``docs``: ``api_docs`` (the ``/api/docs/`` page: the OpenAPI schema rendered on the server),
  ``api_reference(schema)`` (a schema as that page's ``ApiReference``).

Bad input is a 400, never a 500, and is refused at one layer: the body by the parser, the
values by the fields, and the answer never echoes text that cannot be encoded.

The names load on first use (PEP 562): DRF imports ``permissions`` and ``parsers`` (its
defaults) while it defines ``APIView``, so this package may not import ``base`` (which
subclasses ``APIView``) up front.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "BaseApi": "base",
    "valid": "base",
    "IsVerified": "permissions",
    "WritersOnly": "permissions",
    "ClientCredential": "clients",
    "client_of": "clients",
    "AREAS": "clients",
    "SCOPES": "clients",
    "WRITE_SCOPES": "clients",
    "ANY_CLIENT": "clients",
    "scope_label": "clients",
    "scope_needed": "clients",
    "scope_refusal": "clients",
    "EscapedJSONRenderer": "renderers",
    "exception_handler": "errors",
    "error_response": "errors",
    "Pagination": "pagination",
    "CountedPagination": "pagination",
    "paginated": "pagination",
    "JSONParser": "parsers",
    "MAX_JSON_DEPTH": "parsers",
    "NON_FIELD": "parsers",
    "ID_MAX": "fields",
    "IdField": "fields",
    "ChoiceField": "fields",
    "TextField": "fields",
    "VisibleIdField": "fields",
    "SlugRelatedField": "fields",
    "DateField": "fields",
    "DateTimeField": "fields",
    "DATE_MIN": "fields",
    "DATE_MAX": "fields",
    "ERROR_SCHEMA": "schema",
    "document_error_responses": "schema",
    "page_of": "schema",
    "IDEMPOTENCY_HEADER": "idempotency",
    "IdempotencyKeyReused": "idempotency",
    "answer_once": "idempotency",
    "idempotency_key_of": "idempotency",
    "request_fingerprint": "idempotency",
    "api_docs": "docs",
    "api_reference": "docs",
    "ApiReference": "docs",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
