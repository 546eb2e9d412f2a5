"""The API's floor: one JSON error shape, one strict JSON parser, the input fields every API
module uses, and the error answers documented on every operation of the OpenAPI schema.

Every error answers ``{"error": {"status": 400, "code": "invalid", "message": "...",
"fields": {"field": ["message", ...]}}}``; ``fields`` appears for validation errors.
Domain errors raised by services (Django ``ValidationError``) map here too, so
views never translate them by hand.

Bad input is a 400, never a 500, and is refused at one layer:

- the body: ``JSONParser`` refuses what no field could use (lone surrogates, NUL, nesting
  deeper than ``MAX_JSON_DEPTH``, NaN/Infinity, numbers out of a float's range), naming the
  top-level field it was found in;
- the values: ``IdField``, ``ChoiceField``, ``SlugRelatedField``, ``DateField`` and
  ``DateTimeField`` refuse non-integers, NUL, and dates outside ``DATE_MIN``..``DATE_MAX``;
- the answer: an error message never echoes text that cannot be encoded (``_text``).
"""

from __future__ import annotations

import datetime as dt
import json
import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

# --- The error shape ---------------------------------------------------------------------


def _text(value) -> str:
    """Text that can always be encoded: a lone surrogate (never valid UTF-8) becomes ``?``."""
    return str(value).encode("utf-8", "replace").decode("utf-8")


def _flatten(detail):
    if isinstance(detail, dict):
        return {_text(key): _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        flat = []
        for item in detail:
            value = _flatten(item)
            flat.extend(value if isinstance(value, list) else [value])
        return flat
    return _text(detail)


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

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
        body["message"] = _text(exc.detail) if not isinstance(exc.detail, (dict, list)) else "Request failed."
    return Response({"error": body}, status=response.status_code, headers=_keep_headers(response))


def _keep_headers(response):
    return {k: v for k, v in response.items() if k in ("WWW-Authenticate", "Retry-After", "Allow")}


def error_response(status_code: int, code: str, message: str) -> Response:
    return Response({"error": {"status": status_code, "code": code, "message": message}}, status=status_code)


# --- The body ----------------------------------------------------------------------------

MAX_JSON_DEPTH = 32  # our deepest input is 3 levels (cases_create's subjects); a few more for growth
NON_FIELD = "non_field_errors"


class JSONParser(parsers.JSONParser):
    """JSON bodies, with everything no field of ours can hold refused before any serializer
    sees it: a 400 naming the top-level field (``non_field_errors`` for the body as a whole).

    Refused: text that is not UTF-8 (a lone surrogate such as ``"\\ud800"``, which the standard
    ``json`` module lets through and no renderer can encode), NUL (PostgreSQL text cannot hold
    it), nesting deeper than ``MAX_JSON_DEPTH`` (100 KB of ``[`` exhausted the stack), NaN and
    Infinity, numbers beyond a float's range (``1e999``) and integers of more than 4300 digits.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError:
            raise exceptions.ParseError(f"The body is not valid {encoding}.") from None
        try:
            data = json.loads(text)  # NaN and Infinity parse as floats, refused with their field below
        except RecursionError:
            raise exceptions.ValidationError({NON_FIELD: [_TOO_DEEP]}) from None
        except ValueError as error:
            # json's messages name a position, never the input; int's digit limit says so too
            raise exceptions.ParseError(f"JSON parse error - {_text(error)}") from None
        problems = _refused_in(data)
        if problems:
            raise exceptions.ValidationError(problems)
        return data


_TOO_DEEP = f"The JSON nests more than {MAX_JSON_DEPTH} levels deep."


def _refused_in(data) -> dict[str, list[str]]:
    """What the parser refuses in parsed JSON, by top-level field (walked without recursion)."""
    problems: dict[str, list[str]] = {}
    stack = [(data, 1, NON_FIELD)]
    while stack:
        value, depth, field = stack.pop()
        problem = None
        if depth > MAX_JSON_DEPTH:
            problem = _TOO_DEEP
        elif isinstance(value, str):
            problem = _text_problem(value)
        elif isinstance(value, float) and not math.isfinite(value):
            problem = "A number must be finite (no NaN, Infinity or 1e999)."
        elif isinstance(value, dict):
            for key, item in value.items():
                name = _text(key).replace("\x00", "") if depth == 1 else field
                problem = problem or _text_problem(key)
                stack.append((item, depth + 1, name))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, field) for item in value)
        if problem and problem not in problems.get(field, []):
            problems.setdefault(field, []).append(problem)
    return problems


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "Text may not contain NUL (\\u0000)."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Text must be valid Unicode (no lone surrogates)."
    return None


# --- The values --------------------------------------------------------------------------

ID_MAX = 2**63 - 1  # ids are PostgreSQL bigints (DEFAULT_AUTO_FIELD)
# Dates and date-times in the API fall in these years: wide enough for any birth, case or
# due date a partnership records, narrow enough that every one has a valid RFC 3339 form
# (before 1900 Europe/London's offset was -00:01:15, which RFC 3339 cannot write).
DATE_MIN, DATE_MAX = dt.date(1900, 1, 1), dt.date(2100, 12, 31)
_DATE_RANGE = f"Enter a date from {DATE_MIN.isoformat()} to {DATE_MAX.isoformat()}."


class IdField(serializers.IntegerField):
    """A record's id: a whole number from 1 to ``ID_MAX``, as a JSON integer (or its digits as
    text, from a form or a query). ``1.5``, ``1.0``, ``true`` and ``"1e3"`` are refused: an id is
    never rounded into another record's."""

    default_error_messages = {"invalid": "Enter an id (a whole number)."}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and data.isascii() and data.isdigit() and len(data) <= 20:
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class ChoiceField(serializers.ChoiceField):
    """A choice whose error lists the choices and never echoes what was sent."""

    default_error_messages = {"invalid_choice": "Choose one of: {choices}."}

    def to_internal_value(self, data):
        if data == "" and self.allow_blank:
            return ""
        if isinstance(data, str | int) and not isinstance(data, bool) and str(data) in self.choice_strings_to_values:
            return self.choice_strings_to_values[str(data)]
        self.fail("invalid_choice", choices=", ".join(self.choice_strings_to_values))


