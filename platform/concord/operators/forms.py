from django import forms

from tenants.provisioning import ProvisioningError, validate_slug


def _sentence(message: str) -> str:
    """Provisioning's one-line messages start in lower case (they follow "error:" on a terminal)."""
    return message[:1].upper() + message[1:]


class ProvisionForm(forms.Form):
    slug = forms.CharField(
        label="Slug",
        max_length=64,
        help_text="The partnership's address and database schema: 2 to 30 lower-case letters and digits, "
        "starting with a letter, for example <code>suffolk</code>. It cannot be changed later.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}),
    )
    name = forms.CharField(
        label="Name",
        max_length=200,
        help_text="For example, Suffolk Community Safety Partnership.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    admin_email = forms.EmailField(
        label="First admin's e-mail address",
        max_length=254,
        help_text="They will be e-mailed a link to set their password.",
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={
            "required": "Enter the first admin's e-mail address",
            "invalid": "Enter an e-mail address in the correct format, like name@example.org",
        },
    )
    admin_name = forms.CharField(
        label="First admin's full name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].error_messages["required"] = "Enter a slug"
        self.fields["name"].error_messages["required"] = "Enter the partnership's name"
        self.fields["admin_name"].error_messages["required"] = "Enter the first admin's full name"

    def clean_slug(self):
        slug = self.cleaned_data["slug"].strip()
        try:
            validate_slug(slug)
        except ProvisioningError as error:
            raise forms.ValidationError(_sentence(str(error))) from None
        return slug

    def add_provisioning_error(self, error: ProvisioningError) -> None:
        """Show a refusal from ``partnership_provision`` against the field it is about."""
        message = str(error)
        if message.startswith(("slug", "a partnership with slug", "a schema named", "the host")):
            field = "slug"
        elif message.startswith("admin e-mail"):
            field = "admin_email"
        elif message.startswith("name"):
            field = "name"
        else:
            field = None
        self.add_error(field, _sentence(message))


class ModerationNoteForm(forms.Form):
    """Publishing: an optional note the partnership reads with the decision, and the version seen."""

    note = forms.CharField(label="Note to the partnership (optional)", required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Why is it rejected?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The partnership's admins read this.",
        error_messages={"required": "Say why the question is rejected: the partnership will read it."},
    )
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class RetireForm(forms.Form):
    reason = forms.CharField(label="Why is it retired?", max_length=300,
                             help_text="Partnerships read this on the question. Templates that use it keep it.",
                             error_messages={"required": "Say why the question is retired."})  # fmt: skip
