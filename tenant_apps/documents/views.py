"""Downloads and inline images.

A download is a permission check, an audit event, then a redirect to a short-lived
presigned URL. An inline image (a profile photo in a page) is streamed through the
application: the pages' CSP allows images from 'self' only, and access is checked on
every request.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.views.decorators.http import require_GET

from tenant_apps.documents.selectors import document_get_for_user
from tenant_apps.documents.services import STORAGE_ERRORS, document_download_url, documents_storage

logger = logging.getLogger(__name__)

# Documents that may be shown inline, by what they are attached to. Only photos that
# stand for a record (a profile's photo); evidence attached to the timeline is downloaded,
# and every download is audited.
INLINE_TYPES = frozenset({"profile_photo"})
CHUNK_BYTES = 64 * 1024


@require_GET
def download(request, document_id):
    """302 to a presigned URL (<= 60 s). Missing, deleted and not-yours all answer 404."""
    document = document_get_for_user(user=request.user, document_id=document_id)
    if document is None:
        raise Http404("No such document")
    try:
        url = document_download_url(user=request.user, document=document, request=request)
    except PermissionDenied:
        raise Http404("No such document") from None
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def image(request, document_id):
    """The image's bytes, streamed from storage, for an ``<img>`` of a page.

    Access through the registered rule (``document_get_for_user``): missing, deleted,
    not-yours, not an image and not an inline kind all answer the same 404. Not audited
    per request: the page showing it is (a profile view is recorded), a gallery of 50
    photos would add 50 events per page without telling anyone more, and saving the
    file itself goes through ``download``, which is audited.
    """
    document = document_get_for_user(user=request.user, document_id=document_id)
    if document is None or not document.is_image or document.attached_to_type not in INLINE_TYPES:
        raise Http404("No such image")
    storage = documents_storage()
    try:
        storage.name_for_key(document.storage_key)  # refuses another partnership's key
    except SuspiciousOperation:
        raise Http404("No such image") from None
    try:
        body = storage.bucket.Object(document.storage_key).get()["Body"]
    except STORAGE_ERRORS:
        logger.warning("image %s could not be read from storage", document.pk, exc_info=True)
        response = HttpResponse("The image cannot be shown at the moment.", status=503, content_type="text/plain")
        response["Cache-Control"] = "no-store"
        return response

    def chunks():
        try:
            yield from body.iter_chunks(CHUNK_BYTES)
        finally:
            body.close()

    response = StreamingHttpResponse(chunks(), content_type=document.content_type)
    response["Content-Length"] = str(document.size)
    response["Cache-Control"] = "no-store, private"
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response
