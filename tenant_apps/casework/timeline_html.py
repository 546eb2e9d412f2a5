"""Timeline entries as HTML, each rendered once for what it shows and then reused.

Rendering a page of entries through the template engine was most of a case
page's time (about 11 of 23 ms for 25 entries). An entry's HTML depends only on
what the entry shows and on three facts about the page: whether the reader may
read it (``can_read``), whether they may edit it, and whether the case is named.
So the key of the ``fragments`` cache is a digest of exactly those values, plus
the schema, language and time zone: a changed entry, a renamed recorder, a new
attachment or a different reader's rights give a different key, and nothing is
ever invalidated or served stale. No decision about access lives in the cache:
which entries are listed, and ``can_read``, come from the query on every request.

The cache is in the process (``LocMemCache``, at most ``FRAGMENT_CACHE_ENTRIES``
entries of at most ``LARGEST_KEPT`` characters: 10,000 x 8,000 bounds it near
80 MB a worker; typical entries are under 1,000): entry text is never written to
another server.
"""

from __future__ import annotations

import hashlib

from django.core.cache import caches
from django.db import connection
from django.template.loader import get_template
from django.utils import timezone, translation

CACHE = "fragments"
TEMPLATE = "casework/timeline/_entry.html"
# Longer HTML is rendered every time: the cache's bound is a count of entries, and a long entry
# costs little more to render than a short one (the template's work is per value, not per byte).
LARGEST_KEPT = 8000


def _shown(entry, show_case: bool) -> tuple:
    """Every value ``casework/timeline/_entry.html`` shows for this entry."""
    if not entry.can_read:  # only that it exists: its kind, its day and the teams that hold it
        return (entry.pk, False, entry.kind, entry.occurred_at.isoformat(), tuple(getattr(entry, "held_by", ())))
    attachments = tuple(
        (a["pk"], a["original_filename"], a["size"], a.get("thumbnail_width"), a.get("thumbnail_height"))
        for a in entry.attachments or ()
    )
    case = (entry.case_id, entry.case.reference) if show_case and entry.case_id else None
    recorder = entry.recorder_full_name or entry.recorder_email
    return (
        entry.pk, True, entry.kind, entry.occurred_at.isoformat(), entry.action, entry.summary, entry.body,
        entry.attendees, entry.is_sensitive, entry.version, recorder, case, attachments,
    )  # fmt: skip


def render_entries(entries, *, may_edit: bool, show_case: bool) -> None:
    """Set ``entry.html`` on each entry of a page (from ``selectors.timeline_for_*``, with
    ``attachments`` set; ``case`` joined when ``show_case``)."""
    page = (connection.schema_name, translation.get_language(), timezone.get_current_timezone_name(), may_edit,
            show_case)  # fmt: skip
    keyed = {}
    for entry in entries:
        digest = hashlib.blake2b(repr((page, _shown(entry, show_case))).encode(), digest_size=20).hexdigest()
        keyed[f"timeline-entry:{digest}"] = entry
    cache = caches[CACHE]
    found = cache.get_many(list(keyed))
    rendered = {}
    template = None
    for key, entry in keyed.items():
        html = found.get(key)
        if html is None:
            template = template or get_template(TEMPLATE)
            html = template.render({"entry": entry, "may_edit": may_edit, "show_case": show_case})
            if len(html) <= LARGEST_KEPT:
                rendered[key] = html
        entry.html = html  # a SafeString from the template engine (which escaped every value), kept as one
    if rendered:
        cache.set_many(rendered)
