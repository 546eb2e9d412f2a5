"""The operator area on the bare platform domain. Operators see partnerships, never case data.

Mounted only by ``concord.urls_public``, so a partnership host has no such pages
(404). Every view needs a session verified by the second factor (the accounts
middleware fails closed); ``operator_only`` checks again that the request is on
the public schema and that the user is an active, verified operator.
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.db import connection
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET
from django_tenants.utils import get_public_schema_name

from concord.operators import selectors, services
from concord.operators.forms import ProvisionForm
from concord.pages import GET_POST
from tenant_apps.accounts.services import is_verified
from tenant_apps.audit.trail import audit_log_csv, audit_log_page
from tenants.hosts import partnership_host, partnership_url
from tenants.provisioning import ProvisioningError


def operator_only(view):
    """Refuse (404) anything but a verified, active operator on the platform domain."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        public = get_public_schema_name()
        on_public = getattr(request.tenant, "schema_name", None) == public and connection.schema_name == public
        user = request.user
        if not (on_public and user.is_authenticated and user.is_active and is_verified(user)):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapper


@operator_only
@require_GET
def dashboard(request):
    return render(request, "operators/dashboard.html", {"rows": selectors.partnership_list_with_usage()})


@operator_only
@require_GET
def partnership_detail(request, slug):
    partnership = selectors.partnership_for_operator(slug=slug)
    context = {
        "row": selectors.partnership_row(partnership=partnership),
        "host": partnership_host(partnership.schema_name),
        "url": partnership_url(partnership),
    }
    return render(request, "operators/partnership_detail.html", context)


@operator_only
@GET_POST
def provision(request):
    form = ProvisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = services.partnership_provision_by_operator(
                request=request,
                slug=data["slug"],
                name=data["name"],
                admin_email=data["admin_email"],
                admin_name=data["admin_name"],
            )
        except ProvisioningError as error:
            form.add_provisioning_error(error)
        else:
            partnership = result.partnership
            if result.created:
                messages.success(
                    request,
                    f"{partnership.name} is ready. Its first admin's invitation was e-mailed to {result.admin_email}.",
                )
            else:
                messages.success(
                    request,
                    f"{partnership.name} already existed and its first admin had not set a password: "
                    f"a new invitation was e-mailed to {result.admin_email}.",
                )
            return redirect("operator-partnership", slug=partnership.schema_name)
    return render(request, "operators/provision.html", {"form": form})


def _status_change(request, slug, *, to_suspend: bool):
    partnership = selectors.partnership_for_operator(slug=slug)
    if partnership.is_active != to_suspend:
        state = "suspended" if to_suspend else "active"
        messages.info(request, f"{partnership.name} is already {state}.")
        return redirect("operator-partnership", slug=slug)
    if request.method == "POST":  # the CSRF middleware has checked the token
        if to_suspend:
            services.partnership_suspend_by_operator(request=request, partnership=partnership)
            messages.success(request, f"{partnership.name} is suspended. Its records are kept.")
        else:
            services.partnership_resume_by_operator(request=request, partnership=partnership)
            messages.success(request, f"{partnership.name} is active again.")
        return redirect("operator-partnership", slug=slug)
    template = "operators/suspend_confirm.html" if to_suspend else "operators/resume_confirm.html"
    return render(request, template, {"partnership": partnership, "host": partnership_host(slug)})


@operator_only
@GET_POST
def suspend(request, slug):
    return _status_change(request, slug, to_suspend=True)


@operator_only
@GET_POST
def resume(request, slug):
    return _status_change(request, slug, to_suspend=False)


# The operators' own audit trail (public schema), shown as partnership admins see theirs:
# the same page and template (``tenant_apps.audit.trail``). Its selectors let only active
# users with the admin role read it; every operator has it.


@operator_only
@require_GET
def audit_list(request):
    return render(request, "audit/event_list.html", audit_log_page(user=request.user, query=request.GET).context())


@operator_only
@require_GET
def audit_export(request):
    return audit_log_csv(user=request.user, query=request.GET, schema=connection.schema_name)
