"""How the audit trail names documents (``tenant_apps.audit.naming``): "Document: photo.jpg".

Who may read a document's events is casework's rule (``casework.audit``: a document is as
hidden as the record it is attached to); the trail names only the documents that rule lets
the reader see. A deleted document is not named: "Document <id> (deleted)".
"""

from __future__ import annotations

from tenant_apps.audit import naming
from tenant_apps.documents.models import Document
from tenant_apps.documents.selectors import document_uuids


def documents_named(document_ids) -> dict[str, str]:
    rows = Document.objects.filter(pk__in=document_uuids(document_ids), deleted_at__isnull=True).values_list(
        "pk", "original_filename"
    )
    return {str(pk): filename for pk, filename in rows}


def register() -> None:
    naming.register("document", documents_named)
