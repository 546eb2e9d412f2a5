"""Forms of the tasks pages. They parse input; the services decide and report errors by field."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from concord.fields import LabelChoiceField
from tenant_apps.directory.models import Team
from tenant_apps.tasks.models import Task
from tenant_apps.tasks.services import PAST_DUE_DATE

LIST_STATUS_CHOICES = [
    ("active", "Open or in progress"),
    *Task.Status.choices,
    ("all", "Any status"),
]


class TaskFilterForm(forms.Form):
    status = forms.ChoiceField(label="Status", required=False, choices=LIST_STATUS_CHOICES)

    def status_filter(self) -> str:
        return (self.cleaned_data.get("status") if self.is_valid() else None) or "active"


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name()


DATE_INPUTS = ["%Y-%m-%d", "%d %m %Y", "%d/%m/%Y"]


class PastDueMixin:
    """A form with ``due_date`` and ``past_due_confirmed``: the box is offered only once needed."""

    @property
    def asks_past_due_confirmation(self) -> bool:
        """The service refused a past due date for want of confirmation (or the box was already
        ticked): the page then offers the box, beside the date it is about."""
        if self.is_bound and self.data.get(self.add_prefix("past_due_confirmed")):
            return True
        refusals = self.errors.as_data().get("due_date", []) if self.is_bound else []
        return any(error.code == PAST_DUE_DATE for error in refusals)


class TaskForm(PastDueMixin, forms.Form):
    """A new task. Person or team: the service refuses neither and both, naming the field."""

    title = forms.CharField(label="Title", max_length=200, help_text="What needs doing, in a few words.")
    details = forms.CharField(label="Details (optional)", required=False, max_length=5000, widget=forms.Textarea)
    assigned_user = PersonChoiceField(
        label="Assign to a person", required=False, queryset=None, empty_label="Not a person"
    )
    assigned_team = LabelChoiceField(
        label="Or assign to a team", required=False, queryset=None, empty_label="Not a team",
        help_text="Choose a person or a team, not both. Every member of the team can see the task.",
    )  # fmt: skip
    due_date = forms.DateField(
        label="Due date", required=False, help_text="For example, 27 3 2026 or 2026-03-27.",
        input_formats=DATE_INPUTS, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )  # fmt: skip
    past_due_confirmed = forms.BooleanField(
        label="Yes, the task is already overdue: record it with this date", required=False,
        help_text="For a task agreed earlier that was due before today. It is shown as overdue at once.",
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].error_messages["required"] = "Enter a title for the task."
        self.fields["assigned_user"].queryset = (
            get_user_model().objects.filter(is_active=True, is_integration=False).order_by("full_name")
        )
        self.fields["assigned_user"].error_messages["invalid_choice"] = "Choose a person from the list."
        self.fields["assigned_team"].queryset = Team.objects.select_related("agency")
        self.fields["assigned_team"].error_messages["invalid_choice"] = "Choose a team from the list."
        self.fields["due_date"].error_messages["invalid"] = "Enter the due date as a real date, like 2026-03-27."


class DueDateForm(PastDueMixin, forms.Form):
    """A task's new due date. The service decides (a past date needs confirming, as for a new task)."""

    due_date = forms.DateField(
        label="New due date", required=False, help_text="For example, 27 3 2026 or 2026-03-27.",
        input_formats=DATE_INPUTS, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )  # fmt: skip
    past_due_confirmed = forms.BooleanField(
        label="Yes, the task is already overdue: give it this date", required=False,
        help_text="It is shown as overdue at once.",
    )  # fmt: skip
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["due_date"].error_messages["invalid"] = "Enter the due date as a real date, like 2026-03-27."


class StatusForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=Task.Status.choices)
    version = forms.IntegerField(widget=forms.HiddenInput)


class ReplyForm(forms.Form):
    body = forms.CharField(label="Your reply", max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].error_messages["required"] = "Enter your reply."


class DigestForm(forms.Form):
    """The user's own daily digest: on or off."""

    wants_digest = forms.TypedChoiceField(
        label="Do you want a daily e-mail of your tasks overdue or due today?",
        choices=[("yes", "Yes, e-mail me on days when I have tasks overdue or due today"),
                 ("no", "No, do not e-mail me about them")],
        coerce=lambda value: value == "yes", widget=forms.RadioSelect,
        help_text="It lists your tasks and your team's by due date, with a link to each: never their titles, "
        "details, people or cases.",
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["wants_digest"].error_messages["required"] = "Choose yes or no."
        self.fields["wants_digest"].error_messages["invalid_choice"] = "Choose yes or no."
