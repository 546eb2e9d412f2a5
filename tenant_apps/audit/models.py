"""The audit trail: who did what, when and from where, in each partnership's schema.

Events are append-only. A trigger in every schema (migration 0002) refuses
UPDATE, DELETE and TRUNCATE of ``audit_auditevent``, so not even a bug or a
raw SQL session through the application's database role can rewrite history.
Operators' events live in the public schema's copy of the same table.

Write events only through ``tenant_apps.audit.services.audit_record``; read
them only through ``tenant_apps.audit.selectors``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone


class AuditAction(models.TextChoices):
    """The registry of audited actions: dotted ``<area>.<what happened>`` names.

    The column is not restricted to these values at database level (an event
    must never be lost because its action is new), but every action a service
    records belongs here, so that it has a label and appears in the filter of
    the audit page. Add new ones in the group they belong to.
    """

    # Signing in and out
    SIGN_IN = "auth.sign_in", "Signed in"
    SIGN_IN_FAILED = "auth.sign_in_failed", "Sign-in failed"
    SIGN_IN_REFUSED_LOCKED = "auth.sign_in_refused_locked", "Sign-in refused: account locked"
    SIGN_IN_REFUSED_DELAYED = "auth.sign_in_refused_delayed", "Sign-in refused: source must wait"
    SECOND_FACTOR = "auth.second_factor", "Second factor given"
    SIGN_OUT = "auth.sign_out", "Signed out"
    SIGN_OUT_EVERYWHERE = "auth.sign_out_everywhere", "Signed out everywhere"
    LOCKED = "auth.locked", "Account locked"
    DELAYED = "auth.delayed", "Sign-ins delayed for one source"
    THROTTLED = "auth.throttled", "Address throttled"
    PASSWORD_SET = "auth.password_set", "Password set"
    RESET_REQUESTED = "auth.reset_requested", "Password reset requested"
    REAUTHENTICATED = "auth.reauthenticated", "Confirmed it is them (password and code)"
    PASSWORD_CHANGED = "auth.password_changed", "Password changed"
    PASSWORD_CHANGE_REQUIRED = "auth.password_change_required", "Asked to change a password too easy to guess"
    NOT_ME_REPORTED = "auth.not_me_reported", "Reported a change they did not make"
    # Second factors
    OTP_ENROLLED = "otp.enrolled", "Authenticator app enrolled"
    OTP_RESET = "otp.reset", "Second factor reset"
    OTP_BACKUP_CODES_REGENERATED = "otp.backup_codes_regenerated", "Backup codes replaced"
    OTP_ENROLMENT_LINK_OPENED = "otp.enrolment_link_opened", "Enrolment link opened"
    OTP_ENROLMENT_LINK_SENT = "otp.enrolment_link_sent", "Enrolment link sent again"
    OTP_PASSKEY_ADDED = "otp.passkey_added", "Passkey added"
    OTP_PASSKEY_RENAMED = "otp.passkey_renamed", "Passkey renamed"
    OTP_PASSKEY_REMOVED = "otp.passkey_removed", "Passkey removed"
    # Managing users
    USER_INVITED = "user.invited", "User invited"
    USER_ROLE_CHANGED = "user.role_changed", "Role changed"
    USER_TEAMS_CHANGED = "user.teams_changed", "Teams changed"
    USER_DEACTIVATED = "user.deactivated", "User deactivated"
    USER_REACTIVATED = "user.reactivated", "User reactivated"
    USER_AGENCY_CHANGED = "user.agency_changed", "Agency changed"
    # Agencies and teams
    AGENCY_CREATED = "agency.created", "Agency created"
    AGENCY_UPDATED = "agency.updated", "Agency changed"
    TEAM_CREATED = "team.created", "Team created"
    TEAM_UPDATED = "team.updated", "Team changed"
    # Casework: who looked at whom, and every change
    PROFILE_VIEWED = "profile.viewed", "Profile viewed"
    PROFILE_CREATED = "profile.created", "Profile created"
    PROFILE_UPDATED = "profile.updated", "Profile changed"
    PROFILE_MERGED = "profile.merged", "Profiles merged"
    CASE_VIEWED = "case.viewed", "Case viewed"
    TIMELINE_ENTRY_VIEWED = "timeline.entry_viewed", "Timeline entry viewed"
    GALLERY_VIEWED = "gallery.viewed", "Photo gallery viewed"
    ACCESS_REFUSED = "access.refused", "Refused: not found or not yours"
    ACCESS_FORBIDDEN = "access.forbidden", "Refused: not allowed"
    ACCESS_REFUSALS_SUPPRESSED = "access.refusals_suppressed", "Refusals counted, not recorded one by one"
    READ_LIMITED = "access.read_limited", "Reads refused: too many in a minute"
    PARTNERSHIP_READ_LIMITED = "access.partnership_read_limited", "Reads refused: the partnership's limit"
    READ_VOLUME_ALERT = "access.read_volume_alert", "Many profiles opened in a short time"
    CASE_CREATED = "case.created", "Case opened"
    CASE_STATUS_CHANGED = "case.status_changed", "Case status changed"
    SHARE_GRANTED = "share.granted", "Record shared"
    SHARE_REVOKED = "share.revoked", "Sharing revoked"
    TIMELINE_ENTRY_CREATED = "timeline.entry_created", "Timeline entry recorded"
    TIMELINE_ENTRY_UPDATED = "timeline.entry_updated", "Timeline entry edited"
    TIMELINE_ENTRY_DELETED = "timeline.entry_deleted", "Timeline entry deleted"
    CASE_TYPE_CREATED = "case_type.created", "Case type added"
    CASE_TYPE_UPDATED = "case_type.updated", "Case type changed"
    CASE_TYPE_RETIRED = "case_type.retired", "Case type retired"
    CASE_TYPE_RESTORED = "case_type.restored", "Case type brought back"
    SEARCH_RUN = "search.run", "Search run"
    DOCUMENT_UPLOADED = "document.uploaded", "Document uploaded"
    DOCUMENT_DOWNLOADED = "document.downloaded", "Document downloaded"
    DOCUMENT_DELETED = "document.deleted", "Document deleted"
    DOCUMENT_MISSING = "document.missing", "Document's file missing from storage"
    DOCUMENT_MALWARE_REFUSED = "document.malware_refused", "Upload refused: malware found"
    # Families and profile details
    FAMILY_VIEWED = "family.viewed", "Family viewed"
    FAMILY_CREATED = "family.created", "Family created"
    FAMILY_MEMBER_ADDED = "family.member_added", "Family member added"
    FAMILY_MEMBER_REMOVED = "family.member_removed", "Family member removed"
    PROFILE_ADDRESS_ADDED = "profile.address_added", "Address added"
    PROFILE_ADDRESS_REMOVED = "profile.address_removed", "Address removed"
    PROFILE_IDENTIFIER_ADDED = "profile.identifier_added", "Identifier added"
    PROFILE_IDENTIFIER_REMOVED = "profile.identifier_removed", "Identifier removed"
    PROFILE_WARNING_ADDED = "profile.warning_added", "Warning marker added"
    PROFILE_WARNING_REMOVED = "profile.warning_removed", "Warning marker removed"
    PROFILE_VULNERABILITY_ADDED = "profile.vulnerability_added", "Vulnerability added"
    PROFILE_VULNERABILITY_REMOVED = "profile.vulnerability_removed", "Vulnerability removed"
    PROFILE_ALIAS_ADDED = "profile.alias_added", "Other name added"
    PROFILE_ALIAS_REMOVED = "profile.alias_removed", "Other name removed"
    # Tasks
    TASK_VIEWED = "task.viewed", "Task viewed"
    TASK_CREATED = "task.created", "Task created"
    TASK_STATUS_CHANGED = "task.status_changed", "Task status changed"
    TASK_REPLIED = "task.replied", "Reply on a task"
    TASK_DUE_DATE_CHANGED = "task.due_date_changed", "Task due date changed"
    TASK_DIGEST_PREFERENCE_CHANGED = "task.digest_preference_changed", "Daily task e-mail turned on or off"
    # API clients (partner systems) and their calls
    API_CLIENT_ISSUED = "api_client.issued", "API client issued"
    API_CLIENT_ROTATED = "api_client.rotated", "API client's token rotated"
    API_CLIENT_REVOKED = "api_client.revoked", "API client revoked"
    API_CALL = "api.call", "API call by a client"
    API_RATE_LIMITED = "api.rate_limited", "API client rate-limited"
    # Partnership settings
    SESSION_TIMEOUT_CHANGED = "settings.session_timeout_changed", "Session timeout changed"
    READ_LIMITS_CHANGED = "settings.read_limits_changed", "Read limits changed"
    # The platform (public schema: operators)
    PARTNERSHIP_PROVISIONED = "partnership.provisioned", "Partnership provisioned"
    PARTNERSHIP_SUSPENDED = "partnership.suspended", "Partnership suspended"
    PARTNERSHIP_RESUMED = "partnership.resumed", "Partnership resumed"
    PARTNERSHIP_INVITATION_RESENT = "partnership.invitation_resent", "Partnership admin's invitation re-sent"


class AuditEventQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        """Each event at the end of the chain, one after the other (``chain.chain_append``)."""
        from tenant_apps.audit.chain import chain_append

        objs = list(objs)
        for event in objs:
            chain_append(event)
            event._state.adding = False
        return objs


class AuditEvent(models.Model):
    """One thing that happened. Never updated, never deleted (the database refuses).

    - ``actor``: who did it, if anyone was signed in or identified. PROTECT: a
      user with an audit trail cannot be deleted (deactivate them instead);
      CASCADE or SET_NULL would need a DELETE or UPDATE of events, which the
      trigger refuses anyway. The foreign key constraint stays in the database.
    - ``actor_label``: the actor's e-mail address at the time (addresses change).
    - ``ip_address`` and ``user_agent``: where it came from (see the service for
      how the address is chosen behind proxies).
    - ``object_type`` / ``object_id``: what it was done to, e.g. ``user`` / ``42``.
    - ``summary``: one line for people. Never a password, code, token or secret.
    - ``changes``: ``{"field": [before, after]}`` for edits, else null.
    - ``seq``, ``prev_hash``, ``hash``: its link in the schema's hash chain (``chain``).
    """

    id = models.BigAutoField(primary_key=True)  # bigint, GENERATED BY DEFAULT AS IDENTITY
    # Python's clock for ORM writes (precise, unlike now() which is the transaction's start);
    # the database default covers rows inserted by hand.
    occurred_at = models.DateTimeField(default=timezone.now, db_default=Now(), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
        db_index=False,  # the (actor, occurred_at) index serves lookups by actor
    )
    actor_label = models.CharField(max_length=254, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True)  # at most 300 characters (the service truncates)
    # Indexed through the leading column of (action, occurred_at).
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    # The hash chain (tenant_apps.audit.chain): the event's place (1, 2, 3... no gaps), the
    # previous event's hash, and this one's: SHA-256 of prev_hash, seq, id and the keyed MAC of
    # the content (version 2; version 1: HMAC-SHA256 of every column). Written only by
    # ``chain.chain_append``.
    seq = models.BigIntegerField(unique=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    chain_version = models.PositiveSmallIntegerField(db_default=2)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["actor", "occurred_at"], name="audit_actor_occurred_idx"),
            models.Index(fields=["action", "occurred_at"], name="audit_action_occurred_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_label or 'nobody'} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args, **kwargs) -> None:
        """A new event goes to the end of the schema's hash chain (``chain.chain_append``),
        however it is saved; an existing one is refused by the database (append-only)."""
        if self._state.adding and self.seq is None:
            from tenant_apps.audit.chain import chain_append

            chain_append(self)
            self._state.adding = False
            return
        super().save(*args, **kwargs)

    @property
    def action_label(self) -> str:
        """The registry's label, or the dotted name for an action not (yet) registered."""
        try:
            return AuditAction(self.action).label
        except ValueError:
            return self.action


