"""The page helpers of the floor (``concord.pages``): one way to put a service's refusal on a form."""

from django import forms
from django.core.exceptions import ValidationError

from concord import errors
from concord.pages import REFUSALS, apply_errors, posted


class _ShareForm(forms.Form):
    team = forms.CharField(required=False)
    access = forms.CharField(required=False)


def test_a_validation_error_lands_on_the_field_it_names_renamed_or_else_on_the_form():
    form = _ShareForm({})
    assert form.is_valid()
    error = ValidationError({"grantee": ["Choose a team."], "access": ["Choose view or edit."], "other": ["Odd."]})
    apply_errors(form, error, rename={"grantee": "team"})
    assert form.errors == {"team": ["Choose a team."], "access": ["Choose view or edit."], "__all__": ["Odd."]}

    whole = _ShareForm({})
    whole.is_valid()
    apply_errors(whole, ValidationError("Not now."))
    assert whole.non_field_errors() == ["Not now."]


def test_a_domain_error_lands_on_the_whole_form_with_its_message():
    form = _ShareForm({})
    form.is_valid()
    refusal = errors.ChangedSinceOpened()
    assert isinstance(refusal, REFUSALS) and isinstance(ValidationError("x"), REFUSALS)
    apply_errors(form, refusal)
    assert form.non_field_errors() == [errors.ChangedSinceOpened.message]


def test_a_domain_error_lands_on_the_field_renamed_for_its_code():
    form = _ShareForm({})
    form.is_valid()
    apply_errors(form, errors.StorageUnavailable(), rename={"storage_unavailable": "team", "grantee": "access"})
    assert form.errors == {"team": [errors.StorageUnavailable.message]}

    elsewhere = _ShareForm({})
    elsewhere.is_valid()
    apply_errors(elsewhere, errors.StorageUnavailable(), rename={"storage_unavailable": "no_such_field"})
    assert elsewhere.non_field_errors() == [errors.StorageUnavailable.message]


def test_posted_binds_a_form_only_when_it_was_sent(rf):
    assert posted(rf.get("/", {"team": "x"})) is None
    empty = rf.post("/")  # a confirmation button sends nothing but is still a POST
    assert posted(empty) is not None and not posted(empty)
