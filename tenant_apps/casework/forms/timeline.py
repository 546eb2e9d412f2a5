"""Forms of the timeline: which kind of entry is shown, recording, editing and deleting an entry."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from concord.fields import LabelMultipleChoiceField
from tenant_apps.casework.forms.documents import AttachmentsMixin
from tenant_apps.casework.forms.fields import GovukDateField, set_messages
from tenant_apps.casework.models import TimelineEntry

__all__ = ["EntryCreateForm", "EntryDeleteForm", "EntryEditForm", "EntryFieldsForm", "TimelineFilterForm"]


class TimelineFilterForm(forms.Form):
    """Which kind of entry a case's timeline shows (GET; empty: every kind)."""

    kind = forms.ChoiceField(
        label="Show", required=False, choices=[("", "Every kind of entry"), *TimelineEntry.Kind.choices]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        set_messages(self.fields["kind"], invalid_choice="Choose a kind of entry from the list.")

    def chosen_kind(self) -> str:
        """The kind chosen, or "" for every kind (also when the choice was not valid)."""
        return self.cleaned_data.get("kind", "") if self.is_valid() else ""


MEETING_ACTIONS = [("", "No particular kind"), *[(a.value, a.label) for a in TimelineEntry.Action][:2]]


ENFORCEMENT_ACTIONS = [("", "Choose the action"), *[(a.value, a.label) for a in TimelineEntry.Action][2:]]


class EntryFieldsForm(forms.Form):
    kind = forms.ChoiceField(label="What happened?", choices=TimelineEntry.Kind.choices, widget=forms.RadioSelect)
    meeting_action = forms.ChoiceField(
        label="Kind of meeting", required=False, choices=MEETING_ACTIONS, help_text="Only for a meeting"
    )
    enforcement_action = forms.ChoiceField(
        label="Enforcement action", required=False, choices=ENFORCEMENT_ACTIONS,
        help_text="Only for an enforcement action",
    )  # fmt: skip
    occurred_on = GovukDateField(label="Date it happened", help_text="For example, 27 3 2025")
    occurred_time = forms.CharField(label="Time", max_length=5, help_text="24-hour clock, for example 14:30",
                                    widget=forms.TextInput(attrs={"class": "govuk-input--width-5",
                                                                  "inputmode": "numeric"}))  # fmt: skip
    summary = forms.CharField(label="Summary", max_length=200, help_text="One line, shown in the timeline.")
    body = forms.CharField(label="Details (optional)", required=False, max_length=20000,
                           widget=forms.Textarea(attrs={"rows": 8}))  # fmt: skip
    attendees = forms.CharField(label="Who was there (optional)", required=False, max_length=2000,
                                widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip

    def __init__(self, *args, kinds: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if kinds is not None:  # on a case: the kinds its type offers (selectors.entry_kinds_offered)
            self.fields["kind"].choices = [(value, label) for value, label in TimelineEntry.Kind.choices
                                           if value in kinds]  # fmt: skip
        set_messages(self.fields["kind"], required="Choose what kind of entry this is.",
                  invalid_choice="Choose what kind of entry this is.")  # fmt: skip
        set_messages(self.fields["summary"], required="Enter a short summary.")
        set_messages(self.fields["occurred_time"], required="Enter the time it happened.")
        for name in ("meeting_action", "enforcement_action"):
            set_messages(self.fields[name], invalid_choice="Choose an action from the list.")

    # Asked after the kind, when and the summary ("More details" on the new entry form).
    MORE = ("meeting_action", "enforcement_action", "body", "attendees", "attachments", "is_sensitive",
            "restricted_to_teams")  # fmt: skip

    def more_open(self) -> bool:
        """Whether the "More details" group starts open: a field in it has an error, or (the form
        shown again) a value, so nothing typed or refused is hidden."""
        names = [name for name in self.MORE if name in self.fields]
        if any(self[name].errors for name in names):
            return True
        return self.is_bound and any(self.data.get(name) for name in names if name != "attachments")

    def clean_occurred_time(self):
        text = self.cleaned_data["occurred_time"].strip().replace(".", ":")
        try:
            return dt.datetime.strptime(text, "%H:%M").time()
        except ValueError:
            raise forms.ValidationError("Enter the time as hours and minutes, like 14:30.") from None

    def action_field(self) -> str:
        return "enforcement_action" if self.cleaned_data.get("kind") == TimelineEntry.Kind.ENFORCEMENT else (
            "meeting_action")  # fmt: skip

    def values(self) -> dict:
        data = self.cleaned_data
        kind = data["kind"]
        action = data.get(self.action_field(), "") if kind in (TimelineEntry.Kind.MEETING,
                                                                TimelineEntry.Kind.ENFORCEMENT) else ""  # fmt: skip
        occurred_at = timezone.make_aware(dt.datetime.combine(data["occurred_on"], data["occurred_time"]))
        return {"kind": kind, "action": action, "occurred_at": occurred_at, "summary": data["summary"],
                "body": data["body"], "attendees": data["attendees"]}  # fmt: skip

    @staticmethod
    def initial_for(entry: TimelineEntry) -> dict:
        local = timezone.localtime(entry.occurred_at)
        action_field = "enforcement_action" if entry.kind == TimelineEntry.Kind.ENFORCEMENT else "meeting_action"
        return {"kind": entry.kind, action_field: entry.action, "occurred_on": local.date(),
                "occurred_time": local.strftime("%H:%M"), "summary": entry.summary, "body": entry.body,
                "attendees": entry.attendees, "version": entry.version}  # fmt: skip


class EntryCreateForm(AttachmentsMixin, EntryFieldsForm):
    is_sensitive = forms.BooleanField(
        label="This entry is sensitive: only named teams may read it", required=False,
        help_text="Everyone who can see the case sees that it exists, with its kind and date, but not its content.",
    )  # fmt: skip
    restricted_to_teams = LabelMultipleChoiceField(label="Teams that may read it", required=False, queryset=None,
                                                   widget=forms.CheckboxSelectMultiple,
                                                   help_text="Only for a sensitive entry.")  # fmt: skip

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["restricted_to_teams"].queryset = teams
        set_messages(self.fields["restricted_to_teams"], invalid_choice="Choose teams from the list.",
                  invalid_pk_value="Choose teams from the list.")  # fmt: skip


class EntryEditForm(AttachmentsMixin, EntryFieldsForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class EntryDeleteForm(forms.Form):
    reason = forms.CharField(label="Why are you deleting this entry?", max_length=300,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="Its content is kept in the history; the reason is recorded.")  # fmt: skip
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        set_messages(self.fields["reason"], required="Give the reason for deleting this entry.")
