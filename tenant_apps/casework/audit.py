"""What the audit trail hides of casework from a reader (registered with the audit app).

The trail never shows a reader what the record itself would hide from them
(``tenant_apps.audit.redaction``):

- ``timeline_entry``: a sensitive entry (now or at any earlier version) from anyone
  outside its named teams, partnership admins included; any entry from someone
  who may not see its case or profiles.
- ``profile`` / ``case``: from someone they are not visible to (an admin sees them
  only where the partnership chose ``admins_see_everything``, or by team, agency
  or share like anyone else).
- ``family``: from someone it is not visible to.
- ``document``: a document attached to an entry or a profile hidden from the
  reader (its deletion reason is the uploader's words); an id that names no
  document, or a document attached to anything else, counts as hidden.

Every rule also counts an id that names nothing as hidden: the audit's refused-read
middleware asks them whether a 404 refused a read (``tenant_apps.audit.middleware``).
"""

from __future__ import annotations

from tenant_apps.audit import redaction
from tenant_apps.casework.selectors import (
    NOT_VISIBLE,
    cases_hidden_from,
    entries_hidden_from,
    families_hidden_from,
    profiles_hidden_from,
)
from tenant_apps.documents import selectors as document_selectors

_BY_ATTACHMENT = {"timeline_entry": entries_hidden_from, "profile_photo": profiles_hidden_from}


def documents_hidden_from(user, document_ids) -> dict[str, str]:
    attached = document_selectors.attachment_targets(document_ids)
    hidden = {str(value): NOT_VISIBLE for value in document_ids if str(value) not in attached}
    for document_id, (attached_kind, _) in attached.items():
        if attached_kind not in _BY_ATTACHMENT:
            hidden[document_id] = NOT_VISIBLE
    for kind, rule in _BY_ATTACHMENT.items():
        targets = {target for attached_kind, target in attached.values() if attached_kind == kind}
        hidden_targets = rule(user, sorted(targets)) if targets else {}
        for document_id, (attached_kind, target) in attached.items():
            if attached_kind == kind and target in hidden_targets:
                hidden[document_id] = hidden_targets[target]
    return hidden


def register() -> None:
    redaction.register("timeline_entry", entries_hidden_from)
    redaction.register("profile", profiles_hidden_from)
    redaction.register("case", cases_hidden_from)
    redaction.register("family", families_hidden_from)
    redaction.register("document", documents_hidden_from)
