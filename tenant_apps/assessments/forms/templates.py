"""Forms of the template builder and of local questions. They parse; the rules are the services'."""

from __future__ import annotations

from django import forms

from tenant_apps.assessments.models import BusinessArea, TemplateDomain, TemplateItem
from tenant_apps.casework.models import CaseType

__all__ = ["AddQuestionForm", "DomainForm", "ItemForm", "MoveForm", "SectionForm", "StatusForm", "TemplateForm"]

YES_NO = [("yes", "Yes"), ("no", "No")]


class TemplateForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)
    description = forms.CharField(label="Description (optional)", required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text="What it is for and when to use it.")  # fmt: skip
    business_area = forms.ChoiceField(label="Business area", choices=BusinessArea.choices, widget=forms.RadioSelect)
    case_types = forms.ModelMultipleChoiceField(
        label="Offered on cases of these types (optional)", required=False, widget=forms.CheckboxSelectMultiple,
        queryset=CaseType.objects.none(), help_text="It is offered from families and profiles whatever you choose.",
    )  # fmt: skip
    version = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case_types"].queryset = CaseType.objects.filter(is_active=True).order_by("name")


class SectionForm(forms.Form):
    title = forms.CharField(label="Section title", max_length=200)


class DomainForm(forms.Form):
    name = forms.CharField(label="Domain name", max_length=100, help_text="For example Housing, or Safety at home.")
    aggregate = forms.ChoiceField(label="Its score is", choices=TemplateDomain.Aggregate.choices,
                                  widget=forms.RadioSelect, initial=TemplateDomain.Aggregate.SUM)  # fmt: skip


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=[("withdrawn", "Withdraw"), ("in_use", "Put back in use")])


class AddQuestionForm(forms.Form):
    question = forms.CharField(max_length=40, widget=forms.HiddenInput)  # "bank:<id>" or "local:<id>"
    asked_of = forms.ChoiceField(label="Asked", choices=TemplateItem.AskedOf.choices, widget=forms.RadioSelect,
                                 initial=TemplateItem.AskedOf.FAMILY)  # fmt: skip
    required = forms.ChoiceField(label="Must it be answered to complete the assessment?", choices=YES_NO,
                                 widget=forms.RadioSelect, initial="yes")  # fmt: skip


class ItemForm(forms.Form):
    """How a question is asked in the template and how it scores. The points fields are made from
    the question's answers (``services.scoring_answers``): one per answer, named ``points_<n>``."""

    asked_of = forms.ChoiceField(label="Asked", choices=TemplateItem.AskedOf.choices, widget=forms.RadioSelect)
    required = forms.ChoiceField(label="Must it be answered to complete the assessment?", choices=YES_NO,
                                 widget=forms.RadioSelect)  # fmt: skip
    domain = forms.TypedChoiceField(label="Counts towards the score of", required=False, coerce=int, empty_value=None)
    score_kind = forms.ChoiceField(label="How it scores", required=False, widget=forms.RadioSelect)

    def __init__(self, *args, domains=(), answers=(), by_value=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.answers = list(answers)
        self.fields["domain"].choices = [("", "No domain: not scored")] + [(d.pk, d.name) for d in domains]
        kinds = [("", "Not scored")]
        if by_value:
            kinds.append(("value", "By the answer's value"))
        if self.answers:
            kinds.append(("map", "By points for each answer"))
        self.fields["score_kind"].choices = kinds
        for number, answer in enumerate(self.answers):
            self.fields[f"points_{number}"] = forms.CharField(label=f"Points for “{answer}”", required=False,
                                                              max_length=12)  # fmt: skip

    @classmethod
    def initial_for(cls, item: TemplateItem, answers) -> dict:
        initial = {"asked_of": item.asked_of, "required": "yes" if item.required else "no",
                   "domain": item.domain_id, "score_kind": item.scoring.get("kind", "")}  # fmt: skip
        scores = item.scoring.get("scores", {})
        for number, answer in enumerate(answers):
            if answer in scores:
                initial[f"points_{number}"] = scores[answer]
        return initial

    def points_fields(self):
        return [self[f"points_{number}"] for number in range(len(self.answers))]

    def scoring(self) -> dict:
        kind = self.cleaned_data.get("score_kind")
        if kind == "map":
            scores = {answer: self.cleaned_data[f"points_{n}"] for n, answer in enumerate(self.answers)}
            return {"kind": "map", "scores": {answer: value for answer, value in scores.items() if value != ""}}
        return {"kind": kind} if kind else {}
