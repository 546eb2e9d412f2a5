"""Reading documents: only through these, so that access is always checked."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from tenant_apps.documents import access
from tenant_apps.documents.models import Document


def document_get_for_user(*, user, document_id: uuid.UUID | str) -> Document | None:
    """The stored document ``document_id`` if ``user`` may see it; ``None`` otherwise.

    Missing, deleted and not-yours look the same to the caller (one 404).
    """
    try:
        document_id = uuid.UUID(str(document_id))
    except ValueError:
        return None
    document = Document.objects.filter(pk=document_id, status=Document.Status.STORED).first()
    if document is None:
        return None
    allowed = access.can_access(
        user, attached_to_type=document.attached_to_type, attached_to_id=document.attached_to_id
    )
    return document if allowed else None


def documents_attached_to(*, user, attached_to_type: str, attached_to_id: str | int) -> QuerySet[Document]:
    """The stored documents attached to one thing, newest first; none if ``user`` may not see it."""
    if not access.can_access(user, attached_to_type=attached_to_type, attached_to_id=str(attached_to_id)):
        return Document.objects.none()
    return Document.objects.filter(
        attached_to_type=attached_to_type, attached_to_id=str(attached_to_id), status=Document.Status.STORED
    )


# --- Reads for the app a document is attached to ---------------------------------------------
# The caller has already decided that the user may read the things these documents are attached
# to (a page of readable timeline entries, a visible profile): they list, they do not check.


def stored_documents_listed(*, attached_to_type: str, attached_to_ids) -> QuerySet[Document]:
    """The stored documents attached to any of these things, oldest first."""
    return Document.objects.filter(
        attached_to_type=attached_to_type, status=Document.Status.STORED, attached_to_id__in=list(attached_to_ids)
    ).order_by("uploaded_at", "pk")


def newest_stored_image(*, attached_to_type: str, attached_to_id) -> QuerySet[Document]:
    """The id of the newest stored image attached to one thing (a pk, or an ``OuterRef`` cast to
    text), as a one-row values queryset: usable as a ``Subquery``."""
    return (
        Document.objects.filter(
            attached_to_type=attached_to_type, attached_to_id=attached_to_id, status=Document.Status.STORED,
            is_image=True,
        )
        .order_by("-uploaded_at", "-pk")
        .values("pk")[:1]
    )  # fmt: skip


def document_uuids(values) -> list[uuid.UUID]:
    """The values that are document ids (UUIDs), as UUIDs; anything else (an audit event's object id
    of another shape) is left out."""
    ids = []
    for value in values:
        try:
            ids.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return ids


def attachment_targets(document_ids) -> dict[str, tuple[str, str]]:
    """What each of these documents (any status) is attached to: ``{id: (type, id)}``; ids that name
    no document are left out."""
    rows = Document.objects.filter(pk__in=document_uuids(document_ids)).values_list(
        "pk", "attached_to_type", "attached_to_id"
    )
    return {str(pk): (kind, target) for pk, kind, target in rows}