class SlugRelatedField(serializers.SlugRelatedField):
    """A record named by a code (``case_type``): text only, never NUL, never echoed back."""

    default_error_messages = {"does_not_exist": "Unknown {slug_name}.", "invalid": "Enter a code (text)."}

    def to_internal_value(self, data):
        if not isinstance(data, str) or _text_problem(data) or len(data) > 100:
            self.fail("invalid")
        return super().to_internal_value(data)


def _date_in_range(value: dt.date) -> None:
    if not DATE_MIN <= value <= DATE_MAX:
        raise serializers.ValidationError(_DATE_RANGE, code="out_of_range")


@extend_schema_field({"type": "string", "format": "date", "description": _DATE_RANGE})
class DateField(serializers.DateField):
    """A date from ``DATE_MIN`` to ``DATE_MAX`` (a task due 9999-12-31 is a mistake, not a plan)."""

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        _date_in_range(parsed)
        return parsed


@extend_schema_field({"type": "string", "format": "date-time", "description": f"RFC 3339. {_DATE_RANGE[:-1]} (UTC)."})
class DateTimeField(serializers.DateTimeField):
    """A date-time whose UTC date falls from ``DATE_MIN`` to ``DATE_MAX``, answered in RFC 3339
    (the partnership's local time, or UTC for a stored value whose offset has seconds)."""

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        try:
            day = parsed.astimezone(dt.UTC).date()
        except (OverflowError, ValueError):
            self.fail("overflow")
        _date_in_range(day)
        return parsed

    def to_representation(self, value):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            offset = self.enforce_timezone(value).utcoffset()
            if offset is not None and offset.seconds % 60:
                value = value.astimezone(dt.UTC)
                return value.isoformat().replace("+00:00", "Z")
        return super().to_representation(value)


def page_of(serializer_class, name: str):
    """The schema of a page of results (``PageNumberPagination``'s answer)."""
    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


# --- The schema: every operation's error answers ---------------------------------------------

ERROR_SCHEMA = {
    "type": "object",
    "description": "The one error shape of the API.",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message"],
            "properties": {
                "status": {"type": "integer", "description": "The HTTP status, repeated."},
                "code": {
                    "type": "string",
                    "description": "invalid, not_authenticated, permission_denied, "
                    "not_found, changed_since_opened, parse_error, throttled ...",
                },
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "description": "400 invalid only: the messages for each field by name (non_field_errors for "
                    "the request as a whole); a list's or a nested object's messages by index or name.",
                    "additionalProperties": {
                        "anyOf": [
                            {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
                            {"type": "object"},
                        ]
                    },
                },
            },
        }
    },
}
ERROR_ANSWERS = {
    "400": "Invalid input: ``fields`` names each field and what is wrong with it.",
    "403": "Not signed in with a second factor (``not_authenticated``), or not allowed (``permission_denied``).",
    "404": "No such record, or one you may not see (the same answer for both); or no such page.",
    "409": "The record changed since you opened it (``changed_since_opened``): read it again.",
    "422": "This ``Idempotency-Key`` was sent before with another request (``idempotency_key_reused``).",
    "415": "The body's Content-Type is not one this operation takes, or the body cannot be read as one.",
    "429": "Too many requests (``throttled``): try again after ``Retry-After`` seconds.",
}


