"""Who works where in a partnership: its agencies, their teams, and people's places in them.

Each partnership defines its own agencies and teams (nothing is seeded). A user
belongs to at most one agency (``Membership``) and to any number of teams
(``TeamMembership``), including teams of other agencies: multi-agency teams such
as Integrated Offender Management are hosted by one agency and staffed by several.

Write only through ``tenant_apps.directory.services``; read through its selectors.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
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
    # Whom the team's overdue work escalates to (assessments' reviews): one of its members, or nobody.
    lead = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+")  # fmt: skip

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


class ApiClient(models.Model):
    """A partner system's access to the API (a police RMS, a housing system), issued by an admin.

    It acts for one ``team`` through its ``service_account``: a user of the partnership flagged
    ``is_integration`` (no password, no second factor, never signs in to pages), a member of that
    team only, practitioner if any scope writes and viewer otherwise. So every access rule of a
    member of the team applies to it unchanged; ``scopes`` (``concord.api.clients.SCOPES``)
    narrow it further to the areas of the API it may read or write. Revoking is for good: its
    tokens stop at once and the service account is deactivated. Never deleted (the audit trail
    names its service account).
    """

    name = models.CharField(max_length=100)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="api_clients")
    scopes = ArrayField(models.CharField(max_length=32), default=list)
    service_account = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="directory_api_client_name_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        """How the audit trail names it (its service account's full name too)."""
        return f"API client: {self.name}"


class ApiToken(models.Model):
    """One secret of an API client. Only a keyed hash is stored (``digest``: HMAC-SHA256 keyed by
    the environment, over the partnership's schema and the token); ``lookup`` is the public part
    of the token that finds the row. A token works until ``expires_at`` and, once rotated or
    revoked, until ``ends_at``."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="tokens")
    lookup = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    expires_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"token {self.lookup} of client {self.client_id}"


class ApiClientWindow(models.Model):
    """An API client's request count in the current rate-limit window: one row per client, moved
    on and counted by one atomic upsert per request, so the limit holds across processes."""

    client = models.OneToOneField(ApiClient, on_delete=models.CASCADE, primary_key=True, related_name="window")
    started_at = models.DateTimeField()
    calls = models.PositiveIntegerField(default=0)  # counts refused calls too

    def __str__(self) -> str:
        return f"client {self.client_id}: {self.calls} calls since {self.started_at}"
