"""Storing, downloading and deleting documents. The only code that writes documents.

Order of an upload: check size and type, scan it for malware (ClamAV's daemon:
``scanning``; infected is refused and audited ``document.malware_refused``, no verdict is
``ScannerUnavailable``: never stored unscanned), clean images, upload the object (server-side
encryption requested on the PUT), then insert the row and its audit event in one
transaction. If storage fails nothing is written and ``StorageUnavailable`` says so;
if the insert fails the object is deleted (best effort), and anything left behind is
removed by the orphan sweep (``tenant_apps.documents.jobs``).

Every storage call is bounded (``tenants.storage.bounded_call``): an upload, delete or
read fails within ``STORAGE_DEADLINE_SECONDS`` when storage is down or frozen
(``StorageUnavailable``, ``DocumentUnreadable``). A document whose object storage says
does not exist raises ``DocumentMissing`` and is audited ``document.missing``.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

import boto3.exceptions
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.core.files.storage import storages
from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.http import content_disposition_header

from concord.errors import DocumentMissing, StorageUnavailable
from tenant_apps.audit.services import audit_record, audit_record_apart
from tenant_apps.documents import access, content, scanning
from tenant_apps.documents.models import Document
from tenant_apps.documents.selectors import document_get_for_user
from tenants.storage import StorageBusy, StorageTimeout, is_missing, storage_saturated

logger = logging.getLogger(__name__)

STORAGE_ALIAS = "documents"
KEY_FOLDER = "documents"
# Errors that mean "storage did not do it": unreachable, refused, timed out (botocore's own
# timeouts or the overall STORAGE_DEADLINE_SECONDS), or too many calls already in flight.
STORAGE_ERRORS = (BotoCoreError, ClientError, boto3.exceptions.Boto3Error, StorageTimeout)

# ``StorageUnavailable`` and ``DocumentMissing`` are the floor's domain errors (``concord.errors``:
# mapped once, for the API and for pages), importable from here as before.


class DocumentUnreadable(StorageUnavailable):
    """Storage could not be reached to read or sign a document: try again later."""

    message = "The file cannot be shown at the moment. Try again in a few minutes."


def documents_storage():
    """The partnership-prefixed object storage that holds documents (``STORAGES["documents"]``)."""
    return storages[STORAGE_ALIAS]


def _request_and_user(request_or_user) -> tuple[HttpRequest | None, Any]:
    if isinstance(request_or_user, HttpRequest):
        return request_or_user, request_or_user.user
    return None, request_or_user


def _limit_text(limit: int) -> str:
    return f"{limit / (1024 * 1024):.3g} MB"


def _read_bounded(file, limit: int) -> bytes:
    too_large = content.refuse(f"The file is too large: the limit is {_limit_text(limit)}.")
    size = getattr(file, "size", None)
    if size is not None and size > limit:
        raise too_large
    if hasattr(file, "seek"):
        file.seek(0)
    data = file.read(limit + 1)
    if len(data) > limit:
        raise too_large
    if not data:
        raise content.refuse("The file is empty.")
    return data


def document_store(*, request_or_user, file, attached_to_type: str, attached_to_id: str | int) -> Document:
    """Check, clean and store ``file`` for the current partnership; return its ``Document``.

    ``file`` is an ``UploadedFile`` (or any file object with ``read`` and ideally
    ``name``). The caller has already decided that the user may attach documents to
    ``(attached_to_type, attached_to_id)``; the type must have a registered access
    rule (``access.register``) or ``access.UnknownAttachmentType`` is raised.

    Raises ``ValidationError({"file": [...]})`` for a file that is too large, empty, of
    a type not accepted (decided by its content), an unreadable image, or malware (audited
    ``document.malware_refused`` even when the caller's transaction rolls back);
    ``ScannerUnavailable`` (a ``StorageUnavailable``) if the malware scanner gives no verdict;
    and ``StorageUnavailable`` if object storage fails. Either way nothing is saved.
    """
    request, user = _request_and_user(request_or_user)
    access.ensure_registered(attached_to_type)
    if storage_saturated():  # storage is stuck: refuse before reading and cleaning the file
        logger.warning("document upload refused: storage calls saturated")
        raise StorageUnavailable()
    limit = settings.DOCUMENT_MAX_BYTES
    data = _read_bounded(file, limit)
    kind = content.sniff(data)
    _refuse_malware(data, file=file, request=request, user=user, attached_to_type=attached_to_type,
                    attached_to_id=attached_to_id)  # fmt: skip
    width = height = None
    if kind.is_image:
        clean = content.image_reencode(data, kind, max_pixels=settings.DOCUMENT_MAX_IMAGE_PIXELS)
        data, width, height = clean.data, clean.width, clean.height
        if len(data) > limit:
            raise content.refuse(f"The file is too large: the limit is {_limit_text(limit)}.")

    document_id = uuid.uuid4()
    now = timezone.now()
    name = f"{KEY_FOLDER}/{now:%Y}/{now:%m}/{document_id}{kind.extension}"
    storage = documents_storage()
    try:
        # One PUT within STORAGE_DEADLINE_SECONDS; the Content-Type is what we detected. A PUT
        # abandoned at the deadline may still land: the orphan sweep removes that object.
        key = storage.put_bytes(name, data, content_type=kind.content_type)
    except STORAGE_ERRORS as exc:
        logger.warning("document upload failed: storage unavailable (%s)", type(exc).__name__, exc_info=True)
        raise StorageUnavailable() from exc

    try:
        with transaction.atomic():
            document = Document.objects.create(
                id=document_id,
                storage_key=key,
                original_filename=content.filename_sanitise(getattr(file, "name", "") or ""),
                content_type=kind.content_type,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                uploaded_by=user,
                uploaded_at=now,
                is_image=kind.is_image,
                width=width,
                height=height,
                attached_to_type=attached_to_type,
                attached_to_id=str(attached_to_id),
            )
            audit_record(
                action="document.uploaded",
                request=request,
                actor=user,
                object_type="document",
                object_id=str(document.pk),
                summary=f"{kind.label}, {len(data)} bytes, attached to {attached_to_type} {attached_to_id}",
            )
    except BaseException:
        _delete_quietly(storage, name)
        raise
    return document


def _refuse_malware(data: bytes, *, file, request, user, attached_to_type: str, attached_to_id) -> None:
    """Scan ``data`` (as uploaded, before anything is stored). Malware: audited at once (what was
    found and the file's name, never its content), then refused on ``file``. No verdict:
    ``ScannerUnavailable`` from ``scanning.scan``."""
    found = scanning.scan(data)
    if found is None:
        return
    filename = content.filename_sanitise(getattr(file, "name", "") or "")
    audit_record_apart(
        action="document.malware_refused",
        request=request,
        actor=user,
        object_type=attached_to_type,
        object_id=str(attached_to_id),
        summary=f"{found} found in {filename!r}; the upload was refused and nothing was stored",
    )
    raise content.refuse(f"This file contains malware ({found}), so it was refused.")


def _delete_quietly(storage, name: str) -> None:
    try:
        storage.delete(name)
    except STORAGE_ERRORS:
        logger.warning("could not delete object %s; the orphan sweep will", name, exc_info=True)


def _record_missing(*, request, user, document: Document, when: str) -> None:
    """Audit (and log) a stored document whose object storage says does not exist."""
    logger.error("document %s: object %s is missing from storage (%s)", document.pk, document.storage_key, when)
    audit_record(
        action="document.missing",
        request=request,
        actor=user,
        object_type="document",
        object_id=str(document.pk),
        summary=f"stored file missing ({when}); attached to {document.attached_to_type} {document.attached_to_id}",
    )


def _checked_name(*, user, document: Document) -> str:
    """The storage name of ``document`` if ``user`` may read it; ``PermissionDenied`` otherwise."""
    if not document.is_stored or not access.can_access(
        user, attached_to_type=document.attached_to_type, attached_to_id=document.attached_to_id
    ):
        raise PermissionDenied
    try:
        return documents_storage().name_for_key(document.storage_key)
    except Exception as exc:  # SuspiciousOperation: a key outside this partnership's prefix
        raise PermissionDenied from exc


def document_read(*, user, document: Document, request: HttpRequest | None = None) -> bytes:
    """The bytes of ``document`` (an inline image), read within ``STORAGE_DEADLINE_SECONDS``.

    ``PermissionDenied`` as ``document_download_url``; ``DocumentMissing`` (audited
    ``document.missing``) when storage says the object does not exist; ``DocumentUnreadable``
    when storage cannot be reached. Nothing is remembered: the next call asks storage again.
    Not audited when read (see ``views.image``).
    """
    name = _checked_name(user=user, document=document)
    return _stored_bytes(lambda: documents_storage().read_bytes(name), request=request, user=user,
                         document=document, when="image")  # fmt: skip


def _stored_bytes(read, *, request, user, document: Document, when: str) -> bytes:
    """``read()``, with storage's errors as the domain's: ``DocumentMissing`` (audited
    ``document.missing``) when the object does not exist, ``DocumentUnreadable`` otherwise."""
    try:
        return read()
    except STORAGE_ERRORS as exc:
        if is_missing(exc):
            _record_missing(request=request, user=user, document=document, when=when)
            raise DocumentMissing() from exc
        logger.warning("document %s could not be read from storage (%s)", document.pk, type(exc).__name__)
        raise DocumentUnreadable() from exc


THUMBNAIL_CACHE = "thumbnails"
# A page asks for its thumbnails all at once (a browser sends about six requests in parallel), more
# than the STORAGE_MAX_CALLS a process lets in flight: a thumbnail being made waits this long, in
# short steps, for a call to come free, rather than answering 503 at once. A frozen store fills
# every call, so then each waits this long and answers 503.
THUMBNAIL_BUSY_WAIT_SECONDS = 1.0
_BUSY_STEP_SECONDS = 0.05


def _read_for_thumbnail(name: str) -> bytes:
    deadline = time.monotonic() + THUMBNAIL_BUSY_WAIT_SECONDS
    while True:
        try:
            return documents_storage().read_bytes(name)
        except StorageBusy:
            if time.monotonic() >= deadline:
                raise
            time.sleep(_BUSY_STEP_SECONDS)


def document_thumbnail(*, user, document: Document, request: HttpRequest | None = None) -> bytes:
    """A small JPEG of the image ``document`` (``content.image_thumbnail``), made on its first read
    and kept in the process (the ``thumbnails`` cache, keyed by the schema, the document and its
    ``sha256``): later reads cost no storage call.

    Access is checked on every call, before the cache is consulted (``PermissionDenied`` as
    ``document_read``); then as ``document_read`` (``DocumentMissing``, audited;
    ``DocumentUnreadable`` when storage cannot be reached, nothing kept). Not audited when read:
    the page that shows it is (see ``views.thumbnail``). An image Pillow cannot decode (it was
    decoded when stored, so only a damaged object) is ``DocumentMissing``.
    """
    name = _checked_name(user=user, document=document)
    cache = caches[THUMBNAIL_CACHE]
    key = f"thumbnail:{document.pk}:{document.sha256}:{content.THUMBNAIL_LONG_SIDE}"
    thumbnail = cache.get(key)
    if thumbnail is not None:
        return thumbnail
    data = _stored_bytes(lambda: _read_for_thumbnail(name), request=request, user=user, document=document,
                         when="thumbnail")  # fmt: skip
    try:
        thumbnail = content.image_thumbnail(data)
    except ValueError as exc:
        _record_missing(request=request, user=user, document=document, when="thumbnail: not readable as an image")
        raise DocumentMissing() from exc
    cache.set(key, thumbnail)
    return thumbnail


def document_download_url(*, user, document: Document, request: HttpRequest | None = None) -> str:
    """A presigned GET URL for ``document``, valid for ``AWS_QUERYSTRING_EXPIRE`` (<= 60) seconds.

    Checks access through the rule registered for the document's type (fail closed)
    and refuses documents that are deleted or belong to another partnership's prefix:
    ``PermissionDenied``. Then asks storage whether the object exists (its first byte,
    within ``STORAGE_DEADLINE_SECONDS``), so that nobody is sent to a URL that cannot work:
    ``DocumentMissing`` (audited ``document.missing``) if it does not, ``DocumentUnreadable``
    if storage cannot be reached. The URL makes the browser save the file (attachment)
    under its sanitised name, with the detected content type. Audits ``document.downloaded``.
    """
    name = _checked_name(user=user, document=document)
    storage = documents_storage()
    try:
        storage.probe(name)
    except STORAGE_ERRORS as exc:
        if is_missing(exc):
            _record_missing(request=request, user=user, document=document, when="download")
            raise DocumentMissing() from exc
        logger.warning("document %s could not be checked in storage (%s)", document.pk, type(exc).__name__)
        raise DocumentUnreadable() from exc
    filename = content.download_filename(document.original_filename, document.content_type)
    expire = _url_lifetime()
    url = storage.url(
        name,
        parameters={
            "ResponseContentDisposition": content_disposition_header(as_attachment=True, filename=filename),
            "ResponseContentType": document.content_type,
            "ResponseCacheControl": "no-store",
        },
        expire=expire,
    )
    audit_record(
        action="document.downloaded",
        request=request,
        actor=user,
        object_type="document",
        object_id=str(document.pk),
        summary=f"attached to {document.attached_to_type} {document.attached_to_id}",
    )
    return url


def _url_lifetime() -> int:
    """Seconds a presigned download URL stays valid: ``AWS_QUERYSTRING_EXPIRE``, at most 60."""
    return min(int(settings.AWS_QUERYSTRING_EXPIRE), 60)


@dataclass(frozen=True)
class DownloadLink:
    url: str  # presigned, for a GET
    expires_in: int  # seconds the URL stays valid


def document_download_link(*, user, document_id, request: HttpRequest | None = None) -> DownloadLink:
    """The download of the document ``document_id``, for both of its endpoints: the page's
    ``/documents/<id>/download/`` (a redirect to the URL) and the API's ``download-url`` (the URL
    as JSON). Missing, deleted and not-yours all raise the same ``Http404``; then as
    ``document_download_url`` (``DocumentMissing``, ``DocumentUnreadable``; audited)."""
    document = document_get_for_user(user=user, document_id=document_id)
    if document is None:
        raise Http404("No such document")
    try:
        url = document_download_url(user=user, document=document, request=request)
    except PermissionDenied:
        raise Http404("No such document") from None
    return DownloadLink(url=url, expires_in=_url_lifetime())


def document_delete(*, request_or_user, document: Document, reason: str) -> Document:
    """Mark ``document`` deleted (the row stays, for the record) and delete its object.

    The caller decides who may delete. The object is deleted after the transaction
    commits; if storage is down then, the sweep removes it later (its row is no longer
    ``stored``). Audits ``document.deleted``.
    """
    request, user = _request_and_user(request_or_user)
    reason = (reason or "").strip()
    if not reason:
        raise content.refuse("Say why the document is being deleted.")
    if not document.is_stored:
        return document
    with transaction.atomic():
        document.status = Document.Status.DELETED
        document.deleted_at = timezone.now()
        document.deleted_reason = reason[:300]
        document.save(update_fields=["status", "deleted_at", "deleted_reason"])
        audit_record(
            action="document.deleted",
            request=request,
            actor=user,
            object_type="document",
            object_id=str(document.pk),
            summary=reason[:300],
        )
        storage = documents_storage()
        name = storage.name_for_key(document.storage_key)
        transaction.on_commit(lambda: _delete_quietly(storage, name))
    return document
