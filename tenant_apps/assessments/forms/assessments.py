"""Forms of assessments: starting one, its sections' answers, completing it.

A section's answers are many fields named by answer (``selectors.answer_key``): ``a-<key>`` the
answer (``a-<key>-day``/``-month``/``-year`` for a date; several values for a multiple choice),
``ws-``/``fs-`` a scale's worker's and family's scores, ``wr-``/``fr-`` why one is blank,
``v-`` the answer's version when the page was opened, ``o-`` what it said then (JSON).
``answers_from_post`` reads them into the service's ``AnswerInput``s.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib.auth import get_user_model

from shared_apps.question_bank.content import answer_text
from shared_apps.question_bank.models import AnswerType
from tenant_apps.assessments.services import AnswerInput
from tenant_apps.casework.forms.fields import GovukDateField
from tenant_apps.directory.models import Team

__all__ = [
    "CompleteForm",
    "RestrictForm",
    "SettingsForm",
    "StartForm",
    "answers_from_post",
    "field_values",
    "original_of",
]


class StartForm(forms.Form):
    template = forms.TypedChoiceField(label="Template", coerce=int, widget=forms.RadioSelect,
                                      error_messages={"required": "Choose a template.",
                                                      "invalid_choice": "Choose a template."})  # fmt: skip
    subjects = forms.TypedMultipleChoiceField(
        label="Who is the assessment about?", coerce=int, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="The named subjects: the template's questions for named subjects are asked of each of them.",
    )  # fmt: skip

    def __init__(self, *args, templates=(), members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [(t.pk, t.name) for t in templates]
        self.fields["subjects"].choices = [(m.profile_id, m.profile.display_name) for m in members]
        if not members:
            del self.fields["subjects"]


class SettingsForm(forms.Form):
    remind_days_before = forms.IntegerField(
        label="Remind the assessor this many days before the review date",
        min_value=0,
        max_value=60,
        help_text="0 to 60. They are reminded on the day too.",
    )
    escalate_after_days = forms.IntegerField(
        label="Tell the team's lead when a review is this many days overdue",
        min_value=1,
        max_value=90,
        help_text="1 to 90.",
    )


class CompleteForm(forms.Form):
    review_date = GovukDateField(
        label="Review date", help_text="The assessor is reminded before it. For example, 27 3 2027."
    )


def original_of(answer) -> str:
    """What an answer said when the page was opened, as the ``o-`` field carries it."""
    if answer is None:
        return ""
    return json.dumps({"value": answer.value, "worker_score": answer.worker_score, "family_score": answer.family_score,
                       "worker_blank_reason": answer.worker_blank_reason,
                       "family_blank_reason": answer.family_blank_reason})  # fmt: skip


def _date(post, name: str) -> str | None:
    day, month, year = (post.get(f"{name}-{part}", "").strip() for part in ("day", "month", "year"))
    if not (day or month or year):
        return None
    if not (day.isdigit() and month.isdigit() and year.isdigit() and len(year) == 4):
        return "invalid"
    return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"


def answers_from_post(targets, post) -> list[AnswerInput]:
    """The answers a section's form posted, one per target whose fields are on the page."""
    inputs = []
    for target in targets:
        key = target.key
        if f"v-{key}" not in post:
            continue  # not on the page that was posted
        question = target.question
        if question.answer_type == AnswerType.MULTIPLE_CHOICE:
            value = post.getlist(f"a-{key}")
        elif question.answer_type == AnswerType.DATE:
            value = _date(post, f"a-{key}")
        else:
            value = post.get(f"a-{key}", "")
        version = post.get(f"v-{key}", "0")
        try:
            original = json.loads(post.get(f"o-{key}") or "null")
        except ValueError:
            original = None
        inputs.append(AnswerInput(
            key=key, value=value, worker_score=post.get(f"ws-{key}", ""), family_score=post.get(f"fs-{key}", ""),
            worker_blank_reason=post.get(f"wr-{key}", ""), family_blank_reason=post.get(f"fr-{key}", ""),
            version=int(version) if version.isdigit() else -1,
            original=original if isinstance(original, dict) else None,
        ))  # fmt: skip
    return inputs


def field_values(target, posted=None) -> dict:
    """What the target's fields show: what was posted (a form shown again with its errors), else
    the saved answer. ``value``; ``chosen`` (a list, for checkboxes); ``day``/``month``/``year``;
    ``scores`` (each score's field, label, value, and its reason's field and value); ``version``;
    ``original`` (the ``o-`` field); ``text`` (the saved answer as read, for a read-only page)."""
    shown = _field_values(target, posted)
    shown["scores"] = [("ws", "Worker's score", shown["ws"], "wr", shown["wr"]),
                       ("fs", "Family's score", shown["fs"], "fr", shown["fr"])]  # fmt: skip
    shown["original"] = original_of(target.answer)
    shown["text"] = _answer_shown(target)
    return shown


def _answer_shown(target) -> str:
    answer = target.answer
    if answer is None:
        return ""
    if target.question.is_scale:
        parts = [f"{label}: {score if score is not None else 'none'}{f' ({reason})' if reason else ''}"
                 for label, score, reason in (("Worker", answer.worker_score, answer.worker_blank_reason),
                                              ("Family", answer.family_score, answer.family_blank_reason))]  # fmt: skip
        return "; ".join(parts)
    return answer_text(target.question, answer.value)


def _field_values(target, posted) -> dict:
    key, answer = target.key, target.answer
    version = answer.version if answer is not None else 0
    if posted is not None and f"v-{key}" in posted:
        shown = {"value": posted.get(f"a-{key}", ""), "chosen": posted.getlist(f"a-{key}"),
                 "ws": posted.get(f"ws-{key}", ""), "fs": posted.get(f"fs-{key}", ""),
                 "wr": posted.get(f"wr-{key}", ""), "fr": posted.get(f"fr-{key}", "")}  # fmt: skip
        for part in ("day", "month", "year"):
            shown[part] = posted.get(f"a-{key}-{part}", "")
        return {**shown, "version": version}
    value = answer.value if answer is not None else None
    shown = {"value": value if isinstance(value, str) else "", "chosen": value if isinstance(value, list) else [],
             "ws": "" if answer is None or answer.worker_score is None else str(answer.worker_score),
             "fs": "" if answer is None or answer.family_score is None else str(answer.family_score),
             "wr": answer.worker_blank_reason if answer else "", "fr": answer.family_blank_reason if answer else "",
             "day": "", "month": "", "year": "", "version": version}  # fmt: skip
    if target.question.answer_type == AnswerType.DATE and isinstance(value, str) and len(value) == 10:
        shown["year"], shown["month"], shown["day"] = value[:4], str(int(value[5:7])), str(int(value[8:10]))
    return shown


class RestrictForm(forms.Form):
    teams = forms.ModelMultipleChoiceField(label="Teams who may still see it", required=False,
                                           widget=forms.CheckboxSelectMultiple, queryset=None)  # fmt: skip
    users = forms.ModelMultipleChoiceField(
        label="People who may still see it",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        queryset=None,
        help_text="You keep access. Each also needs to see the record it is about.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teams"].queryset = Team.objects.select_related("agency").order_by("agency__name", "name")
        self.fields["teams"].label_from_instance = lambda team: team.label
        people = get_user_model().objects.filter(is_active=True, is_integration=False).order_by("full_name", "pk")
        self.fields["users"].queryset = people
        self.fields["users"].label_from_instance = lambda person: person.get_full_name()
