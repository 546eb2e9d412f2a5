"""Downloads and inline images.

A download is a permission check, a probe of storage (a missing file answers 404 and
is audited, storage down answers 503), an audit event, then a redirect to a short-lived
presigned URL. An inline image (a profile photo in a page) and a thumbnail (of a photo on the timeline)
are served through the application: the pages' CSP allows images from 'self' only, and
access is checked on every request.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tenant_apps.accounts.readlimits import DOWNLOAD, read_limited
from tenant_apps.documents.selectors import document_get_for_user
from tenant_apps.documents.services import (
    DocumentMissing,
    DocumentUnreadable,
    document_download_link,
    document_read,
    document_thumbnail,
)

# Documents that may be shown inline, by what they are attached to. Only photos that
# stand for a record (a profile's photo); evidence attached to the timeline is downloaded,
# and every download is audited.
INLINE_TYPES = frozenset({"profile_photo"})
# Documents whose thumbnail (``content.THUMBNAIL_LONG_SIDE`` px) may be shown in a page: a profile's
# photo, and a photo attached to a timeline entry (its original is downloaded, audited).
THUMBNAIL_TYPES = frozenset({"profile_photo", "timeline_entry"})
# A browser may keep a thumbnail for this long, for that user only ("private": never a shared cache).
THUMBNAIL_MAX_AGE = 600


def _problem_page(request, *, status: int, title: str, message: str) -> HttpResponse:
    response = render(request, "documents/unavailable.html", {"title": title, "message": message}, status=status)
    response["Cache-Control"] = "no-store"  # the file may come back, or storage recover
    return response


def _problem_text(*, status: int, message: str) -> HttpResponse:
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@read_limited(DOWNLOAD)
def download(request, document_id):
    """302 to a presigned URL (<= 60 s). Missing, deleted and not-yours all answer 404.

    The same download as the API's ``download-url`` (``services.document_download_link``),
    answered as a redirect, or a page saying what is wrong."""
    try:
        link = document_download_link(user=request.user, document_id=document_id, request=request)
    except DocumentMissing as error:
        return _problem_page(request, status=404, title="This file is missing", message=str(error))
    except DocumentUnreadable as error:
        return _problem_page(request, status=503, title="This file cannot be opened now", message=str(error))
    response = HttpResponseRedirect(link.url)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@read_limited(DOWNLOAD)
def image(request, document_id):
    """The image's bytes, read from storage within ``STORAGE_DEADLINE_SECONDS``, for an ``<img>``.

    Access through the registered rule (``document_get_for_user``): missing, deleted,
    not-yours, not an image and not an inline kind all answer the same 404. Not audited
    per request: the page showing it is (a profile view is recorded), a gallery of 50
    photos would add 50 events per page without telling anyone more, and saving the
    file itself goes through ``download``, which is audited.

    Read whole (a profile photo, re-encoded, at most ``DOCUMENT_MAX_BYTES``) rather than
    streamed, so that one deadline bounds the read: a store that trickles bytes cannot
    hold the worker. 404 with a clear text (and a ``document.missing`` event) when the
    object is gone; 503 when storage cannot be reached; neither is cached.
    """
    document = document_get_for_user(user=request.user, document_id=document_id)
    if document is None or not document.is_image or document.attached_to_type not in INLINE_TYPES:
        raise Http404("No such image")
    try:
        data = document_read(user=request.user, document=document, request=request)
    except PermissionDenied:
        raise Http404("No such image") from None
    except DocumentMissing as error:  # audited; the page shows its text instead of the image
        return _problem_text(status=404, message=str(error))
    except DocumentUnreadable:
        return _problem_text(status=503, message="The image cannot be shown at the moment.")
    response = HttpResponse(data, content_type=document.content_type)
    response["Content-Length"] = str(len(data))
    response["Cache-Control"] = "no-store, private"
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@read_limited(DOWNLOAD)
def thumbnail(request, document_id):
    """A small JPEG of an image attached to a timeline entry (or of a profile photo), for the
    timeline's ``<img>``; the original is opened through ``download`` (audited).

    Access as ``image``: missing, deleted, not-yours (another team's restricted entry, another
    partnership), not an image and not a kind with thumbnails all answer the same 404. Made on
    its first read and kept in the process (``services.document_thumbnail``).

    Not audited per request, as ``image``: the page that shows it is audited (a case or profile
    page records its ``*.viewed`` event with every read), so a timeline of 25 photos adds one
    event, not 26, and the original, which is the evidence, is only saved through ``download``,
    audited each time. ``Cache-Control: private, max-age=600``: the user's own browser may keep it
    for ten minutes, no shared cache may. 404 with a text when the object is gone; 503 when
    storage cannot be reached (the page still renders; the ``<img>`` shows its alt text);
    neither is cached.
    """
    document = document_get_for_user(user=request.user, document_id=document_id)
    if document is None or not document.is_image or document.attached_to_type not in THUMBNAIL_TYPES:
        raise Http404("No such image")
    try:
        data = document_thumbnail(user=request.user, document=document, request=request)
    except PermissionDenied:
        raise Http404("No such image") from None
    except DocumentMissing as error:
        return _problem_text(status=404, message=str(error))
    except DocumentUnreadable:
        return _problem_text(status=503, message="The image cannot be shown at the moment.")
    response = HttpResponse(data, content_type="image/jpeg")
    response["Content-Length"] = str(len(data))
    response["Cache-Control"] = f"private, max-age={THUMBNAIL_MAX_AGE}"
    response.private_cache_allowed = True  # concord.middleware leaves out its no-store for this one
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response
