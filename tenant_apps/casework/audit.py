"""What the audit trail hides of casework from a reader (registered with the audit app).

The trail never shows a reader what the record itself would hide from them
(``tenant_apps.audit.redaction``):

- ``timeline_entry``: a sensitive entry (now or at any earlier version) from anyone
  outside its named teams, partnership admins included; any entry from someone
  who may not see its case or profiles.
- ``profile`` / ``case``: from someone they are not visible to (an admin sees them
  only where the partnership chose ``admins_see_everything``, or by team, agency
  or share like anyone else).
- ``family``: from someone it is not visible to.
- ``document``: a document attached to an entry or a profile hidden from the
  reader (its deletion reason is the uploader's words); an id that names no
  document, or a document attached to anything else, counts as hidden.

Every rule also counts an id that names nothing as hidden: the audit's refused-read
middleware asks them whether a 404 refused a read (``tenant_apps.audit.middleware``).

And how the trail names them (``tenant_apps.audit.naming``; only objects the rules above let
the reader see are named, and a deleted entry is not named at all):

- ``case``: "Case ASB-2026-0001, Noise and intimidation on Granary Yard";
- ``profile``: "Profile: Jade Kowalski"; ``family``: "Family: The Kowalskis";
- ``timeline_entry``: "Timeline entry: Home visit, 3 March 2026 (case ASB-2026-0001)";
- the fields their edits record: choices by their labels, dates and times in words.
"""

from __future__ import annotations

from django.utils import timezone

from tenant_apps.audit import naming, redaction
from tenant_apps.casework.models import Case, CaseSubject, CaseType, Family, Profile, TimelineEntry
from tenant_apps.casework.selectors import (
    NOT_VISIBLE,
    cases_hidden_from,
    entries_hidden_from,
    families_hidden_from,
    profiles_hidden_from,
)
from tenant_apps.casework.selectors.scope import whole_ids
from tenant_apps.documents import selectors as document_selectors

_BY_ATTACHMENT = {"timeline_entry": entries_hidden_from, "profile_photo": profiles_hidden_from}


def documents_hidden_from(user, document_ids) -> dict[str, str]:
    attached = document_selectors.attachment_targets(document_ids)
    hidden = {str(value): NOT_VISIBLE for value in document_ids if str(value) not in attached}
    for document_id, (attached_kind, _) in attached.items():
        if attached_kind not in _BY_ATTACHMENT:
            hidden[document_id] = NOT_VISIBLE
    for kind, rule in _BY_ATTACHMENT.items():
        targets = {target for attached_kind, target in attached.values() if attached_kind == kind}
        hidden_targets = rule(user, sorted(targets)) if targets else {}
        for document_id, (attached_kind, target) in attached.items():
            if attached_kind == kind and target in hidden_targets:
                hidden[document_id] = hidden_targets[target]
    return hidden


def cases_named(case_ids) -> dict[str, str]:
    rows = Case.objects.filter(pk__in=whole_ids(case_ids)).values_list("pk", "reference", "title")
    return {str(pk): f"{reference}, {title}" for pk, reference, title in rows}


def profiles_named(profile_ids) -> dict[str, str]:
    rows = Profile.objects.filter(pk__in=whole_ids(profile_ids)).only("kind", "first_name", "last_name", "name")
    return {str(profile.pk): profile.display_name for profile in rows}


def families_named(family_ids) -> dict[str, str]:
    return {str(pk): name for pk, name in Family.objects.filter(pk__in=whole_ids(family_ids)).values_list("pk", "name")}


def entries_named(entry_ids) -> dict[str, str]:
    """Live entries only: a deleted one reads "Timeline entry 52 (deleted)"."""
    rows = TimelineEntry.objects.filter(pk__in=whole_ids(entry_ids), deleted_at__isnull=True).values_list(
        "pk", "summary", "occurred_at", "case__reference"
    )
    named = {}
    for pk, summary, occurred_at, reference in rows:
        on = timezone.localtime(occurred_at, naming.UK)
        named[str(pk)] = f"{summary}, {on.day} {on:%B %Y}" + (f" (case {reference})" if reference else "")
    return named


ENTRY_FIELDS = {
    "kind": naming.Field("Kind", choices=TimelineEntry.Kind.choices),
    "action": naming.Field("Action", choices=TimelineEntry.Action.choices),
    "occurred_at": naming.Field("When"),
    "summary": naming.Field("Summary"),
    "body": naming.Field("Details"),
    "attendees": naming.Field("Attendees"),
    "is_sensitive": naming.Field("Sensitive"),
}
PROFILE_FIELDS = {
    "first_name": naming.Field("First name"),
    "last_name": naming.Field("Last name"),
    "name": naming.Field("Name"),
    "date_of_birth": naming.Field("Date of birth"),
    "gender": naming.Field("Gender", choices=Profile.Gender.choices),
    "phone": naming.Field("Phone"),
    "notes": naming.Field("Notes"),
}
CASE_FIELDS = {
    "status": naming.Field("Status", choices=Case.Status.choices),
    "outcome": naming.Field("Outcome", choices=Case.Outcome.choices),
    "closed_on": naming.Field("Closed on"),
    "lead_practitioner": naming.Field("Lead practitioner", names="user"),
    "owning_team": naming.Field("Owning team", names="team"),
    "can_edit": naming.Field("May edit"),
    "can_share": naming.Field("May share"),
}


def case_types_named(case_type_ids) -> dict[str, str]:
    """A case type by its name and prefix ("Anti-social behaviour (ASB)"): admin settings, hidden from
    nobody who reads the trail."""
    rows = CaseType.objects.filter(pk__in=whole_ids(case_type_ids)).values_list("pk", "name", "code")
    return {str(pk): f"{name} ({code})" for pk, name, code in rows}


CASE_TYPE_FIELDS = {
    "name": naming.Field("Name"),
    "prefix": naming.Field("Reference prefix"),
    "subject_roles": naming.Field("Subject roles", choices=CaseSubject.Role.choices),
    "timeline_kinds": naming.Field("Timeline kinds", choices=TimelineEntry.Kind.choices),
    "default_team": naming.Field("Default team"),
    "is_active": naming.Field("In use"),
}


def register() -> None:
    naming.register("case_type", case_types_named, label="Case type", fields=CASE_TYPE_FIELDS)
    naming.register("case", cases_named, template="{label} {name}", fields=CASE_FIELDS)
    naming.register("profile", profiles_named, fields={**PROFILE_FIELDS, "can_edit": CASE_FIELDS["can_edit"],
                                                       "can_share": CASE_FIELDS["can_share"]})  # fmt: skip
    naming.register("family", families_named)
    naming.register("timeline_entry", entries_named, fields=ENTRY_FIELDS)
    redaction.register("timeline_entry", entries_hidden_from)
    redaction.register("profile", profiles_hidden_from)
    redaction.register("case", cases_hidden_from)
    redaction.register("family", families_hidden_from)
    redaction.register("document", documents_hidden_from)
