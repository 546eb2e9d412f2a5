"""The audit log pages for partnership admins: the list and its CSV export.

Both views refuse anyone but an active partnership admin themselves (403),
before reading anything; the selectors they call check again (fail closed).
"""

from __future__ import annotations

import csv
import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_tenants.utils import schema_context

from concord.paging import filter_query, requested_page
from tenant_apps.audit.forms import AuditFilterForm
from tenant_apps.audit.selectors import (
    UK,
    audit_actor_choices,
    audit_event_list,
    audit_events_as_read,
    audit_may_view,
)

PER_PAGE = 50
CSV_CHUNK = 2000
CSV_HEADER = [
    "When (UK time)", "User", "User id", "IP address", "User agent",
    "Action", "Object type", "Object id", "Summary", "Changes",
]  # fmt: skip
# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _require_audit_viewer(request) -> None:
    if not audit_may_view(request.user):
        raise PermissionDenied("Only partnership admins can see the audit log.")


def _filter_form(request) -> AuditFilterForm:
    return AuditFilterForm(request.GET, actor_choices=audit_actor_choices(user=request.user))


@login_required
@require_GET
def event_list(request):
    _require_audit_viewer(request)
    form = _filter_form(request)
    page = page_range = None
    if form.is_valid():
        events = audit_event_list(user=request.user, **form.filters()).select_related("actor")
        page = requested_page(request, events, per_page=PER_PAGE)
        page.object_list = audit_events_as_read(user=request.user, events=page.object_list)
        page_range = page.paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1)
    context = {"form": form, "page": page, "page_range": page_range, "filter_query": filter_query(request)}
    return render(request, "audit/event_list.html", context)


@login_required
@require_GET
def event_export(request):
    _require_audit_viewer(request)
    form = _filter_form(request)
    if not form.is_valid():
        return HttpResponseBadRequest(
            "The filters are not valid: correct them on the audit log page and download again.",
            content_type="text/plain; charset=utf-8",
        )
    events = audit_event_list(user=request.user, **form.filters())
    schema = connection.schema_name
    lines = _csv_lines(events, user=request.user, schema=schema)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
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
        ]  # fmt: skip
        yield writer.writerow([csv_cell(value) for value in row])
