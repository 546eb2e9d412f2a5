"""Profiles, families, cases and the timeline of work, with who may see them.

Visibility is decided in the query, never after it: see ``selectors.py``. A
profile or case is visible to its owning team and agency, to the teams,
agencies and users it is shared with, and to partnership admins only if the
partnership chooses (``CaseworkSettings.admins_see_everything``).
"""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Func, Q, Value
from django.utils import timezone

USER = settings.AUTH_USER_MODEL


def normalise_name(text: str) -> str:
    """Lower case, accents and punctuation removed, single spaces: what searches compare."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    kept = "".join(ch if ch.isalnum() else " " for ch in plain.lower())
    return " ".join(kept.split())


def normalise_postcode(text: str) -> str:
    compact = "".join((text or "").upper().split())
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


def normalise_identifier(text: str) -> str:
    return "".join(ch for ch in (text or "").upper() if ch.isalnum() or ch == "/")


def name_words(column: str = "search_name") -> Func:
    """The words of a normalised name as an array: what the search's word indexes hold
    (``tenant_apps.search`` matches misspelt words through them)."""
    return Func(F(column), Value(" "), function="string_to_array", output_field=ArrayField(models.TextField()))


class CaseworkSettings(models.Model):
    """The partnership's casework choices (one row per schema)."""

    admins_see_everything = models.BooleanField(
        default=False,
        help_text="Partnership admins see every profile and case, whoever owns it.",
    )

    def __str__(self) -> str:
        return "casework settings"

    @classmethod
    def current(cls) -> CaseworkSettings:
        return cls.objects.order_by("pk").first() or cls()


class Owned(models.Model):
    """Owning team and agency, optimistic concurrency, and who made it when."""

    owning_agency = models.ForeignKey("directory.Agency", on_delete=models.PROTECT, related_name="+")
    owning_team = models.ForeignKey("directory.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class Profile(Owned):
    """A person, an organisation or a premises."""

    class Kind(models.TextChoices):
        PERSON = "person", "Person"
        ORGANISATION = "organisation", "Organisation"
        PREMISES = "premises", "Premises"

    class Gender(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        OTHER = "other", "Other"
        NOT_KNOWN = "not_known", "Not known"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PERSON)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=200, blank=True, help_text="Organisations and premises")
    date_of_birth = models.DateField(null=True, blank=True)
    gender = models.CharField(max_length=16, choices=Gender.choices, default=Gender.NOT_KNOWN)
    phone = models.CharField(max_length=40, blank=True)
    notes = models.TextField(blank=True, max_length=5000)
    search_name = models.CharField(max_length=300, editable=False, db_index=True)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged")

    class Meta:
        ordering = ["last_name", "first_name", "name"]
        indexes = [
            GinIndex(fields=["search_name"], opclasses=["gin_trgm_ops"], name="casework_profile_name_trgm"),
            models.Index(fields=["date_of_birth", "search_name"], name="casework_profile_dob_name"),
            GinIndex(name_words(), name="casework_profile_name_words", fastupdate=False),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.kind == self.Kind.PERSON:
            return " ".join(part for part in (self.first_name, self.last_name) if part) or "(no name)"
        return self.name or "(no name)"

    def refresh_search_name(self) -> None:
        self.search_name = normalise_name(
            f"{self.first_name} {self.last_name}" if self.kind == self.Kind.PERSON else self.name
        )


class ProfileAlias(models.Model):
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=200)
    search_name = models.CharField(max_length=300, editable=False)

    class Meta:
        indexes = [
            GinIndex(fields=["search_name"], opclasses=["gin_trgm_ops"], name="casework_alias_name_trgm"),
            GinIndex(name_words(), name="casework_alias_name_words", fastupdate=False),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.search_name = normalise_name(self.name)
        super().save(*args, **kwargs)


class ProfileAddress(models.Model):
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="addresses")
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=10, db_index=True)
    is_current = models.BooleanField(default=True)

    class Meta:
        ordering = ["-is_current", "pk"]

    def __str__(self) -> str:
        return ", ".join(p for p in (self.line1, self.line2, self.town, self.postcode) if p)


class ProfileIdentifier(models.Model):
    class Kind(models.TextChoices):
        PNC = "pnc", "Police National Computer number"
        NHS = "nhs", "NHS number"
        NI = "ni", "National Insurance number"
        CRN = "crn", "Probation case reference"
        OTHER = "other", "Other"

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    value = models.CharField(max_length=40, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["profile", "kind", "value"], name="casework_identifier_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"


class WarningMarker(models.Model):
    class Kind(models.TextChoices):
        VIOLENT = "violent", "Violent"
        LONE_VISITS = "lone_visits", "Lone visits not advised"
        WEAPONS = "weapons", "Weapons"
        DOGS = "dogs", "Dangerous dogs"
        DRUGS = "drugs", "Drugs"
        SELF_HARM = "self_harm", "Risk of self-harm"
        OTHER = "other", "Other"

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="warnings")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    note = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return self.get_kind_display()


