"""The home dashboard (``/``)."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from tenant_apps.dashboard.selectors import dashboard_for


@require_GET
def home(request):
    return render(request, "dashboard/home.html", {"dashboard": dashboard_for(request.user)})
