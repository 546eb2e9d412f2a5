"""Who works where in a partnership: its agencies, their teams, and people's places in them.

Each partnership defines its own agencies and teams (nothing is seeded). A user
belongs to at most one agency (``Membership``) and to any number of teams
(``TeamMembership``), including teams of other agencies: multi-agency teams such
as Integrated Offender Management are hosted by one agency and staffed by several.

Write only through ``tenant_apps.directory.services``; read through its selectors.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class Agency(models.Model):
    """An organisation in the partnership: a police force, a council, a charity...

    Names are unique within the partnership, ignoring case. Agencies are never
    deleted while anyone or any team belongs to them (PROTECT).
    """

    class Kind(models.TextChoices):
        POLICE = "police", "Police"
        PROBATION = "probation", "Probation"
        COUNCIL = "council", "Council"
        HOUSING = "housing", "Housing provider"
        HEALTH = "health", "Health"
        CHARITY = "charity", "Charity"
        BUSINESS = "business", "Business"
        OTHER = "other", "Other"

    name = models.CharField(max_length=150)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"
        constraints = [models.UniqueConstraint(Lower("name"), name="directory_agency_name_unique")]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A team inside an agency ("ASB Team", "Safer Neighbourhood Team", "IOM").

    Names are unique within their agency, ignoring case.
    """

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=150)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="TeamMembership", related_name="teams", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agency__name", "name"]
        constraints = [models.UniqueConstraint("agency", Lower("name"), name="directory_team_name_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        """The team with its agency, for places that list teams of several agencies."""
        return f"{self.name} ({self.agency.name})"


class Membership(models.Model):
    """The one agency a user belongs to (no row: not in an agency yet)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="memberships")

    def __str__(self) -> str:
        return f"user {self.user_id} in {self.agency_id}"


class TeamMembership(models.Model):
    """A user in a team; a user may be in any number of teams."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="team_memberships")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="directory_team_membership_unique")]
        indexes = [models.Index(fields=["team", "user"], name="directory_team_user_idx")]

    def __str__(self) -> str:
        return f"user {self.user_id} in team {self.team_id}"
