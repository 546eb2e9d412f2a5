"""Casework's reads of documents (through ``tenant_apps.documents.selectors``): an entry's
attachments and a profile's photo.

The documents app checks access on every download through the rules casework registers
(``casework.documents``); here casework lists what the page or the API shows of documents
attached to records the user may already read.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import CharField, OuterRef, QuerySet
from django.db.models.functions import Cast
from django.urls import reverse

from tenant_apps.casework.models import Profile, TimelineEntry
from tenant_apps.documents import content
from tenant_apps.documents import selectors as document_selectors
from tenant_apps.documents.models import Document

__all__ = ["ENTRY_DOCUMENTS", "PROFILE_PHOTO", "attach_documents", "entry_attachments", "latest_photo_id",
           "profile_photo_url"]  # fmt: skip

ENTRY_DOCUMENTS = "timeline_entry"
PROFILE_PHOTO = "profile_photo"
_NOT_ANNOTATED = object()


def latest_photo_id(profile_id):
    """Subquery: the id of the newest stored photo of ``profile_id`` (an ``OuterRef`` or a pk)."""
    profile_id = Cast(profile_id, CharField()) if isinstance(profile_id, OuterRef) else str(profile_id)
    return document_selectors.newest_stored_image(attached_to_type=PROFILE_PHOTO, attached_to_id=profile_id)


def profile_photo_url(profile: Profile) -> str | None:
    """The URL of the profile's current photo (its newest stored one), or None for the silhouette.

    The image is served through the application (``/documents/<uuid>/image/``): the page's
    CSP allows images from 'self' only, and the view checks access on every request.
    Lists annotate ``photo_document_id`` (``latest_photo_id``) so that this costs no query;
    otherwise it is one query. Documents live in partnership schemas only.
    """
    photo_id = getattr(profile, "photo_document_id", _NOT_ANNOTATED)
    if photo_id is _NOT_ANNOTATED:
        if connection.schema_name == "public":
            return None
        row = next(iter(latest_photo_id(profile.pk)), None)
        photo_id = row["pk"] if row else None
    return reverse("documents:image", kwargs={"document_id": photo_id}) if photo_id else None


def attach_documents(entries) -> None:
    """Set ``attachments`` on each entry of a page: the stored documents of a readable entry
    (``pk``, ``original_filename``, ``size``, and for an image its thumbnail's ``thumbnail_width``
    and ``thumbnail_height``, else None; oldest first), None for an entry the user may not
    read. One query for the page, none when nothing on it is readable. Readability is the
    timeline's ``can_read``, the rule the documents app applies to a download
    (``casework.documents.may_read_entry``).
    """
    readable = {}
    for entry in entries:
        entry.attachments = [] if entry.can_read else None
        if entry.can_read:
            readable[str(entry.pk)] = entry
    if not readable:
        return
    documents = document_selectors.stored_documents_listed(
        attached_to_type=ENTRY_DOCUMENTS, attached_to_ids=readable
    ).values_list("attached_to_id", "pk", "original_filename", "size", "is_image", "width", "height")
    for entry_id, pk, original_filename, size, is_image, width, height in documents:
        thumbnail_width, thumbnail_height = content.thumbnail_size(width, height) if is_image else (None, None)
        readable[entry_id].attachments.append({
            "pk": pk, "original_filename": original_filename, "size": size,
            "thumbnail_width": thumbnail_width, "thumbnail_height": thumbnail_height,
        })  # fmt: skip


def entry_attachments(*, entry: TimelineEntry, user=None) -> QuerySet[Document]:
    """The stored documents of an entry the caller read with ``access_entry(readable=True)``,
    oldest first; with ``user``, through the documents app's own rule as well (none if it refuses)."""
    if user is None:
        return document_selectors.stored_documents_listed(attached_to_type=ENTRY_DOCUMENTS, attached_to_ids=[entry.pk])
    documents = document_selectors.documents_attached_to(
        user=user, attached_to_type=ENTRY_DOCUMENTS, attached_to_id=entry.pk
    )
    return documents.order_by("uploaded_at", "pk")
