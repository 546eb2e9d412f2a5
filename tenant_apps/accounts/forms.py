from django import forms
from django.contrib.auth.forms import SetPasswordForm


class SignInForm(forms.Form):
    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "spellcheck": "false"}),
    )
    password = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=20,
        help_text="The 6-digit code from your authenticator app, or one of your backup codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false", "autocapitalize": "off"}
        ),
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=10,
        help_text="Enter the 6-digit code the app now shows for Concord.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class ResetRequestForm(forms.Form):
    email = forms.EmailField(
        label="E-mail address", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class NewPasswordForm(SetPasswordForm):
    """Length, a deny-list of common passwords and a guessability estimate (AUTH_PASSWORD_VALIDATORS:
    zxcvbn's reason shown on the form); no composition rules."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = "At least 12 characters. A few unrelated words work well."
        self.fields["new_password1"].widget.attrs["autocomplete"] = "new-password"
        self.fields["new_password2"].widget.attrs["autocomplete"] = "new-password"


class ConfirmItIsYouForm(forms.Form):
    """Before a change of a factor: the password and a current code (or a backup code)."""

    password = forms.CharField(
        label="Your password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    code = forms.CharField(
        label="Code",
        max_length=20,
        help_text="The 6-digit code your authenticator app shows now, or one of your backup codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false", "autocapitalize": "off"}
        ),
    )


class PasswordChangeForm(NewPasswordForm):
    """The current password, then the new one twice (checked by AUTH_PASSWORD_VALIDATORS)."""

    field_order = ["old_password", "new_password1", "new_password2"]
    old_password = forms.CharField(
        label="Your current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(self.field_order)
        self.fields["new_password1"].label = "New password"
        self.fields["new_password2"].label = "Confirm the new password"


class PasskeyNameForm(forms.Form):
    """Renaming a passkey: its name, so the user can tell their passkeys apart."""

    name = forms.CharField(
        label="Name of the passkey",
        max_length=64,
        help_text="So you can tell your passkeys apart, such as “Work laptop” or “My phone”.",
        error_messages={"required": "Enter a name for the passkey, such as the device it is on."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class PasskeyAddForm(PasskeyNameForm):
    """Adding a passkey: its name, and the browser's answer (filled in by concord/passkeys.js)."""

    credential = forms.CharField(required=False, widget=forms.HiddenInput, max_length=65536)
