"""Idempotency-Key: a retried create creates nothing twice.

The floor holds the protocol (``answer_once``); the rows live in a tenant app, which passes
its ``store`` (``tenant_apps.casework.idempotency.KeyStore``: the floor imports no app). A store
has ``claim(user=, key=, fingerprint=)`` (None when the key is now this request's, else the
earlier request's answered row, with ``fingerprint`` and ``status_code``), ``answer(row)`` (the
stored body) and ``remember(user=, key=, status_code=, body=)``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json

from django.db import transaction
from django.http.request import RawPostDataException
from rest_framework import exceptions, status
from rest_framework.response import Response

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
