"""The two views the routing benchmark serves, identical under both settings modules."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render

try:  # views that need no sign-in are marked, where the project has marks (fail-closed second factor)
    from tenant_apps.accounts.access import public
except ImportError:  # pragma: no cover - older trees: every view is reachable

    def public(view):
        return view


@public
def one_query(request):
    """One query, no authentication (so no session): the first row of a tenant table."""
    row = get_user_model().objects.order_by("pk").values("id", "email").first()
    return JsonResponse({"first": row})


@login_required
def signed_in_page(request):
    """A typical signed-in page: session + user, then a small template listing 20 rows."""
    people = list(get_user_model().objects.order_by("email").only("email", "full_name", "role")[:20])
    return render(request, "benchmarks/signed_in.html", {"people": people})


@login_required
def audited_page(request):
    """The least a signed-in view of a record does here: session, user, second-factor device, and
    the audit row every opening of a case or profile writes; a one-line page (case_page's floor)."""
    from tenant_apps.audit.services import audit_record  # full settings only (case_page)

    audit_record(action="case.viewed", request=request, object_type="case", object_id="0", summary="benchmark")
    return render(request, "benchmarks/audited.html", {})


def _bench_write(request, *, audited: bool):
    """A service-sized write in one transaction: a team added (one INSERT); with its
    ``team.created`` event when ``audited`` (the event inserted with the chain head moved)."""
    import uuid

    from django.db import transaction

    from tenant_apps.directory.models import Agency, Team  # full settings only (benchmarks.audit)

    with transaction.atomic():
        agency = Agency.objects.only("pk").get(name="Bench Write Agency")
        team = Team.objects.create(agency=agency, name=f"Bench {uuid.uuid4().hex}")
        if audited:
            from tenant_apps.audit.services import audit_record

            audit_record(action="team.created", request=request, object_type="team", object_id=team.pk,
                         summary=f"Team {team.name} added")  # fmt: skip
    return JsonResponse({"team": team.pk})


@login_required
def write_unaudited(request):
    return _bench_write(request, audited=False)


@login_required
def write_audited(request):
    return _bench_write(request, audited=True)
