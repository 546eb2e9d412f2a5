"""Demo agencies and teams, and the demo people's places in them (``manage.py seed_demo``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.contrib.auth import get_user_model
from django.db import transaction

from tenant_apps.directory.models import Agency, Membership, Team, TeamMembership

DEMO_AGENCIES: list[tuple[str, str, list[str]]] = [
    ("Constabulary", Agency.Kind.POLICE, ["Safer Neighbourhood Team", "IOM"]),
    ("Probation Service", Agency.Kind.PROBATION, ["IOM"]),
    ("District Council", Agency.Kind.COUNCIL, ["ASB Team", "Community Safety Team"]),
    ("Housing Association", Agency.Kind.HOUSING, ["Tenancy Enforcement"]),
    ("Drug and Alcohol Service", Agency.Kind.HEALTH, []),
    ("Victim Support", Agency.Kind.CHARITY, []),
]


def seed(demo) -> None:
    """The demo's directory (``demo``: a ``tenants.demo.Demo``; inside its partnership's schema)."""
    directory_seed_demo(people=demo.places)


def directory_seed_demo(
    *,
    agencies: Iterable[tuple[str, str, Iterable[str]]] = DEMO_AGENCIES,
    people: Mapping[str, tuple[str, Iterable[str]]] | None = None,
) -> None:
    """Demo agencies and teams for the current schema, and people's places in them (development only).

    ``agencies``: ``(name, kind, [team names])``. ``people``: e-mail address ->
    ``(agency name, [team names of that agency])``; unknown addresses are skipped.
    Idempotent (get-or-create, nothing removed) and not audited: call it inside
    ``schema_context(slug)``, e.g.::

        directory_seed_demo(people={"dan.whitmore@suffolk.example": ("District Council", ["ASB Team"])})
    """
    with transaction.atomic():
        for name, kind, team_names in agencies:
            agency = Agency.objects.filter(name__iexact=name).first() or Agency.objects.create(name=name, kind=kind)
            for team_name in team_names:
                if not Team.objects.filter(agency=agency, name__iexact=team_name).exists():
                    Team.objects.create(agency=agency, name=team_name)
        for email, (agency_name, team_names) in (people or {}).items():
            user = get_user_model().objects.filter(email=email.lower()).first()
            if user is None:
                continue
            agency = Agency.objects.get(name__iexact=agency_name)
            Membership.objects.update_or_create(user=user, defaults={"agency": agency})
            for team_name in team_names:
                team = Team.objects.get(agency=agency, name__iexact=team_name)
                TeamMembership.objects.get_or_create(user=user, team=team)