class Vulnerability(models.Model):
    class Kind(models.TextChoices):
        MENTAL_HEALTH = "mental_health", "Mental health"
        LEARNING_DISABILITY = "learning_disability", "Learning disability"
        PHYSICAL = "physical", "Physical disability or illness"
        SUBSTANCE = "substance", "Substance misuse"
        ELDERLY = "elderly", "Elderly"
        CHILD = "child", "Child"
        DOMESTIC_ABUSE = "domestic_abuse", "Domestic abuse"
        OTHER = "other", "Other"

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="vulnerabilities")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    note = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return self.get_kind_display()


class Family(Owned):
    """A household or family: profiles with their relationship to it."""

    name = models.CharField(max_length=200)

    class Meta:
        verbose_name_plural = "families"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FamilyMember(models.Model):
    class Relationship(models.TextChoices):
        PARENT = "parent", "Parent"
        CHILD = "child", "Child"
        PARTNER = "partner", "Partner"
        SIBLING = "sibling", "Sibling"
        GRANDPARENT = "grandparent", "Grandparent"
        CARER = "carer", "Carer"
        OTHER = "other", "Other relative or household member"

    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="members")
    profile = models.ForeignKey(Profile, on_delete=models.PROTECT, related_name="family_memberships")
    relationship = models.CharField(max_length=16, choices=Relationship.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["family", "profile"], name="casework_family_member_unique")]

    def __str__(self) -> str:
        return f"{self.profile_id} ({self.relationship}) in {self.family_id}"


def all_subject_roles() -> list[str]:
    """Every subject role, in order: a case type's roles unless the partnership narrows them."""
    return list(CaseSubject.Role.values)


def all_timeline_kinds() -> list[str]:
    """Every kind of timeline entry, in order: a case type's kinds unless the partnership narrows them."""
    return list(TimelineEntry.Kind.values)


class CaseType(models.Model):
    """A kind of case the partnership works: its own list, shaped by its admins (five are seeded).

    - ``code``: the prefix of new references (``ASB-2026-0001``). Changing it changes new
      references only: a reference is written once, when the case opens, and numbers count per
      prefix and year over every case, so a prefix used before (by this type or another) carries
      on after its highest number.
    - ``subject_roles`` / ``timeline_kinds``: what a *new* subject or case entry of this type may
      be (at least one of each). Narrowing them never hides or removes existing subjects or entries.
    - ``default_team``: owns a new case of this type when its creator names no team and is a
      member of it (``services.case_create``); it never gives a team access by itself.
    - ``is_active``: retired types (False) take no new cases; their cases keep them.
    - ``version``: optimistic concurrency of the admin's edits (``ChangedSinceOpened``).
    """

    name = models.CharField(max_length=100, unique=True)
    code = models.CharField(max_length=8, unique=True, help_text="Prefix of case references, e.g. ASB")
    is_active = models.BooleanField(default=True)
    subject_roles = ArrayField(models.CharField(max_length=16), default=all_subject_roles)
    timeline_kinds = ArrayField(models.CharField(max_length=16), default=all_timeline_kinds)
    default_team = models.ForeignKey(
        "directory.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~Q(subject_roles=[]), name="casework_case_type_has_roles"),
            models.CheckConstraint(condition=~Q(timeline_kinds=[]), name="casework_case_type_has_kinds"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def subject_role_labels(self) -> list[str]:
        labels = dict(CaseSubject.Role.choices)
        return [labels.get(role, role) for role in self.subject_roles]

    @property
    def timeline_kind_labels(self) -> list[str]:
        labels = dict(TimelineEntry.Kind.choices)
        return [labels.get(kind, kind) for kind in self.timeline_kinds]


class Case(Owned):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ON_HOLD = "on_hold", "On hold"
        CLOSED = "closed", "Closed"

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", "Resolved"
        ENFORCEMENT = "enforcement", "Closed after enforcement"
        REFERRED = "referred", "Referred to another agency"
        NO_FURTHER_ACTION = "nfa", "No further action"
        DISENGAGED = "disengaged", "Did not engage"
        MOVED_AWAY = "moved", "Moved away"

    reference = models.CharField(max_length=32, unique=True)
    case_type = models.ForeignKey(CaseType, on_delete=models.PROTECT, related_name="cases")
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True, max_length=5000)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    opened_on = models.DateField(default=timezone.localdate)
    closed_on = models.DateField(null=True, blank=True)
    lead_practitioner = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-opened_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=models.F("opened_on")),
                name="casework_case_closed_after_opened",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | ~Q(outcome=""), name="casework_closed_case_has_outcome"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.title}"


class CaseSubject(models.Model):
    class Role(models.TextChoices):
        PERPETRATOR = "perpetrator", "Perpetrator"
        VICTIM = "victim", "Victim"
        WITNESS = "witness", "Witness"
        OFFENDER = "offender", "Offender"
        FAMILY_MEMBER = "family_member", "Family member"
        COMPLAINANT = "complainant", "Complainant"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="subjects")
    profile = models.ForeignKey(Profile, on_delete=models.PROTECT, related_name="case_roles")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "profile", "role"], name="casework_subject_unique")]

    def __str__(self) -> str:
        return f"{self.profile_id} as {self.role} in {self.case_id}"


