"""Reading the directory: partnership admins only, in the current schema.

Every function takes the acting user first and raises ``PermissionDenied`` for
anyone but an active partnership admin (fail closed, whatever view calls it).
The ``access_*`` helpers fetch one thing by the id a request named, in the
current schema only; "does not exist" and "not yours" are the same 404, and an
id from another partnership's schema names a different row or nothing.

API clients (``api_client_*``) are read by admins too; ``api_token_authenticate`` is what the API's
token authentication asks, for anyone (the token is the credential).

The pickers at the end are the exception: the lists of teams, agencies and active people that
every member's forms offer (sharing, an owning team), and their look-ups by id.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from concord.api import WRITE_SCOPES, ClientCredential, scope_label
from tenant_apps.accounts import readlimits
from tenant_apps.accounts.models import SecuritySettings
from tenant_apps.directory.backends import member_with_places
from tenant_apps.directory.models import Agency, ApiClient, ApiToken, Team
from tenant_apps.directory.tokens import token_matches, token_parts

STATUS_ACTIVE = "active"
STATUS_PENDING = "pending"
STATUS_DEACTIVATED = "deactivated"
STATUS_CHOICES = [
    (STATUS_ACTIVE, "Active"),
    (STATUS_PENDING, "Invited, not yet signed up"),
    (STATUS_DEACTIVATED, "Deactivated"),
]


def may_administer(user) -> bool:
    """Whether ``user`` runs the current partnership: an active, signed-in partnership admin."""
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and getattr(user, "is_partnership_admin", False)
    )


def require_admin(user) -> None:
    if not may_administer(user):
        raise PermissionDenied("Only partnership admins can manage users, agencies and teams.")


def user_status(user) -> str:
    """active, pending (invited, no password set yet) or deactivated."""
    if not user.is_active:
        return STATUS_DEACTIVATED
    if not user.has_usable_password():
        return STATUS_PENDING
    return STATUS_ACTIVE


def _with_directory(users: QuerySet) -> QuerySet:
    """Users with their agency and teams (and the teams' agencies) in three queries, whatever the count."""
    return users.select_related("membership__agency").prefetch_related(
        Prefetch("teams", queryset=Team.objects.select_related("agency").order_by("agency__name", "name"))
    )


def user_list(
    *,
    actor,
    status: str | None = None,
    role: str | None = None,
    team_id: int | None = None,
    agency_id: int | None = None,
    search: str = "",
) -> QuerySet:
    """The partnership's users, by name, filtered; agency and teams prefetched (no N+1)."""
    require_admin(actor)
    users = get_user_model().objects.filter(is_integration=False).order_by("full_name", "email", "pk")
    if status == STATUS_DEACTIVATED:
        users = users.filter(is_active=False)
    elif status == STATUS_PENDING:
        users = users.filter(is_active=True, password__startswith=UNUSABLE_PASSWORD_PREFIX)
    elif status == STATUS_ACTIVE:
        users = users.filter(is_active=True).exclude(password__startswith=UNUSABLE_PASSWORD_PREFIX)
    if role:
        users = users.filter(role=role)
    if team_id is not None:
        users = users.filter(team_memberships__team_id=team_id)
    if agency_id is not None:
        users = users.filter(membership__agency_id=agency_id)
    search = (search or "").strip()
    if search:
        users = users.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
    return _with_directory(users)


def access_user(*, actor, user_id) -> object:
    """The user with this id in the current partnership, with agency and teams; else 404. An API
    client's service account is managed from its client's page, not as a user."""
    require_admin(actor)
    user = _with_directory(get_user_model().objects.filter(pk=user_id, is_integration=False)).first()
    if user is None:
        raise Http404("No such user.")
    return user


def agency_list(*, actor) -> QuerySet[Agency]:
    """Agencies by name with their teams (each with its member count) and member counts."""
    require_admin(actor)
    people = Q(team_memberships__user__is_integration=False)  # API clients' service accounts are not people
    teams = Team.objects.annotate(member_count=Count("team_memberships", filter=people)).order_by("name")
    members = Count("memberships", filter=Q(memberships__user__is_integration=False))
    return Agency.objects.annotate(member_count=members).prefetch_related(Prefetch("teams", queryset=teams))


def access_agency(*, actor, agency_id) -> Agency:
    require_admin(actor)
    agency = Agency.objects.filter(pk=agency_id).first()
    if agency is None:
        raise Http404("No such agency.")
    return agency


def access_team(*, actor, team_id) -> Team:
    require_admin(actor)
    team = Team.objects.select_related("agency").filter(pk=team_id).first()
    if team is None:
        raise Http404("No such team.")
    return team


def team_members(*, actor, team: Team) -> QuerySet:
    """The team's members, by name: whom its lead may be."""
    require_admin(actor)
    return get_user_model().objects.filter(team_memberships__team=team).order_by("full_name", "pk")


def agency_choices(*, actor) -> QuerySet[Agency]:
    require_admin(actor)
    return Agency.objects.order_by("name")


def team_choices(*, actor) -> QuerySet[Team]:
    """Every team, grouped by agency, for pickers."""
    require_admin(actor)
    return Team.objects.select_related("agency").order_by("agency__name", "name")


def session_idle_minutes(*, actor) -> int:
    """The partnership's idle timeout, for the settings page."""
    require_admin(actor)
    return SecuritySettings.current().session_idle_minutes


def read_limits(*, actor) -> dict:
    """The partnership's bulk-read limits (``accounts.readlimits.FIELDS``), for the settings page."""
    require_admin(actor)
    current = readlimits.read_limits_current()
    return {name: getattr(current, name) for name in readlimits.FIELDS}


# --- Pickers: the lists every member's forms offer (no admin needed) -------------------------
# Names of teams and agencies, and the active people of the partnership, are what a share form
# or an owning-team choice lists; the forms and the API look a choice up by id through these.


def teams_for_picker() -> QuerySet[Team]:
    """Every team of the partnership, with its agency (for ``Team.label``), by agency then name."""
    return Team.objects.select_related("agency").order_by("agency__name", "name")


def my_teams_for_picker(*, user) -> QuerySet[Team]:
    """The user's own teams: where new records they make may belong."""
    return teams_for_picker().filter(team_memberships__user=user)


def agencies_for_picker() -> QuerySet[Agency]:
    return Agency.objects.order_by("name")


def people_for_picker() -> QuerySet:
    """The active people of the partnership, by name (API clients' service accounts are not people)."""
    return get_user_model().objects.filter(is_active=True, is_integration=False).order_by("full_name", "email")


def team_by_id(team_id) -> Team | None:
    return Team.objects.filter(pk=team_id).first()


def agency_by_id(agency_id) -> Agency | None:
    return Agency.objects.filter(pk=agency_id).first()


def person_by_id(user_id):
    """An active person of the partnership, or None."""
    return people_for_picker().filter(pk=user_id).first()


# --- API clients ----------------------------------------------------------------------------
API_CLIENT_ACTIVE = "active"
API_CLIENT_EXPIRED = "expired"
API_CLIENT_REVOKED = "revoked"


def _clients() -> QuerySet[ApiClient]:
    now = timezone.now()
    live = ApiToken.objects.filter(client=OuterRef("pk"), expires_at__gt=now).filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=now)
    )
    return ApiClient.objects.select_related("team__agency", "window").annotate(
        token_expires_at=Subquery(live.order_by("-expires_at").values("expires_at")[:1]),  # the latest that works
    )


