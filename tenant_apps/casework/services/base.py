"""What every write of casework shares: the stale-edit errors, the viewers' refusal and who owns a new record.

Edits use optimistic concurrency: the caller passes the ``version`` it opened; if someone saved
in between, ``ChangedSinceOpened`` (``concord.errors``) is raised and nothing is written (never
a silent overwrite). Domain errors are mapped once, by the API's exception handler and by the
pages' ``concord.pages.apply_errors``: nothing here builds an answer.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError

from concord.errors import ChangedSinceOpened, Conflict
from tenant_apps.casework.selectors import user_scope

__all__ = ["AlreadyMerged", "ChangedSinceOpened"]


class AlreadyMerged(Conflict):
    """One of the two profiles was merged (by someone else, a moment ago): nothing was merged now."""

    code = "already_merged"
    message = "One of these profiles has just been merged into another. Reload the profile and check it again."


def require_writer(user) -> None:
    if user.is_read_only:
        raise PermissionDenied("Viewers cannot change records.")


def owner_defaults(user, owning_agency, owning_team):
    """Who owns a new profile, case or family: the rule of every route (pages and API).

    - The owning agency is the user's own agency (the default); no other may be named.
    - The owning team is one of the user's own teams: the create pages offer only those,
      and the API refuses any other (400 on ``owning_team``), even another team of the
      same agency. Left out, it is the user's only team if they have exactly one; a user
      of several teams must choose; a user of none makes a record owned by the agency alone.
    """
    scope = user_scope(user)
    if owning_agency is not None and owning_agency.pk != scope.agency_id:
        raise ValidationError({"owning_agency": ["Choose your own agency."]})
    agency_id = scope.agency_id
    if agency_id is None:
        raise ValidationError({"owning_agency": ["Choose the agency that owns this record."]})
    if owning_team is None:
        if len(scope.team_ids) > 1:
            raise ValidationError({"owning_team": ["Choose the team that owns this record."]})
        return agency_id, (scope.team_ids[0] if scope.team_ids else None)
    if owning_team.pk not in scope.team_ids or owning_team.agency_id != agency_id:
        raise ValidationError({"owning_team": ["Choose one of your teams."]})
    return agency_id, owning_team.pk
