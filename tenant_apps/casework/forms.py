"""Forms of the casework pages. They parse input; the services decide and report errors by field."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from tenant_apps.casework.models import Case, CaseSubject, Profile, TimelineEntry


class TeamChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.label


class TeamsChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.label


class ProfileChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        born = f", born {obj.date_of_birth:%-d %b %Y}" if obj.date_of_birth else ""
        return f"{obj.display_name}{born}"


# --- GOV.UK date input: day, month and year as three inputs ----------------------------------


class DateInputWidget(forms.MultiWidget):
    """Day, month and year inputs named ``<name>_day``, ``_month``, ``_year``.

    The day input takes the field's own id, so the error summary's link lands on it.
    """

    template_name = "casework/widgets/date_input.html"

    def __init__(self, attrs=None):
        parts = {
            "day": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 2}),
            "month": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 2}),
            "year": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 4}),
        }
        super().__init__(parts, attrs)

    def decompress(self, value):
        if isinstance(value, dt.date):
            return [value.day, value.month, value.year]
        return [None, None, None]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        base_id = (attrs or {}).get("id") or self.attrs.get("id")
        labels = ("Day", "Month", "Year")
        for index, (subwidget, label) in enumerate(zip(context["widget"]["subwidgets"], labels, strict=True)):
            subwidget["label"] = label
            subwidget["width"] = 4 if index == 2 else 2
            if base_id:
                subwidget["attrs"]["id"] = base_id if index == 0 else f"{base_id}_{label.lower()}"
            subwidget["attrs"].pop("aria-describedby", None)
        return context

    def id_for_label(self, id_):
        return id_


class GovukDateField(forms.MultiValueField):
    widget = DateInputWidget

    def __init__(self, *, label: str, required: bool = True, **kwargs):
        part = {"required": False}
        fields = (forms.CharField(**part), forms.CharField(**part), forms.CharField(**part))
        super().__init__(fields, label=label, required=required, require_all_fields=False, **kwargs)
        self.noun = label[0].lower() + label[1:]

    def clean(self, value):
        parts = [str(p or "").strip() for p in (value or [])] + ["", "", ""]
        day, month, year = parts[:3]
        if not (day or month or year):
            if self.required:
                raise forms.ValidationError(f"Enter the {self.noun}.", code="required")
            return None
        missing = [name for name, part in (("day", day), ("month", month), ("year", year)) if not part]
        if missing:
            raise forms.ValidationError(f"The {self.noun} must include a {' and a '.join(missing)}.")
        if not (day.isdigit() and month.isdigit() and year.isdigit()) or len(year) != 4:
            raise forms.ValidationError(f"The {self.noun} must be a real date, like 27 3 2007.")
        try:
            return dt.date(int(year), int(month), int(day))
        except ValueError:
            raise forms.ValidationError(f"The {self.noun} must be a real date, like 27 3 2007.") from None

    def compress(self, data_list):  # pragma: no cover - clean() above does the work
        return data_list


def _messages(field: forms.Field, **messages: str) -> None:
    field.error_messages.update(messages)


# --- Profiles ----------------------------------------------------------------------------------


class ProfileFilterForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", required=False, choices=[("", "Any kind"), *Profile.Kind.choices])


class ProfileFieldsForm(forms.Form):
    first_name = forms.CharField(label="First name", required=False, max_length=100)
    last_name = forms.CharField(label="Last name", required=False, max_length=100)
    name = forms.CharField(
        label="Name of the organisation or premises", required=False, max_length=200,
        help_text="Only for organisations and premises.",
    )  # fmt: skip
    date_of_birth = GovukDateField(label="Date of birth", required=False, help_text="For example, 27 3 2007")
    gender = forms.ChoiceField(label="Gender", choices=Profile.Gender.choices, widget=forms.RadioSelect,
                               initial=Profile.Gender.NOT_KNOWN)  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("first_name", "last_name", "name"):
            self.fields[name].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        _messages(self.fields["gender"], required="Choose a gender, or Not known.",
                  invalid_choice="Choose a gender, or Not known.")  # fmt: skip


class ProfileCreateForm(ProfileFieldsForm):
    kind = forms.ChoiceField(label="What is this profile?", choices=Profile.Kind.choices, widget=forms.RadioSelect,
                             initial=Profile.Kind.PERSON)  # fmt: skip
    owning_team = TeamChoiceField(label="Owning team", queryset=None, empty_label="Choose a team",
                                  help_text="Your team that looks after this profile.")  # fmt: skip
    aliases = forms.CharField(
        label="Other names (optional)", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Aliases, nicknames or previous names: one on each line.",
    )  # fmt: skip
    not_duplicate = forms.CharField(required=False, widget=forms.HiddenInput)

    field_order = ["kind", "first_name", "last_name", "name", "date_of_birth", "gender", "aliases", "owning_team"]

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owning_team"].queryset = teams
        _messages(self.fields["owning_team"], required="Choose the team that owns this profile.",
                  invalid_choice="Choose one of your teams.")  # fmt: skip
        _messages(self.fields["kind"], required="Choose what this profile is.",
                  invalid_choice="Choose what this profile is.")  # fmt: skip

    def duplicate_key(self) -> str:
        """What the "not the same person" confirmation was given for: names and date of birth."""
        data = self.cleaned_data
        born = data.get("date_of_birth")
        return "|".join([data.get("first_name", "").strip().lower(), data.get("last_name", "").strip().lower(),
                         born.isoformat() if born else ""])  # fmt: skip

    def alias_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("aliases", "").splitlines() if line.strip()]


class DuplicateCheckForm(forms.Form):
    """The names and date of birth of the profile being added: what the duplicate check reads.

    Posted by the create form as the user leaves a field (htmx); a date not yet complete or
    not valid is ignored rather than reported (the full form reports it on submit).
    """

    kind = forms.CharField(required=False)
    first_name = forms.CharField(required=False, max_length=100)
    last_name = forms.CharField(required=False, max_length=100)
    date_of_birth = GovukDateField(label="Date of birth", required=False)

    def wanted(self) -> dict | None:
        """``first_name``, ``last_name`` and ``date_of_birth`` to look for, or None if there is nothing to check."""
        self.is_valid()
        data = self.cleaned_data
        if self.data.get("kind", Profile.Kind.PERSON) != Profile.Kind.PERSON:
            return None
        first, last = data.get("first_name", ""), data.get("last_name", "")
        if "first_name" not in data or "last_name" not in data or not (first.strip() or last.strip()):
            return None
        return {"first_name": first, "last_name": last, "date_of_birth": data.get("date_of_birth")}


class ProfileMergeForm(forms.Form):
    """Which profile is the same person as this one: a likely duplicate, or any other the user may edit."""

    duplicate = ProfileChoiceField(label="Likely matches", queryset=None, required=False, widget=forms.RadioSelect,
                                   empty_label=None)  # fmt: skip
    other = ProfileChoiceField(label="Or choose another profile", queryset=None, required=False,
                               empty_label="Choose a profile")  # fmt: skip
    confirm = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, duplicates, others, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["duplicate"].queryset = duplicates
        self.fields["other"].queryset = others
        _messages(self.fields["duplicate"], invalid_choice="Choose one of the profiles listed.")
        _messages(self.fields["other"], invalid_choice="Choose one of the profiles listed.")

    def clean(self):
        data = super().clean()
        duplicate, other = data.get("duplicate"), data.get("other")
        if self.errors:
            return data
        if duplicate and other and duplicate.pk != other.pk:
            raise forms.ValidationError("Choose one profile: a likely match or another profile, not both.")
        if not (duplicate or other):
            self.add_error("duplicate" if self.fields["duplicate"].queryset else "other",
                           "Choose the profile that is the same person.")  # fmt: skip
        data["merge"] = duplicate or other
        return data


class ProfileEditForm(ProfileFieldsForm):
    phone = forms.CharField(label="Phone number (optional)", required=False, max_length=40,
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))  # fmt: skip
    notes = forms.CharField(label="Notes (optional)", required=False, max_length=5000,
                            widget=forms.Textarea(attrs={"rows": 5}))  # fmt: skip
    version = forms.IntegerField(widget=forms.HiddenInput)

    def changes(self, profile: Profile) -> dict:
        fields = ["gender", "phone", "notes"]
        fields += ["first_name", "last_name", "date_of_birth"] if profile.kind == Profile.Kind.PERSON else ["name"]
        return {name: self.cleaned_data[name] for name in fields}


# --- Cases -------------------------------------------------------------------------------------

SUBJECT_ROWS = 3


class CaseFilterForm(forms.Form):
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Any status"), *Case.Status.choices])
    case_type = forms.ModelChoiceField(label="Case type", required=False, queryset=None, empty_label="Any type")

    def __init__(self, *args, case_types, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case_type"].queryset = case_types
        _messages(self.fields["case_type"], invalid_choice="Choose a case type from the list.")
        _messages(self.fields["status"], invalid_choice="Choose a status from the list.")


class TimelineFilterForm(forms.Form):
    """Which kind of entry a case's timeline shows (GET; empty: every kind)."""

    kind = forms.ChoiceField(
        label="Show", required=False, choices=[("", "Every kind of entry"), *TimelineEntry.Kind.choices]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _messages(self.fields["kind"], invalid_choice="Choose a kind of entry from the list.")

    def chosen_kind(self) -> str:
        """The kind chosen, or "" for every kind (also when the choice was not valid)."""
        return self.cleaned_data.get("kind", "") if self.is_valid() else ""


class CaseCreateForm(forms.Form):
    case_type = forms.ModelChoiceField(label="Case type", queryset=None, empty_label="Choose a case type")
    title = forms.CharField(label="Title", max_length=200, help_text="For example, Noise and intimidation, Mill Lane.")
    summary = forms.CharField(label="Summary (optional)", required=False, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 4}))  # fmt: skip
    opened_on = GovukDateField(label="Date opened", required=False,
                               help_text="Leave empty for today. For example, 27 3 2025")  # fmt: skip
    owning_team = TeamChoiceField(label="Owning team", queryset=None, empty_label="Choose a team")

    def __init__(self, *args, case_types, teams, profiles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case_type"].queryset = case_types
        self.fields["owning_team"].queryset = teams
        _messages(self.fields["case_type"], required="Choose a case type.", invalid_choice="Choose a case type.")
        _messages(self.fields["title"], required="Enter a title for the case.")
        _messages(self.fields["owning_team"], required="Choose the team that owns this case.",
                  invalid_choice="Choose one of your teams.")  # fmt: skip
        for row in range(1, SUBJECT_ROWS + 1):
            first = row == 1
            subject = ProfileChoiceField(label=f"Subject {row}" + ("" if first else " (optional)"), queryset=profiles,
                                         required=first, empty_label="Choose a profile")  # fmt: skip
            _messages(
                subject, required="Choose at least one subject.", invalid_choice="Choose a profile from the list."
            )
            role = forms.ChoiceField(label=f"Role of subject {row}", required=False,
                                     choices=[("", "Choose a role"), *CaseSubject.Role.choices])  # fmt: skip
            _messages(role, invalid_choice="Choose a role from the list.")
            self.fields[f"subject_{row}"] = subject
            self.fields[f"role_{row}"] = role

    def subject_rows(self):
        return [(self[f"subject_{row}"], self[f"role_{row}"]) for row in range(1, SUBJECT_ROWS + 1)]

    def clean(self):
        data = super().clean()
        for row in range(1, SUBJECT_ROWS + 1):
            if data.get(f"subject_{row}") and not data.get(f"role_{row}"):
                self.add_error(f"role_{row}", f"Choose the role of subject {row}.")
        return data

    def subjects(self) -> list[tuple[Profile, str]]:
        data = self.cleaned_data
        return [(data[f"subject_{r}"], data[f"role_{r}"]) for r in range(1, SUBJECT_ROWS + 1) if data[f"subject_{r}"]]


class CaseStatusForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=Case.Status.choices, widget=forms.RadioSelect)
    outcome = forms.ChoiceField(label="Outcome (when closing)", required=False,
                                choices=[("", "Choose an outcome"), *Case.Outcome.choices])  # fmt: skip
    closed_on = GovukDateField(label="Date closed", required=False,
                               help_text="When closing. Leave empty for today.")  # fmt: skip
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _messages(self.fields["status"], required="Choose a status.", invalid_choice="Choose a status.")
        _messages(self.fields["outcome"], invalid_choice="Choose the outcome of the case.")


