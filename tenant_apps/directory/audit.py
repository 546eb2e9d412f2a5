"""How the audit trail names users, teams and agencies (``tenant_apps.audit.naming``).

- ``user``: "User: Priya Shah"; with the e-mail address too ("Priya Shah (priya@...)") only when
  another account of the schema has the same name, so that two are told apart. The same names
  serve the trail's "Who" column (the public trail's users are the operators).
- ``api_client``: "API client: Police RMS, for ASB Team (Ipswich Borough Council)".
- ``team``: "Team: ASB Team (Ipswich Borough Council)"; ``agency``: "Agency: Ipswich Borough Council".
- the fields their events record: a role or an agency's kind by its label, yes or no.

Nothing here is hidden from the trail's readers (partnership admins manage all of it).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef

from tenant_apps.audit import naming
from tenant_apps.directory.models import Agency, ApiClient, Team


def _whole(ids) -> list[int]:
    return [int(value) for value in ids if str(value).isdigit()]


def users_named(user_ids) -> dict[str, str]:
    User = get_user_model()  # noqa: N806
    namesake = User.objects.filter(full_name__iexact=OuterRef("full_name")).exclude(pk=OuterRef("pk"))
    rows = (
        User.objects.filter(pk__in=_whole(user_ids))
        .annotate(has_namesake=Exists(namesake))
        .values_list("pk", "full_name", "email", "has_namesake")
    )
    return {
        str(pk): (f"{full_name} ({email})" if has_namesake else full_name) if full_name else email
        for pk, full_name, email, has_namesake in rows
    }


def teams_named(team_ids) -> dict[str, str]:
    rows = Team.objects.filter(pk__in=_whole(team_ids)).values_list("pk", "name", "agency__name")
    return {str(pk): f"{name} ({agency})" for pk, name, agency in rows}


def agencies_named(agency_ids) -> dict[str, str]:
    return {str(pk): name for pk, name in Agency.objects.filter(pk__in=_whole(agency_ids)).values_list("pk", "name")}


def api_clients_named(client_ids) -> dict[str, str]:
    """An API client by its integration's name and team: "Police RMS, for ASB Team (Council)"."""
    rows = ApiClient.objects.filter(pk__in=_whole(client_ids)).values_list(
        "pk", "name", "team__name", "team__agency__name"
    )
    return {str(pk): f"{name}, for {team} ({agency})" for pk, name, team, agency in rows}


def register() -> None:
    naming.register("api_client", api_clients_named, label="API client")
    User = get_user_model()  # noqa: N806
    naming.register("user", users_named, fields={
        "role": naming.Field("Role", choices=User.Role.choices),
        "is_active": naming.Field("Active"),
        "agency": naming.Field("Agency"),
        "teams": naming.Field("Teams"),
    })  # fmt: skip
    naming.register("team", teams_named, fields={"agency": naming.Field("Agency"), "name": naming.Field("Name")})
    naming.register("agency", agencies_named, fields={
        "kind": naming.Field("Kind", choices=Agency.Kind.choices), "name": naming.Field("Name"),
    })  # fmt: skip
