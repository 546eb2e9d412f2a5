"""Pages of the timeline: recording an entry on a case (with attachments), editing and deleting one,
and reading an entry's history."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from concord.errors import ScannerUnavailable, StorageUnavailable
from concord.pages import GET_POST, REFUSALS, apply_errors, posted, writers_only
from tenant_apps.accounts.readlimits import READ, read_limited
from tenant_apps.casework import selectors, services
from tenant_apps.casework.forms import EntryCreateForm, EntryDeleteForm, EntryEditForm
from tenant_apps.casework.idempotency import create_once
from tenant_apps.casework.models import TimelineEntry
from tenant_apps.casework.views.base import FORBIDDEN_PAGE
from tenant_apps.directory import selectors as directory

__all__ = ["entry_create", "entry_delete", "entry_edit", "entry_history"]


def _entry_errors(form, error) -> None:
    """A service's refusal on an entry form: ``occurred_at`` is the date, ``action`` the kind's action
    field, and storage down is said on the attachments (the files that could not be stored)."""
    apply_errors(form, error, rename={"occurred_at": "occurred_on", "action": form.action_field(),
                                      StorageUnavailable.code: "attachments",
                                      ScannerUnavailable.code: "attachments"})  # fmt: skip


@writers_only(FORBIDDEN_PAGE)
@GET_POST
@create_once
@read_limited(READ)
def entry_create(request, case_id: int):
    case = selectors.access_case(user=request.user, case_id=case_id, edit=True, related=selectors.CASE_HEADING)
    now = timezone.localtime()
    initial = {"occurred_on": now.date(), "occurred_time": now.strftime("%H:%M")}
    form = EntryCreateForm(posted(request), request.FILES or None, initial=initial, teams=directory.teams_for_picker(),
                           kinds=selectors.entry_kinds_offered(case=case))  # fmt: skip
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.entry_create(user=request.user, request=request, case=case, **form.values(),
                                  is_sensitive=data["is_sensitive"],
                                  restricted_to_teams=list(data["restricted_to_teams"]),
                                  attachments=data["attachments"])  # fmt: skip
        except REFUSALS as error:
            _entry_errors(form, error)
        else:
            files = len(data["attachments"])
            attached = f" with {files} attachment{'s' if files > 1 else ''}" if files else ""
            messages.success(request, f"The entry has been added to the timeline{attached}.")
            return redirect("casework:case-detail", case_id=case.pk)
    services.record_viewed(user=request.user, request=request, record=case, what="new entry form")
    return render(request, "casework/timeline/create.html", {"form": form, "case": case, "section": "cases"})


def _back_to(entry: TimelineEntry):
    if entry.case_id:
        return redirect("casework:case-detail", case_id=entry.case_id)
    return redirect("casework:profile-list")


@writers_only(FORBIDDEN_PAGE)
@GET_POST
@read_limited(READ)
def entry_edit(request, entry_id: int):
    entry = selectors.access_entry(user=request.user, entry_id=entry_id, edit=True)
    kinds = selectors.entry_kinds_offered(case_id=entry.case_id, keep=entry.kind)
    form = EntryEditForm(posted(request), request.FILES or None, initial=EntryEditForm.initial_for(entry),
                         kinds=kinds)  # fmt: skip
    if request.method == "POST" and form.is_valid():
        try:
            services.entry_update(user=request.user, request=request, entry=entry,
                                  version=form.cleaned_data["version"], attachments=form.cleaned_data["attachments"],
                                  **form.values())  # fmt: skip
        except REFUSALS as error:
            _entry_errors(form, error)
        else:
            messages.success(request, "The entry has been saved. The previous version is kept in its history.")
            return _back_to(entry)
    context = {
        "form": form,
        "entry": entry,
        "attachments": selectors.entry_attachments(entry=entry),  # readable: access_entry checked
        "section": "cases",
    }
    services.record_viewed(user=request.user, request=request, record=entry, what="edit form")
    return render(request, "casework/timeline/edit.html", context)


@writers_only(FORBIDDEN_PAGE)
@GET_POST
@read_limited(READ)
def entry_delete(request, entry_id: int):
    entry = selectors.access_entry(user=request.user, entry_id=entry_id, edit=True)
    form = EntryDeleteForm(posted(request), initial={"version": entry.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.entry_delete(user=request.user, request=request, entry=entry,
                                  version=form.cleaned_data["version"], reason=form.cleaned_data["reason"])  # fmt: skip
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, "The entry has been deleted from the timeline.")
            return _back_to(entry)
    services.record_viewed(user=request.user, request=request, record=entry, what="delete form")
    return render(request, "casework/timeline/delete.html", {"form": form, "entry": entry, "section": "cases"})


@require_GET
@read_limited(READ)
def entry_history(request, entry_id: int):
    """Who changed what in an entry, and when, in words. Only for those who may read the entry
    (404 otherwise, as for one that does not exist); audited as a read of it."""
    entry = selectors.access_entry(user=request.user, entry_id=entry_id, readable=True)
    changes = selectors.entry_changes(entry=entry)
    services.record_viewed(user=request.user, request=request, record=entry, what="history")
    return render(request, "casework/timeline/history.html", {"entry": entry, "changes": changes, "section": "cases"})
