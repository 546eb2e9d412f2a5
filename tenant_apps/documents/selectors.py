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
