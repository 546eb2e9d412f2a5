"""File fields of the casework forms: an entry's attachments and a profile's photo.

The documents app decides what is accepted; these only offer the right files and parse them.
"""

from __future__ import annotations

from django import forms
from django.conf import settings

from tenant_apps.casework.forms.fields import set_messages
from tenant_apps.documents import content

__all__ = ["AttachmentsMixin", "MultipleFileField", "ProfilePhotoForm"]


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
        set_messages(self.fields["photo"], required="Choose a photo to upload.", empty="The file is empty.",
                  invalid="Choose a photo to upload.")  # fmt: skip

    def clean_photo(self):
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
