"""The operator area on the bare platform domain. Operators see partnerships, never case data."""

from django.shortcuts import render

from tenants.models import Partnership


def dashboard(request):
    partnerships = Partnership.objects.order_by("name")
    return render(request, "operators/dashboard.html", {"partnerships": partnerships})