class Share(models.Model):
    """A grant of a profile or a case to a team, an agency or one user (view or edit, and perhaps
    "may share on": ``can_share``). Who may grant and revoke: ``selectors.sharing_rights``."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, null=True, blank=True, related_name="shares")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, null=True, blank=True, related_name="shares")
    team = models.ForeignKey("directory.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    agency = models.ForeignKey("directory.Agency", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    can_edit = models.BooleanField(default=False)
    # "May share on": the grantee may share the record further (never with more than they hold)
    # and revoke the shares they granted. Only the owning team or agency, or an admin, grants it.
    can_share = models.BooleanField(default=False)
    granted_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(profile__isnull=False) & Q(case__isnull=True))
                | (Q(profile__isnull=True) & Q(case__isnull=False)),
                name="casework_share_one_record",
            ),
            models.CheckConstraint(
                condition=(Q(team__isnull=False) & Q(agency__isnull=True) & Q(user__isnull=True))
                | (Q(team__isnull=True) & Q(agency__isnull=False) & Q(user__isnull=True))
                | (Q(team__isnull=True) & Q(agency__isnull=True) & Q(user__isnull=False)),
                name="casework_share_one_grantee",
            ),
        ]
        indexes = [
            models.Index(fields=["profile", "team"], name="casework_share_profile_team"),
            models.Index(fields=["case", "team"], name="casework_share_case_team"),
        ]

    def __str__(self) -> str:
        return f"share {self.pk}"


class TimelineEntry(models.Model):
    """One piece of work: on a case (its stream) and about profiles (theirs)."""

    class Kind(models.TextChoices):
        CONTACT = "contact", "Contact"
        VISIT = "visit", "Visit"
        PHONE_CALL = "phone_call", "Phone call"
        NOTE = "note", "Note"
        MEETING = "meeting", "Meeting"
        LETTER = "letter", "Letter"
        ENFORCEMENT = "enforcement", "Enforcement action"
        DOCUMENT = "document", "Document"

    class Action(models.TextChoices):
        CASE_MANAGEMENT_MEETING = "cmm", "Case-management meeting"
        RJ_CONFERENCE = "rj_conference", "Restorative-justice conference"
        WARNING_LETTER = "warning_letter", "Warning letter"
        ABC_OFFERED = "abc_offered", "Acceptable behaviour contract offered"
        ABC_SIGNED = "abc_signed", "Acceptable behaviour contract signed"
        ABC_REFUSED = "abc_refused", "Acceptable behaviour contract refused"
        NOISE_ABATEMENT = "noise_abatement", "Noise abatement notice"
        CLOSURE_CONSIDERED = "closure_considered", "Closure order considered"
        CLOSURE_APPLIED = "closure_applied", "Closure order applied for"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, blank=True, related_name="entries")
    profiles = models.ManyToManyField(Profile, related_name="entries", blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    action = models.CharField(max_length=24, choices=Action.choices, blank=True)
    occurred_at = models.DateTimeField()
    summary = models.CharField(max_length=200)
    body = models.TextField(blank=True, max_length=20000)
    attendees = models.TextField(blank=True, max_length=2000)
    is_sensitive = models.BooleanField(default=False)
    restricted_to_teams = models.ManyToManyField("directory.Team", related_name="+", blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    deleted_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            # Live entries only: the timeline's page and its paginator's count read the index alone.
            models.Index(
                fields=["case", "-occurred_at", "-id"],
                name="casework_entry_case_live",
                condition=Q(deleted_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.summary}"


class TimelineEntryVersion(models.Model):
    """A previous version of an entry, kept when it is edited or deleted."""

    entry = models.ForeignKey(TimelineEntry, on_delete=models.PROTECT, related_name="history")
    version = models.PositiveIntegerField()
    data = models.JSONField()
    replaced_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    replaced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["entry", "version"], name="casework_entry_version_unique")]

    def __str__(self) -> str:
        return f"entry {self.entry_id} v{self.version}"


class IdempotencyKey(models.Model):
    """A create that must happen once: an API request's ``Idempotency-Key``, or a page form's
    one-time token (``form:<token>``), with the answer it got (``tenant_apps.casework.idempotency``).

    In the partnership's schema and per user, so keys are scoped to both. The row is inserted
    in the create's own transaction and holds its answer when that commits; a concurrent
    request with the same key waits on the row, then replays the answer. Kept for
    ``idempotency.KEPT_FOR`` (expired rows are deleted by the next keyed request). The body
    is the answer the user already got: nothing more sensitive than that.
    """

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 of method, path and body
    status_code = models.PositiveSmallIntegerField(null=True)
    body = models.TextField(blank=True)  # the answer's JSON as text: jsonb would reorder its keys
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="casework_idempotency_user_key")]

    def __str__(self) -> str:
        return f"idempotency key {self.pk}"
