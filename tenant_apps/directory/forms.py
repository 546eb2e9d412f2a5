"""Forms of the admin area. They parse input; the services decide and report errors by field."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model

from concord.api import SCOPES, scope_label
from concord.fields import LabelChoiceField, LabelMultipleChoiceField
from tenant_apps.directory.models import Agency
from tenant_apps.directory.selectors import STATUS_CHOICES
from tenant_apps.directory.services import ROTATION_OVERLAPS


def _role_choices():
    return get_user_model().Role.choices


class UserFilterForm(forms.Form):
    """The users list's filters (GET); every field optional."""

    q = forms.CharField(label="Name or e-mail address", required=False, max_length=254)
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Any status"), *STATUS_CHOICES])
    role = forms.ChoiceField(label="Role", required=False)
    team = LabelChoiceField(label="Team", required=False, queryset=None, empty_label="Any team")
    agency = forms.ModelChoiceField(label="Agency", required=False, queryset=None, empty_label="Any agency")

    def __init__(self, *args, teams, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies
        self.fields["agency"].error_messages["invalid_choice"] = "Choose an agency from the list."
        self.fields["role"].choices = [("", "Any role"), *_role_choices()]
        self.fields["team"].queryset = teams
        self.fields["team"].error_messages["invalid_choice"] = "Choose a team from the list."
        self.fields["q"].widget.attrs.update({"type": "search", "spellcheck": "false"})

    def filters(self) -> dict:
        data = self.cleaned_data
        team, agency = data.get("team"), data.get("agency")
        return {
            "search": data.get("q") or "",
            "status": data.get("status") or None,
            "role": data.get("role") or None,
            "team_id": team.pk if team else None,
            "agency_id": agency.pk if agency else None,
        }


class MembershipFields(forms.Form):
    agency = forms.ModelChoiceField(
        label="Agency",
        required=False,
        queryset=None,
        empty_label="Not in an agency",
        help_text="The organisation they work for. Each person belongs to one agency.",
    )
    teams = LabelMultipleChoiceField(
        label="Teams",
        required=False,
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply. Teams of other agencies are allowed (multi-agency teams).",
    )

    def __init__(self, *args, agencies, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies
        self.fields["agency"].error_messages["invalid_choice"] = "Choose an agency from the list."
        self.fields["teams"].queryset = teams
        self.fields["teams"].error_messages["invalid_choice"] = "Choose teams from the list."
        self.fields["teams"].error_messages["invalid_pk_value"] = "Choose teams from the list."


class InviteForm(MembershipFields):
    full_name = forms.CharField(
        label="Full name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        help_text="Their work address. The invitation goes there.",
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    role = forms.ChoiceField(label="Role", widget=forms.RadioSelect)

    field_order = ["full_name", "email", "role", "agency", "teams"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["full_name"].error_messages["required"] = "Enter the person's full name."
        self.fields["email"].error_messages["required"] = "Enter their e-mail address."
        self.fields["email"].error_messages["invalid"] = (
            "Enter an e-mail address in the correct format, like name@example.org."
        )
        self.fields["role"].choices = _role_choices()
        self.fields["role"].error_messages["required"] = "Choose a role."
        self.fields["role"].error_messages["invalid_choice"] = "Choose a role."


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", widget=forms.RadioSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices()
        self.fields["role"].error_messages["required"] = "Choose a role."
        self.fields["role"].error_messages["invalid_choice"] = "Choose a role."


class AgencyForm(forms.Form):
    name = forms.CharField(label="Name", max_length=150, help_text="For example, Suffolk Constabulary.")
    kind = forms.ChoiceField(label="Kind of organisation", choices=Agency.Kind.choices, widget=forms.RadioSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].error_messages["required"] = "Enter the agency's name."
        self.fields["kind"].error_messages["required"] = "Choose what kind of organisation this is."
        self.fields["kind"].error_messages["invalid_choice"] = "Choose what kind of organisation this is."


class TeamForm(forms.Form):
    agency = forms.ModelChoiceField(label="Agency", queryset=None, empty_label="Choose an agency")
    name = forms.CharField(label="Name", max_length=150, help_text="For example, ASB Team or IOM.")

    def __init__(self, *args, agencies, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        if members is not None:  # changing a team: its lead, among its members
            self.fields["lead"] = forms.ModelChoiceField(
                label="Team lead (optional)",
                queryset=members,
                required=False,
                empty_label="Nobody",
                help_text="Reviews overdue on the team's records escalate to them.",
            )
            self.fields["lead"].label_from_instance = lambda person: person.get_full_name()
        self.fields["agency"].queryset = agencies
        self.fields["agency"].error_messages["required"] = "Choose the agency the team belongs to."
        self.fields["agency"].error_messages["invalid_choice"] = "Choose an agency from the list."
        self.fields["name"].error_messages["required"] = "Enter the team's name."


class IdleTimeoutForm(forms.Form):
    session_idle_minutes = forms.IntegerField(
        label="Sign people out after this many minutes without activity",
        min_value=5,
        max_value=480,
        help_text="Between 5 and 480 minutes (8 hours).",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-4", "autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["session_idle_minutes"]
        field.error_messages.update(
            {
                "required": "Enter the number of minutes.",
                "invalid": "Enter the number of minutes as a whole number, like 30.",
                "min_value": "The timeout must be at least 5 minutes.",
                "max_value": "The timeout must be 480 minutes (8 hours) or fewer.",
            }
        )


def _count_field(label: str, help_text: str, low: int, high: int, what: str) -> forms.IntegerField:
    field = forms.IntegerField(
        label=label,
        min_value=low,
        max_value=high,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-10", "autocomplete": "off"}),
    )
    field.error_messages.update(
        {
            "required": f"Enter the number of {what}.",
            "invalid": f"Enter the number of {what} as a whole number, like {max(low, 10 * (low // 10 or 1))}.",
            "min_value": f"The number of {what} must be at least {low:,}.",
            "max_value": f"The number of {what} must be {high:,} or fewer.",
        }
    )
    return field


class ReadLimitsForm(forms.Form):
    """The partnership's bulk-read limits (``accounts.readlimits``); the ranges are the model's."""

    reads_per_minute = _count_field(
        "Record reads a minute, per person",
        "Pages and API reads of profiles, cases, families, timelines and tasks. Between 10 and 100,000.",
        10, 100_000, "record reads",
    )  # fmt: skip
    searches_per_minute = _count_field(
        "Searches a minute, per person", "Between 5 and 100,000.", 5, 100_000, "searches"
    )
    downloads_per_minute = _count_field(
        "Downloads a minute, per person",
        "Files, photos and thumbnails (a page of photos counts each one). Between 10 and 100,000.",
        10, 100_000, "downloads",
    )  # fmt: skip
    partnership_per_minute = _count_field(
        "Reads a minute, for the whole partnership",
        "Every record read, search and download by everyone together. At least each person's limit.",
        10, 10_000_000, "reads for the partnership",
    )  # fmt: skip
    alert_profiles = _count_field(
        "Alert the administrators when one person opens more than this many different profiles",
        "Between 5 and 100,000.",
        5, 100_000, "profiles",
    )  # fmt: skip
    alert_minutes = _count_field("Within this many minutes", "Between 1 and 1,440 (a day).", 1, 1440, "minutes")


# --- API clients ----------------------------------------------------------------------------


def _expiry_field() -> forms.DateField:
    return forms.DateField(
        label="Token expires on",
        help_text=f"The token works until the end of this day, at most {settings.API_CLIENT_MAX_DAYS} days from "
        "today. For example, 31/12/2027 or 2027-12-31.",
        input_formats=["%Y-%m-%d", "%d/%m/%Y", "%d %m %Y"],
        widget=forms.DateInput(attrs={"type": "date", "class": "govuk-input--width-10"}),
        error_messages={
            "required": "Enter the date the token stops working.",
            "invalid": "Enter the expiry as a real date, like 2027-12-31.",
        },
    )


class ApiClientIssueForm(forms.Form):
    name = forms.CharField(
        label="Name of the system",
        max_length=100,
        help_text="The partner system that will use the token, for example Police RMS. "
        "The audit log names its calls \u201cAPI client: \u201d and this name.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": "Enter the name of the system, for example Police RMS."},
    )
    team = LabelChoiceField(
        label="Team it acts for",
        queryset=None,
        empty_label="Choose a team",
        help_text="It sees and changes exactly what a member of this team may.",
        error_messages={
            "required": "Choose the team the client acts for.",
            "invalid_choice": "Choose a team from the list.",
        },
    )
    scopes = forms.MultipleChoiceField(
        label="What it may use",
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply. Read lets it look only; read and write lets it add and change too.",
        error_messages={
            "required": "Choose at least one area the client may read or write.",
            "invalid_choice": "Choose areas from the list.",
        },
    )
    expires_on = _expiry_field()

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["scopes"].choices = [(scope, scope_label(scope)) for scope in SCOPES]


class ApiClientRotateForm(forms.Form):
    expires_on = _expiry_field()
    old_token_ends = forms.ChoiceField(
        label="The old token",
        widget=forms.RadioSelect,
        choices=[(value, label) for value, label, _ in ROTATION_OVERLAPS],
        help_text="An overlap lets the partner switch their system to the new token without an outage.",
        error_messages={
            "required": "Choose when the old token stops working.",
            "invalid_choice": "Choose when the old token stops working.",
        },
    )
