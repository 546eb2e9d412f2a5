"""The audit log as its readers see it: the list page's content and the CSV download.

Shared by the two places that show a trail: partnership admins' pages (``audit.views``)
and the operators' own, public one (``concord.operators.views``), so both show the same
page. Each takes the request's query (the filters, the page number) and the reader,
who must be allowed to see the trail (the selectors refuse anyone else: fail closed).

The CSV holds the events the filters select, redacted as the page redacts them
(``audit_events_as_read``, a chunk at a time), every cell made safe to open in a
spreadsheet. It keeps the raw values (the dotted action, the object's type and id, the
changes' JSON as stored) and adds the names the page shows (the user's, the object's).
Its body streams after the view has returned, inside the schema the request was on.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass

from django.core.paginator import Page
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, HttpResponseBadRequest, QueryDict, StreamingHttpResponse
from django.utils import timezone
from django_tenants.utils import schema_context

from concord.paging import filter_query
from tenant_apps.audit.forms import AuditFilterForm
from tenant_apps.audit.selectors import (
    UK,
    audit_actor_choices,
    audit_chain_state,
    audit_event_list,
    audit_event_page,
    audit_events_as_read,
)

CSV_CHUNK = 2000
# The raw columns first, as stored (investigators match them against other systems' logs and
# the database); the names people read, resolved when the file is made, after them, so that
# the columns' positions of earlier exports still hold.
CSV_HEADER = [
    "When (UK time)", "User", "User id", "IP address", "User agent",
    "Action", "Object type", "Object id", "Summary", "Changes",
    "User name", "Object",
]  # fmt: skip
# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditLogPage:
    """What the audit log page (``audit/event_list.html``) shows."""

    form: AuditFilterForm  # bound to the query
    page: Page | None  # None when the filters are not valid
    page_range: list | None
    filter_query: str  # the filters without the page number, urlencoded
    chain: object | None = None  # the last chain verification (ChainVerification), None if never

    def context(self) -> dict:
        return {"form": self.form, "page": self.page, "page_range": self.page_range, "filter_query": self.filter_query,
                "chain": self.chain}  # fmt: skip


def _filter_form(*, user, query: QueryDict) -> AuditFilterForm:
    return AuditFilterForm(query, actor_choices=audit_actor_choices(user=user))


def audit_log_page(*, user, query: QueryDict) -> AuditLogPage:
    """The audit log page for ``query`` (the filters and ``page``), as ``user`` may read it."""
    form = _filter_form(user=user, query=query)
    found = None
    if form.is_valid():
        found = audit_event_page(user=user, filters=form.filters(), number=query.get("page"))
    return AuditLogPage(
        form=form,
        page=found and found.page,
        page_range=found and found.page_range,
        filter_query=filter_query(query),
        chain=audit_chain_state(user=user),
    )


def audit_log_csv(*, user, query: QueryDict, schema: str) -> HttpResponse:
    """The CSV of the events ``query``'s filters select in ``schema``, as ``user`` may read
    them; 400 with a plain message if the filters are not valid."""
    form = _filter_form(user=user, query=query)
    if not form.is_valid():
        return HttpResponseBadRequest(
            "The filters are not valid: correct them on the audit log page and download again.",
            content_type="text/plain; charset=utf-8",
        )
    events = audit_event_list(user=user, **form.filters())
    response = StreamingHttpResponse(
        _csv_lines(events, user=user, schema=schema), content_type="text/csv; charset=utf-8"
    )
    filename = f"audit-{schema}-{timezone.localdate(timezone=UK):%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class _Echo:
    """A file-like object whose write() hands the CSV line back, for streaming."""

    def write(self, value: str) -> str:
        return value


def csv_cell(value) -> str:
    """The value as CSV text that a spreadsheet shows and never evaluates."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def _chunks(events, size: int):
    chunk = []
    for event in events.iterator(chunk_size=size):
        chunk.append(event)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _csv_lines(events, *, user, schema: str):
    writer = csv.writer(_Echo())
    # A byte order mark: Excel then reads the file as UTF-8 (names with accents survive).
    yield "\ufeff" + writer.writerow(CSV_HEADER)
    # The body is read while the response streams, after the view has returned: pin the schema.
    # Redacted as the page is, a chunk at a time (one query per kind of object per chunk).
    with schema_context(schema):
        for chunk in _chunks(events, CSV_CHUNK):
            yield from _csv_rows(writer, audit_events_as_read(user=user, events=chunk))


def _csv_rows(writer, events):
    for event in events:
        changes = json.dumps(event.changes, cls=DjangoJSONEncoder, ensure_ascii=False) if event.changes else ""
        row = [
            timezone.localtime(event.occurred_at, UK).isoformat(timespec="seconds"),
            event.actor_label, event.actor_id, event.ip_address, event.user_agent,
            event.action, event.object_type, event.object_id, event.summary, changes,
            event.actor_name, event.object_name,
        ]  # fmt: skip
        yield writer.writerow([csv_cell(value) for value in row])
