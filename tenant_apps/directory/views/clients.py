"""Pages of API clients (``/admin/api-clients/``): list, issue, view, rotate, revoke.

A new token is shown once, in the answer to the POST that made it (never redirected to, never
kept in the session or anywhere else in clear); the page says to copy it now.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from concord.pages import GET_POST, REFUSALS, apply_errors, posted
from tenant_apps.directory import selectors, services
from tenant_apps.directory.decorators import partnership_admin_required
from tenant_apps.directory.forms import ApiClientIssueForm, ApiClientRotateForm

__all__ = ["api_client_list", "api_client_issue", "api_client_detail", "api_client_rotate", "api_client_revoke"]

SECTION = "api-clients"


@partnership_admin_required
@require_GET
def api_client_list(request):
    clients = selectors.api_client_list(actor=request.user)
    return render(request, "directory/api_client_list.html", {"clients": clients, "section": SECTION})


def _token_page(request, issued, *, title: str):
    context = {"issued": issued, "client": issued.client, "title": title, "section": SECTION}
    return render(request, "directory/api_client_token.html", context)


@partnership_admin_required
@GET_POST
def api_client_issue(request):
    form = ApiClientIssueForm(posted(request), teams=selectors.team_choices(actor=request.user))
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.api_client_issue(request=request, **form.cleaned_data)
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            return _token_page(request, issued, title=f"{issued.client.name}'s token")
    return render(request, "directory/api_client_issue.html", {"form": form, "section": SECTION})


@partnership_admin_required
@require_GET
def api_client_detail(request, client_id: int):
    client = selectors.access_api_client(actor=request.user, client_id=client_id)
    return render(request, "directory/api_client_detail.html", {"client": client, "section": SECTION})


@partnership_admin_required
@GET_POST
def api_client_rotate(request, client_id: int):
    client = selectors.access_api_client(actor=request.user, client_id=client_id)
    form = ApiClientRotateForm(posted(request), initial={"old_token_ends": "hour"})
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.api_client_rotate(request=request, client=client, **form.cleaned_data)
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            return _token_page(request, issued, title=f"New token for {client.name}")
    return render(request, "directory/api_client_rotate.html", {"form": form, "client": client, "section": SECTION})


@partnership_admin_required
@GET_POST
def api_client_revoke(request, client_id: int):
    client = selectors.access_api_client(actor=request.user, client_id=client_id)
    form = forms.Form(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.api_client_revoke(request=request, client=client)
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{client.name} has been revoked. Its tokens no longer work.")
            return redirect("directory:api-client-detail", client_id=client.pk)
    return render(request, "directory/api_client_revoke.html", {"form": form, "client": client, "section": SECTION})
