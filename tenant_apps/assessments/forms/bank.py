"""Forms of the bank's pages: the search filters, and a question's content (a draft for the bank,
an operator's edits). The form parses; the rules are ``question_bank.content.clean_content``'s,
whose errors come back on the fields they name (``concord.pages.apply_errors``)."""

from __future__ import annotations

import re

from django import forms

from shared_apps.question_bank.models import AnswerType, Domain, Nature
from tenant_apps.casework.forms.fields import VersionForm  # a confirmation button's form: the version seen

__all__ = ["BankFilterForm", "QuestionContentForm", "VersionForm"]

ANY = [("", "Any")]


class BankFilterForm(forms.Form):
    q = forms.CharField(label="Words in the question", required=False, max_length=200)
    domain = forms.ChoiceField(label="Domain", choices=ANY + Domain.choices, required=False)
    answer_type = forms.ChoiceField(label="Answer type", choices=ANY + AnswerType.choices, required=False)
    nature = forms.ChoiceField(
        label="Objective or subjective",
        required=False,
        choices=ANY + [(Nature.OBJECTIVE, "Objective"), (Nature.SUBJECTIVE, "Subjective")],
    )
    tag = forms.CharField(label="Tag", required=False, max_length=40)

    def filters(self) -> dict:
        """The filters as the selector takes them; an invalid one is ignored (a bad link shows all)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {"text": data["q"], "domain": data["domain"], "answer_type": data["answer_type"],
                "nature": data["nature"], "tag": data["tag"].strip()}  # fmt: skip


class QuestionContentForm(forms.Form):
    wording = forms.CharField(label="Question", max_length=300, widget=forms.Textarea(attrs={"rows": 2}),
                              help_text="As it is asked or recorded: short and plain.")  # fmt: skip
    guidance = forms.CharField(label="Guidance for the practitioner (optional)", required=False, max_length=1000,
                               widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    answer_type = forms.ChoiceField(label="How is it answered?", choices=AnswerType.choices, widget=forms.RadioSelect)
    nature = forms.ChoiceField(label="Objective or subjective?", choices=Nature.choices, widget=forms.RadioSelect)
    domain = forms.ChoiceField(label="Domain", choices=[("", "Choose a domain")] + Domain.choices)
    tags = forms.CharField(label="Tags (optional)", required=False, max_length=400,
                           help_text="Words that help others find it, separated by commas.")  # fmt: skip
    options = forms.CharField(label="Choices (for an answer from a list)", required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 5}), help_text="One per line.")  # fmt: skip
    unit = forms.CharField(label="Unit (for a number)", required=False, max_length=30,
                           help_text="For example £, %, days, people.")  # fmt: skip
    minimum = forms.CharField(label="Lowest value (for a number, optional)", required=False, max_length=20)
    maximum = forms.CharField(label="Highest value (for a number, optional)", required=False, max_length=20)
    anchors = forms.CharField(
        label="What each point of the scale means (for a scale)",
        required=False,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="One line per point, from 1 (the most need) to the top of the scale.",
    )

    @classmethod
    def initial_from(cls, content: dict) -> dict:
        """A question's content as the form shows it (lists as lines, tags with commas)."""
        initial = dict(content)
        initial["tags"] = ", ".join(content.get("tags") or [])
        initial["options"] = "\n".join(content.get("options") or [])
        initial["anchors"] = "\n".join(content.get("anchors") or [])
        for name in ("minimum", "maximum"):
            value = content.get(name)
            initial[name] = "" if value is None else format(value.normalize(), "f")
        return initial

    def content(self) -> dict:
        """The content for ``clean_content`` (which says what is wrong, by field)."""
        data = dict(self.cleaned_data)
        data["tags"] = [tag for tag in re.split(r"[,\s]+", data.get("tags") or "") if tag]
        return data