class RefusalTally(models.Model):
    """Refusals of one user that were not recorded one by one in a window (repeats of one
    recorded, and any past the per-user cap: ``services.audit_access_refused``), counted here
    and summarised in ONE ``access.refusals_suppressed`` event when the window closes
    (``jobs.refusals_summarise``). A counter, not part of the trail: its rows are updated."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    window_started_at = models.DateTimeField()
    window_ends_at = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
    summarised = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["actor", "window_ends_at"], name="audit_tally_actor_ends_idx")]

    def __str__(self) -> str:
        return f"{self.count} refusals of user {self.actor_id} until {self.window_ends_at:%Y-%m-%d %H:%M}"


class ChainHead(models.Model):
    """The schema's chain head: one row (id 1), the last event's ``seq`` and ``hash``.

    Every chained insert moves it (one ``UPDATE``, which row-locks it) in the writer's
    transaction, so writers never fork the chain and a rollback leaves no gap. Made by the
    first event (provisioning copies no rows of it). Not evidence: verification recomputes
    the chain from the events and the public anchors, and only compares the head."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)
    # The hash before the last move: the one statement that moves the head hands it to the event.
    prev_hash = models.CharField(max_length=64, blank=True, db_default="")

    def __str__(self) -> str:
        return f"chain head #{self.seq}"


class HeldEvent(models.Model):
    """An event recorded apart (``services.audit_record_apart``) while the caller's own
    transaction held the chain head: committed here at once (it survives the caller's
    rollback), then moved into the chain (``chain.chain_drain_held``) by the next audit write
    of the process, at the end of the request, or by the periodic job. A queue: rows deleted."""

    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)

    def __str__(self) -> str:
        return f"held {self.action} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class ChainVerification(models.Model):
    """The schema's last chain verification (one row, id 1), written by ``audit_verify`` and the
    periodic job, read by the audit page (which never verifies the chain itself)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    verified_at = models.DateTimeField()
    ok = models.BooleanField()
    events = models.BigIntegerField(default=0)  # how many events were verified
    up_to = models.BigIntegerField(default=0)  # the last verified (or last good) event's seq
    problem = models.TextField(blank=True)  # the first broken row and why; empty when ok

    def __str__(self) -> str:
        return f"chain {'verified' if self.ok else 'broken'} up to #{self.up_to} at {self.verified_at:%Y-%m-%d %H:%M}"
