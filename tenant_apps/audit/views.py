"""The audit log pages for partnership admins: the list and its CSV export.

Both views refuse anyone but an active partnership admin themselves (403),
before reading anything; the selectors they call check again (fail closed).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tenant_apps.audit.selectors import audit_may_view
from tenant_apps.audit.trail import audit_log_csv, audit_log_page


def _require_audit_viewer(request) -> None:
    if not audit_may_view(request.user):
        raise PermissionDenied("Only partnership admins can see the audit log.")


@login_required
@require_GET
def event_list(request):
    _require_audit_viewer(request)
    return render(request, "audit/event_list.html", audit_log_page(user=request.user, query=request.GET).context())


@login_required
@require_GET
def event_export(request):
    _require_audit_viewer(request)
    return audit_log_csv(user=request.user, query=request.GET, schema=connection.schema_name)