def document_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: the error answers of every operation, in the one
    ``Error`` shape. Every operation may answer 403 and 429; 400 if it takes a body or a query
    (``page`` alone excepted); 415 if it takes a body; 404 if it names a record in its path or takes a ``page``; 409 if
    it takes the ``version`` you read; 422 if it takes an ``Idempotency-Key``. An answer a view documents
    itself is kept."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue
            parameters = operation.get("parameters", [])
            query = {p["name"] for p in parameters if p["in"] == "query"}
            codes = {"403", "429"}
            if "requestBody" in operation or query - {"page"}:
                codes.add("400")
            if "requestBody" in operation:
                codes.add("415")
            if "page" in query or any(p["in"] == "path" for p in parameters):
                codes.add("404")
            if "version" in query or "version" in _body_fields(operation, schemas):
                codes.add("409")
            if any(p["in"] == "header" and p["name"] == IDEMPOTENCY_HEADER for p in parameters):
                codes.add("422")
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                responses.setdefault(code, {"description": ERROR_ANSWERS[code], "content": error})
            operation["responses"] = dict(sorted(responses.items()))
    return result


def _body_fields(operation, schemas) -> set[str]:
    names: set[str] = set()
    for media in operation.get("requestBody", {}).get("content", {}).values():
        schema = media.get("schema", {})
        ref = schema.get("$ref", "")
        schema = schemas.get(ref.rsplit("/", 1)[-1], {}) if ref else schema
        names.update(schema.get("properties", {}))
    return names


# --- Idempotency-Key: a retried create creates nothing twice ---------------------------------
# The floor holds the protocol; the rows live in a tenant app, which passes its ``store``
# (``tenant_apps.casework.idempotency``: the floor imports no app).

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX_LENGTH = 200


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was used for another request. Send a new key with a new request."


def idempotency_key_of(request) -> str | None:
    """The request's ``Idempotency-Key`` (None if it has none); 400 naming the header if it is not
    1 to 200 printable ASCII characters."""
    raw = request.headers.get(IDEMPOTENCY_HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX_LENGTH or not (key.isascii() and key.isprintable()):
        raise exceptions.ValidationError(
            {IDEMPOTENCY_HEADER: [f"Send 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters."]}
        )
    return key


def request_fingerprint(request) -> str:
    """What "the same request" means for a key: method, path and body (a JSON body compared as
    data, so spacing and key order do not matter; a multipart body by its fields and files)."""
    import contextlib
    import hashlib
    import json

    from django.http.request import RawPostDataException

    if (request.content_type or "").startswith("multipart/"):
        body = _parsed_body(request)  # fields and files: a retry's new boundary is the same request
    else:
        try:
            body = request.body
        except RawPostDataException:  # a form body already read (e.g. by the CSRF check)
            body = _parsed_body(request)
    if (request.content_type or "").startswith("application/json"):
        with contextlib.suppress(ValueError):  # not JSON after all: compared as bytes
            body = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _parsed_body(request) -> bytes:
    """A parsed form body as bytes: each field's name and values, and each file's name and content."""
    import hashlib

    digest = hashlib.sha256()
    for name in sorted(request.POST):
        for value in request.POST.getlist(name):
            digest.update(f"{name}={value}\n".encode())
    for name in sorted(request.FILES):
        for upload in request.FILES.getlist(name):
            digest.update(f"{name}:{upload.name}:".encode())
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
    return digest.digest()


def answer_once(request, create, *, store) -> Response:
    """Run ``create()`` (the view's create: a service call and its serialised answer) in one
    transaction, so the answer is built from what is about to be committed and nothing is read
    after the commit. With an ``Idempotency-Key``:

    - the key is claimed in the same transaction (``store.claim``: a concurrent request with
      the same key waits for this one to commit, never creates a second time);
    - the same key with the same request answers the stored first answer (same status and
      body, header ``Idempotent-Replayed: true``) and creates nothing;
    - the same key with another request (method, path or body) answers 422
      ``idempotency_key_reused``;
    - an error answer stores nothing (the transaction rolls back): a retry runs again.
    """
    from django.db import transaction

    key = idempotency_key_of(request)
    fingerprint = request_fingerprint(request) if key is not None else ""
    with transaction.atomic():
        if key is not None:
            earlier = store.claim(user=request.user, key=key, fingerprint=fingerprint)
            if earlier is not None:
                if earlier.fingerprint != fingerprint:
                    raise IdempotencyKeyReused()
                return Response(store.answer(earlier), status=earlier.status_code,
                                headers={"Idempotent-Replayed": "true"})  # fmt: skip
        response = create()
        if key is not None:
            store.remember(user=request.user, key=key, status_code=response.status_code, body=response.data)
    return response


__all__ = [
    "ChoiceField",
    "DATE_MAX",
    "DATE_MIN",
    "DateField",
    "DateTimeField",
    "IDEMPOTENCY_HEADER",
    "IdField",
    "IdempotencyKeyReused",
    "JSONParser",
    "SlugRelatedField",
    "answer_once",
    "document_error_responses",
    "error_response",
    "exception_handler",
    "idempotency_key_of",
    "page_of",
    "request_fingerprint",
    "status",
]
