"""Who looked at whom: the audit events of reads that show a record's content, pages and API alike."""

from __future__ import annotations

from tenant_apps.audit.services import audit_record

__all__ = ["gallery_viewed", "record_viewed"]


_VIEWED = {
    "Profile": ("profile", "profile.viewed"),
    "Case": ("case", "case.viewed"),
    "TimelineEntry": ("timeline_entry", "timeline.entry_viewed"),
    "Family": ("family", "family.viewed"),
}


def record_viewed(*, user, request=None, record, what: str = "") -> None:
    """Who looked at whom: every read that shows a record's content is audited, page or API alike.

    ``record`` is a profile or a case (its page, details, timeline, sharing, forms), a timeline
    entry (the API's entry, its attachments, its edit and delete pages) or a family; ``what`` says
    which view of it (``"sharing"``, ``"attachments"``...), never what it holds. A test walks
    every GET route that names a record by id and checks that it records one of these.
    """
    kind, action = _VIEWED[type(record).__name__]
    audit_record(action=action, request=request, actor=user, object_type=kind, object_id=record.pk,
                 summary=what)  # fmt: skip


def gallery_viewed(*, user, request=None, page) -> None:
    """The gallery shows faces: one event per page shown, naming the profiles on its cards
    (one card per profile; ids only, as many as fit in the summary)."""
    ids = [card.pk for card in page.object_list]
    listed = ", ".join(str(pk) for pk in ids)
    summary = f"page {page.number}: {len(page.object_list)} cards; profiles {listed or '-'}"
    if len(summary) > 300:
        summary = summary[:290].rsplit(",", 1)[0] + ", ..."
    audit_record(action="gallery.viewed", request=request, actor=user, object_type="gallery", summary=summary)