def offer_sharing_terms(form: forms.Form, rights) -> None:
    """Offer on a share form only what the user may grant (``selectors.SharingRights``): "View and
    edit" if they may grant edit, "They may also share it on" if they may grant that."""
    if not rights.may_grant_edit:
        form.fields["access"].choices = [("view", "View")]
        form.fields["access"].error_messages["invalid_choice"] = "You may share it to view only."
    if rights.may_grant_share_on:
        form.fields["share_on"] = forms.BooleanField(
            label="They may also share it on", required=False,
            help_text="They may share it further (never with more than they have) and remove what they shared.",
        )  # fmt: skip


def sharing_terms(form: forms.Form) -> dict:
    """``can_edit`` and ``can_share`` for ``services.share_grant``, from a valid share form."""
    return {"can_edit": form.cleaned_data["access"] == "edit", "can_share": form.cleaned_data.get("share_on", False)}


class ShareForm(forms.Form):
    team = TeamChoiceField(label="A team", required=False, queryset=None, empty_label="No team")
    agency = forms.ModelChoiceField(label="Or an agency", required=False, queryset=None, empty_label="No agency")
    grantee = forms.ModelChoiceField(label="Or one person", required=False, queryset=None, empty_label="No person")
    access = forms.ChoiceField(label="They may", choices=[("view", "View"), ("edit", "View and edit")],
                               widget=forms.RadioSelect, initial="view")  # fmt: skip

    def __init__(self, *args, teams, agencies, users, rights, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["agency"].queryset = agencies
        self.fields["grantee"].queryset = users
        self.fields["grantee"].label_from_instance = lambda person: f"{person.get_full_name()} ({person.email})"
        for name in ("team", "agency", "grantee"):
            _messages(self.fields[name], invalid_choice="Choose from the list.")
        _messages(self.fields["access"], required="Choose what they may do.", invalid_choice="Choose what they may do.")
        offer_sharing_terms(self, rights)


# --- Timeline ----------------------------------------------------------------------------------

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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _messages(self.fields["kind"], required="Choose what kind of entry this is.",
                  invalid_choice="Choose what kind of entry this is.")  # fmt: skip
        _messages(self.fields["summary"], required="Enter a short summary.")
        _messages(self.fields["occurred_time"], required="Enter the time it happened.")
        for name in ("meeting_action", "enforcement_action"):
            _messages(self.fields[name], invalid_choice="Choose an action from the list.")

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


# --- Attachments and photos --------------------------------------------------------------------

ATTACHMENT_ACCEPT = ",".join([
    "image/jpeg", "image/png", "image/webp", "application/pdf", "text/plain", ".txt", ".csv", ".docx", ".xlsx",
    ".odt", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/vnd.oasis.opendocument.text",
])  # fmt: skip
PHOTO_ACCEPT = "image/jpeg,image/png,image/webp"
MAX_ATTACHMENTS = 10


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one ``<input type="file" multiple>``: cleans to a list (empty if none)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(attrs={"multiple": True, "accept": ATTACHMENT_ACCEPT, "class": "govuk-file-upload"}),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [item for item in (data if isinstance(data, list | tuple) else [data]) if item]
        if len(files) > MAX_ATTACHMENTS:
            raise forms.ValidationError(f"Attach at most {MAX_ATTACHMENTS} files at a time.")
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class AttachmentsMixin(forms.Form):
    """The ``attachments`` field of an entry form. The documents app decides what is accepted."""

    attachments = MultipleFileField(
        label="Attach files (optional)", required=False,
        help_text="Photos (JPEG, PNG or WebP), PDF, plain text, Word, Excel or OpenDocument text. "
                  "Location and camera details are removed from photos.",
    )  # fmt: skip


class ProfilePhotoForm(forms.Form):
    photo = forms.FileField(
        label="Upload a photo", help_text="A JPEG, PNG or WebP image. Location and camera details are removed.",
        widget=forms.FileInput(attrs={"accept": PHOTO_ACCEPT, "class": "govuk-file-upload"}),
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _messages(self.fields["photo"], required="Choose a photo to upload.", empty="The file is empty.",
                  invalid="Choose a photo to upload.")  # fmt: skip

    def clean_photo(self):
        from django.conf import settings

        from tenant_apps.documents import content

        photo = self.cleaned_data["photo"]
        if photo.size is not None and photo.size > settings.DOCUMENT_MAX_BYTES:
            return photo  # the documents service refuses it, with the limit
        photo.seek(0)
        head = photo.read()
        photo.seek(0)
        try:
            is_image = bool(head) and content.sniff(head).is_image
        except forms.ValidationError:
            is_image = False
        if not is_image:
            raise forms.ValidationError("The photo must be a JPEG, PNG or WebP image.")
        return photo


class EntryCreateForm(AttachmentsMixin, EntryFieldsForm):
    is_sensitive = forms.BooleanField(
        label="This entry is sensitive: only named teams may read it", required=False,
        help_text="Everyone who can see the case sees that it exists, with its kind and date, but not its content.",
    )  # fmt: skip
    restricted_to_teams = TeamsChoiceField(label="Teams that may read it", required=False, queryset=None,
                                           widget=forms.CheckboxSelectMultiple)  # fmt: skip

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["restricted_to_teams"].queryset = teams
        _messages(self.fields["restricted_to_teams"], invalid_choice="Choose teams from the list.",
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
        _messages(self.fields["reason"], required="Give the reason for deleting this entry.")


# --- Gallery -----------------------------------------------------------------------------------


class GalleryFilterForm(forms.Form):
    team = TeamChoiceField(label="Team", required=False, queryset=None, empty_label="Any team")
    case_type = forms.ModelChoiceField(label="Case type", required=False, queryset=None, empty_label="Any type")

    def __init__(self, *args, teams, case_types, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["case_type"].queryset = case_types
        _messages(self.fields["team"], invalid_choice="Choose a team from the list.")
        _messages(self.fields["case_type"], invalid_choice="Choose a case type from the list.")