def api_client_status(client: ApiClient) -> str:
    """active (a token works), expired (none does) or revoked."""
    if client.revoked_at is not None:
        return API_CLIENT_REVOKED
    return API_CLIENT_ACTIVE if client.token_expires_at is not None else API_CLIENT_EXPIRED


def api_client_list(*, actor) -> list[ApiClient]:
    """The partnership's API clients by name, each with its team, status and last window of calls."""
    require_admin(actor)
    clients = list(_clients().order_by("name", "pk"))
    for client in clients:
        client.status = api_client_status(client)
    return clients


def access_api_client(*, actor, client_id) -> ApiClient:
    """The API client with this id in the current partnership, with its tokens; else 404."""
    require_admin(actor)
    client = _clients().select_related("created_by").filter(pk=client_id).prefetch_related("tokens").first()
    if client is None:
        raise Http404("No such API client.")
    client.status = api_client_status(client)
    writes = {scope.split(":")[0] for scope in client.scopes if scope in WRITE_SCOPES}
    client.scope_labels = [
        scope_label(scope) for scope in client.scopes if scope in WRITE_SCOPES or scope.split(":")[0] not in writes
    ]
    return client


def api_token_authenticate(*, token: str):
    """(service account with its teams and agency, ``ClientCredential``) for a token that works
    now in the current schema, else None: malformed, another partnership's, unknown, expired,
    rotated out, revoked, or its service account deactivated all read the same. The stored
    digest is compared in constant time."""
    parts = token_parts(token)
    if parts is None or parts[0] != connection.schema_name:
        return None
    now = timezone.now()
    row = (
        ApiToken.objects.select_related("client")
        .filter(lookup=parts[1], expires_at__gt=now, client__revoked_at__isnull=True)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .first()
    )
    if row is None or not token_matches(token, row.digest):
        return None
    user = member_with_places(pk=row.client.service_account_id, is_active=True, is_integration=True)
    if user is None:
        return None
    client = row.client
    return user, ClientCredential(
        client_id=client.pk, token_id=row.pk, name=client.name, scopes=frozenset(client.scopes)
    )
