"""Every write of the partnership admin area: agencies, teams, and users' roles, places and status.

Each function is keyword-only, runs in one transaction, refuses anyone but an
active partnership admin (``PermissionDenied``, fail closed), refuses bad input
with a ``ValidationError`` whose keys name the fields, and records what it did
through ``audit_record`` (with ``{"field": [before, after]}`` changes) in the
same transaction. Inviting, re-sending an invitation and resetting a second
factor are done by ``tenant_apps.accounts.services``, which audits them itself.

The partnership always keeps at least one active admin: demoting or
deactivating the last one is refused. The check locks the admins' rows, so two
admins demoting each other at the same moment cannot both succeed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tenant_apps.accounts import readlimits
from tenant_apps.accounts import services as accounts_services
from tenant_apps.audit.services import audit_changes, audit_record
from tenant_apps.directory.models import Agency, Membership, Team, TeamMembership
from tenant_apps.directory.selectors import STATUS_PENDING, require_admin, user_status

# Audit actions of this app. user.* ones are in tenant_apps.audit.models.AuditAction;
# agency.*, team.* and user.agency_changed are not registered there yet (recorded all the same).
AGENCY_CREATED = "agency.created"
AGENCY_UPDATED = "agency.updated"
TEAM_CREATED = "team.created"
TEAM_UPDATED = "team.updated"
USER_ROLE_CHANGED = "user.role_changed"
USER_AGENCY_CHANGED = "user.agency_changed"
USER_TEAMS_CHANGED = "user.teams_changed"
USER_DEACTIVATED = "user.deactivated"
USER_REACTIVATED = "user.reactivated"

LAST_ADMIN_MESSAGE = (
    "{name} is the partnership's only active admin. Make someone else an admin first, "
    "so that someone can still manage {partnership}."
)


def _User():  # noqa: N802 - the model class, looked up when called
    return get_user_model()


def _clean_name(value: str, *, field: str, what: str) -> str:
    name = " ".join((value or "").split())
    if not name:
        raise ValidationError({field: f"Enter the {what}'s name."})
    if len(name) > 150:
        raise ValidationError({field: f"The {what}'s name must be 150 characters or fewer."})
    return name


# --- Agencies -----------------------------------------------------------------------------


def _check_agency(*, name: str, kind: str, exclude_pk=None) -> str:
    name = _clean_name(name, field="name", what="agency")
    errors = {}
    if Agency.objects.filter(name__iexact=name).exclude(pk=exclude_pk).exists():
        errors["name"] = ["There is already an agency with this name in the partnership."]
    if kind not in Agency.Kind.values:
        errors["kind"] = ["Choose what kind of organisation this is."]
    if errors:
        raise ValidationError(errors)
    return name


@transaction.atomic
def agency_create(*, request, name: str, kind: str) -> Agency:
    require_admin(request.user)
    name = _check_agency(name=name, kind=kind)
    agency = Agency.objects.create(name=name, kind=kind)
    audit_record(action=AGENCY_CREATED, request=request, object_type="agency", object_id=agency.pk,
                 summary=f"agency {name} added", changes=audit_changes({}, {"name": name, "kind": kind}))  # fmt: skip
    return agency


@transaction.atomic
def agency_update(*, request, agency: Agency, name: str, kind: str) -> Agency:
    require_admin(request.user)
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    name = _check_agency(name=name, kind=kind, exclude_pk=agency.pk)
    before = {"name": agency.name, "kind": agency.kind}
    changes = audit_changes(before, {"name": name, "kind": kind})
    if changes:
        agency.name, agency.kind = name, kind
        agency.save(update_fields=["name", "kind"])
        audit_record(action=AGENCY_UPDATED, request=request, object_type="agency", object_id=agency.pk,
                     summary=f"agency {before['name']} changed", changes=changes)  # fmt: skip
    return agency


# --- Teams --------------------------------------------------------------------------------


def _check_team(*, agency: Agency | None, name: str, exclude_pk=None) -> str:
    name = _clean_name(name, field="name", what="team")
    if agency is None:
        raise ValidationError({"agency": "Choose the agency the team belongs to."})
    if Team.objects.filter(agency=agency, name__iexact=name).exclude(pk=exclude_pk).exists():
        raise ValidationError({"name": f"{agency.name} already has a team with this name."})
    return name


@transaction.atomic
def team_create(*, request, agency: Agency, name: str) -> Team:
    require_admin(request.user)
    name = _check_team(agency=agency, name=name)
    team = Team.objects.create(agency=agency, name=name)
    audit_record(action=TEAM_CREATED, request=request, object_type="team", object_id=team.pk,
                 summary=f"team {name} added to {agency.name}",
                 changes=audit_changes({}, {"agency": agency.name, "name": name}))  # fmt: skip
    return team


@transaction.atomic
def team_update(*, request, team: Team, agency: Agency, name: str, lead=None) -> Team:
    """Rename or move a team, and name its lead (one of its members, or nobody)."""
    require_admin(request.user)
    team = Team.objects.select_for_update().select_related("agency").get(pk=team.pk)
    name = _check_team(agency=agency, name=name, exclude_pk=team.pk)
    if lead is not None and not team.team_memberships.filter(user=lead).exists():
        raise ValidationError({"lead": ["Choose the team's lead from its members."]})
    before = {"agency": team.agency.name, "name": team.name, "lead": team.lead_id}
    changes = audit_changes(before, {"agency": agency.name, "name": name, "lead": getattr(lead, "pk", None)})
    if changes:
        team.agency, team.name, team.lead = agency, name, lead
        team.save(update_fields=["agency", "name", "lead"])
        audit_record(action=TEAM_UPDATED, request=request, object_type="team", object_id=team.pk,
                     summary=f"team {before['name']} ({before['agency']}) changed", changes=changes)  # fmt: skip
    return team


# --- Users: role, agency and teams, status ----------------------------------------------------


def _lock_user(user):
    return _User().objects.select_for_update().get(pk=user.pk)


def _refuse_if_last_admin(*, request, user, field: str | None) -> None:
    """Refuse to take away the last active admin (locks every active admin's row first)."""
    admins = list(_User().objects.select_for_update().filter(role="admin", is_active=True).values_list("pk", flat=True))
    if user.pk in admins and len(admins) <= 1:
        message = LAST_ADMIN_MESSAGE.format(name=user.get_full_name(), partnership=_partnership_name(request))
        raise ValidationError({field: message} if field else message)


def _partnership_name(request) -> str:
    return getattr(getattr(request, "tenant", None), "name", "the partnership")


@transaction.atomic
def user_set_role(*, request, user, role: str):
    """Change a user's role; the last active admin cannot be demoted."""
    require_admin(request.user)
    User = _User()  # noqa: N806
    if role not in User.Role.values:
        raise ValidationError({"role": "Choose a role."})
    if role != User.Role.ADMIN:
        _refuse_if_last_admin(request=request, user=user, field="role")
    user = _lock_user(user)
    before = user.role
    if before != role:
        user.role = role
        user.save(update_fields=["role"])
        audit_record(action=USER_ROLE_CHANGED, request=request, object_type="user", object_id=user.pk,
                     summary=f"role of {user.email}: {before} -> {role}",
                     changes={"role": [before, role]})  # fmt: skip
    return user


def _team_labels(teams: Iterable[Team]) -> list[str]:
    return sorted(f"{team.agency.name}: {team.name}" for team in teams)


def _set_agency_and_teams(*, request, user, agency: Agency | None, teams: Sequence[Team]) -> None:
    current = Membership.objects.select_related("agency").filter(user=user).first()
    before_agency = current.agency.name if current else None
    if agency is None:
        if current is not None:
            current.delete()
    elif current is None:
        Membership.objects.create(user=user, agency=agency)
    elif current.agency_id != agency.pk:
        current.agency = agency
        current.save(update_fields=["agency"])
    after_agency = agency.name if agency else None
    if before_agency != after_agency:
        audit_record(action=USER_AGENCY_CHANGED, request=request, object_type="user", object_id=user.pk,
                     summary=f"agency of {user.email}: {before_agency or 'none'} -> {after_agency or 'none'}",
                     changes={"agency": [before_agency, after_agency]})  # fmt: skip

    wanted = {team.pk: team for team in teams}
    held = {tm.team_id: tm.team for tm in TeamMembership.objects.filter(user=user).select_related("team__agency")}
    removed = [pk for pk in held if pk not in wanted]
    added = [pk for pk in wanted if pk not in held]
    if removed:
        TeamMembership.objects.filter(user=user, team_id__in=removed).delete()
    if added:
        TeamMembership.objects.bulk_create(TeamMembership(user=user, team_id=pk) for pk in added)
    if removed or added:
        before_teams, after_teams = _team_labels(held.values()), _team_labels(wanted.values())
        audit_record(action=USER_TEAMS_CHANGED, request=request, object_type="user", object_id=user.pk,
                     summary=f"teams of {user.email}: {len(added)} added, {len(removed)} removed",
                     changes={"teams": [before_teams, after_teams]})  # fmt: skip


def _check_teams(teams: Iterable[Team]) -> list[Team]:
    teams = list(teams)
    ids = [team.pk for team in teams]
    # The teams must be rows of this schema (a form's queryset makes sure; callers in code too).
    if len(set(ids)) != Team.objects.filter(pk__in=ids).count():
        raise ValidationError({"teams": "Choose teams from the list."})
    return teams


@transaction.atomic
def user_set_agency_and_teams(*, request, user, agency: Agency | None, teams: Iterable[Team]):
    """Put a user in one agency (or none) and exactly these teams (of any agency)."""
    require_admin(request.user)
    teams = _check_teams(teams)
    if agency is not None and not Agency.objects.filter(pk=agency.pk).exists():
        raise ValidationError({"agency": "Choose an agency from the list."})
    user = _lock_user(user)
    _set_agency_and_teams(request=request, user=user, agency=agency, teams=teams)
    return user


@transaction.atomic
def user_deactivate(*, request, user):
    """Stop a user signing in and end every session of theirs at once.

    Refused for yourself and for the last active admin. Nothing of theirs is
    deleted: their records and audit trail stay, and they can be reactivated.
    """
    require_admin(request.user)
    if user.pk == request.user.pk:
        raise ValidationError("You cannot deactivate your own account. Ask another admin to do it.")
    _refuse_if_last_admin(request=request, user=user, field=None)
    user = _lock_user(user)
    if not user.is_active:
        return user
    user.is_active = False
    user.sessions_valid_after = timezone.now()
    user.save(update_fields=["is_active", "sessions_valid_after"])
    audit_record(action=USER_DEACTIVATED, request=request, object_type="user", object_id=user.pk,
                 summary=f"{user.email} deactivated; sessions ended", changes={"is_active": [True, False]})  # fmt: skip
    return user


@transaction.atomic
def user_reactivate(*, request, user):
    """Let a deactivated user sign in again (with their old password and second factor)."""
    require_admin(request.user)
    user = _lock_user(user)
    if user.is_active:
        return user
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit_record(action=USER_REACTIVATED, request=request, object_type="user", object_id=user.pk,
                 summary=f"{user.email} reactivated", changes={"is_active": [False, True]})  # fmt: skip
    return user


# --- Invitations and second factors (accounts' services, for admins) ------------------------


@transaction.atomic
def user_invite_with_membership(
    *, request, email: str, full_name: str, role: str, agency: Agency | None = None, teams: Iterable[Team] = ()
):
    """Create an account with its role, agency and teams, and e-mail its invitation.

    The e-mail is queued in this transaction: if anything here fails, no account
    exists and nothing is sent. Audited as ``user.invited`` (accounts) plus the
    agency and team events.
    """
    require_admin(request.user)
    teams = _check_teams(teams)
    user = accounts_services.user_invite(
        request=request, email=email, full_name=full_name, role=role, partnership_name=_partnership_name(request)
    )
    _set_agency_and_teams(request=request, user=user, agency=agency, teams=teams)
    return user


@transaction.atomic
def user_invitation_resend(*, request, user) -> None:
    """Send a pending user a new invitation link (the earlier one keeps working until it expires)."""
    require_admin(request.user)
    user = _lock_user(user)
    if user_status(user) != STATUS_PENDING:
        raise ValidationError(f"{user.get_full_name()} has already set a password or is deactivated.")
    accounts_services.invitation_send(request=request, user=user, partnership_name=_partnership_name(request))


@transaction.atomic
def user_second_factor_reset(*, request, user) -> None:
    """Clear a user's authenticator and backup codes and end their sessions; they enrol again."""
    require_admin(request.user)
    if user.pk == request.user.pk:
        raise ValidationError(
            "You cannot reset your own second factor here. Set up a new authenticator app from your account instead."
        )
    accounts_services.second_factor_reset(request=request, user=_lock_user(user))


@transaction.atomic
def partnership_idle_timeout_set(*, request, session_idle_minutes: int):
    """Set how long an idle session lasts (5 to 480 minutes); audited by accounts."""
    require_admin(request.user)
    return accounts_services.security_settings_update(request=request, session_idle_minutes=session_idle_minutes)


@transaction.atomic
def partnership_read_limits_set(*, request, **limits):
    """Set the partnership's bulk-read limits (``accounts.readlimits.FIELDS``); audited by accounts."""
    require_admin(request.user)
    return readlimits.read_limits_update(request=request, **limits)
