"""One answer's fields as HTML, built in Python: a section of 20 questions asked of 6 people is
120 of them, and through the template engine (``{% include %}`` of a partial full of ``{% if %}``
and loops) rendering them was most of the page's time (about 70 of 150 ms, measured with
cProfile on the benchmark's assessment). The HTML is the same as the partial's was: a GOV.UK form
group per answer, its fieldset named by the question (and the person), the hint, the error, a
conflict, the tasks set from it, then the inputs for its answer type; read-only, the answer as text.
Every value is escaped (``django.utils.html.escape``); names are those ``forms.answers_from_post``
reads.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

__all__ = ["answer_html"]


def _radio(name: str, item_id: str, value: str, label: str, checked: bool) -> str:
    return (f'<div class="govuk-radios__item"><input class="govuk-radios__input" id="{item_id}" name="{name}" '
            f'type="radio" value="{escape(value)}"{" checked" if checked else ""}><label class="govuk-label '
            f'govuk-radios__label" for="{item_id}">{label}</label></div>')  # fmt: skip


def _text_input(name: str, value: str, *, width: str = "", extra: str = "") -> str:
    return (f'<input class="govuk-input{width}" id="{name}" name="{name}" type="text" value="{escape(value)}"'
            f"{extra}>")  # fmt: skip


def _inputs(question, key: str, shown: dict, has_errors: bool) -> str:
    kind, name = question.answer_type, f"a-{key}"
    if kind in ("yes_no", "yes_no_unknown", "single_choice"):
        if kind == "single_choice":
            choices = [(option, escape(option)) for option in question.options]
        else:
            choices = [("yes", "Yes"), ("no", "No")] + ([("unknown", "Don't know")] if kind == "yes_no_unknown" else [])
        radios = "".join(_radio(name, f"{name}-{n}", value, label, shown["value"] == value)
                         for n, (value, label) in enumerate(choices, start=1))  # fmt: skip
        return f'<div class="govuk-radios govuk-radios--small" data-module="govuk-radios">{radios}</div>'
    if kind == "multiple_choice":
        boxes = "".join(
            f'<div class="govuk-checkboxes__item"><input class="govuk-checkboxes__input" id="{name}-{n}" '
            f'name="{name}" type="checkbox" value="{escape(option)}"{" checked" if option in shown["chosen"] else ""}>'
            f'<label class="govuk-label govuk-checkboxes__label" for="{name}-{n}">{escape(option)}</label></div>'
            for n, option in enumerate(question.options, start=1)
        )  # fmt: skip
        return f'<div class="govuk-checkboxes govuk-checkboxes--small" data-module="govuk-checkboxes">{boxes}</div>'
    if kind == "number":
        unit = question.unit
        label = escape(question.wording + (f" in {unit}" if unit else ""))
        prefix = '<div class="govuk-input__prefix" aria-hidden="true">£</div>' if unit == "£" else ""
        suffix = (
            f'<div class="govuk-input__suffix" aria-hidden="true">{escape(unit)}</div>' if unit and unit != "£" else ""
        )
        error = " govuk-input--error" if has_errors else ""
        field = _text_input(name, shown["value"], width=f" govuk-input--width-10{error}",
                            extra=f' inputmode="decimal" spellcheck="false" aria-label="{label}"')  # fmt: skip
        return f'<div class="govuk-input__wrapper">{prefix}{field}{suffix}</div>'
    if kind == "date":
        parts = "".join(
            f'<div class="govuk-date-input__item"><div class="govuk-form-group"><label class="govuk-label '
            f'govuk-date-input__label" for="{name}-{part}">{label}</label>'
            f'<input class="govuk-input govuk-date-input__input govuk-input--width-{width}" id="{name}-{part}" '
            f'name="{name}-{part}" type="text" inputmode="numeric" maxlength="{width}" value="{escape(shown[part])}">'
            f"</div></div>"
            for part, label, width in (("day", "Day", 2), ("month", "Month", 2), ("year", "Year", 4))
        )  # fmt: skip
        return f'<div class="govuk-date-input">{parts}</div>'
    if kind == "text":
        return (f'<textarea class="govuk-textarea" id="{name}" name="{name}" rows="4" '
                f'aria-label="{escape(question.wording)}">{escape(shown["value"])}</textarea>')  # fmt: skip
    if question.is_scale:
        steps = question.scale_steps
        groups = []
        for who, label, value, reason_name, reason in shown["scores"]:
            radios = "".join(_radio(f"{who}-{key}", f"{who}-{key}-{point}", str(point),
                                    f"<strong>{point}</strong> {escape(anchor)}", value == str(point))
                             for point, anchor in steps)  # fmt: skip
            groups.append(
                f'<fieldset class="govuk-fieldset concord-score"><legend class="govuk-fieldset__legend '
                f'govuk-fieldset__legend--s">{label}</legend><div class="govuk-radios govuk-radios--small" '
                f'data-module="govuk-radios">{radios}</div><div class="govuk-form-group govuk-!-margin-top-2">'
                f'<label class="govuk-label govuk-label--s" for="{reason_name}-{key}">If there is no '
                f"{label.lower()}, why?</label>"
                + _text_input(f"{reason_name}-{key}", reason, extra=' maxlength="300"')
                + "</div></fieldset>"
            )  # fmt: skip
        return f'<div class="concord-scores">{"".join(groups)}</div>'
    return ""


def answer_html(target, *, editable: bool, ask_url: str) -> SafeString:
    """The form group of one answer (``target``: a ``selectors.Target`` with ``shown`` set;
    ``ask_url``: the assessment's "ask someone" page, reversed once for the page)."""
    question, key, shown = target.question, target.key, target.shown
    described = " ".join(([f"h-{key}"] if question.guidance else []) + ([f"e-{key}"] if target.errors else []))
    about = (f' <span class="concord-answer-about">({escape(target.member.profile.display_name)})</span>'
             if target.member is not None else "")  # fmt: skip
    optional = "" if target.item.required else ' <span class="govuk-hint govuk-!-display-inline">(optional)</span>'
    parts = [
        f'<div class="govuk-form-group{" govuk-form-group--error" if target.errors else ""}" id="q-{key}">',
        f'<fieldset class="govuk-fieldset"{f" aria-describedby={chr(34)}{described}{chr(34)}" if described else ""}>',
        f'<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">{escape(question.wording)}{about}{optional}'
        "</legend>",
    ]  # fmt: skip
    if question.guidance:
        parts.append(f'<div id="h-{key}" class="govuk-hint">{escape(question.guidance)}</div>')
    if target.errors:
        errors = "".join(f'<span class="govuk-visually-hidden">Error:</span> {escape(e)}' for e in target.errors)
        parts.append(f'<p id="e-{key}" class="govuk-error-message">{errors}</p>')
    if target.conflict:
        conflict = target.conflict
        parts.append(f'<div class="govuk-inset-text">{escape(conflict.by)} saved this while you were editing: '
                     f"“{escape(conflict.theirs)}” (shown below). "
                     f"You had entered “{escape(conflict.yours)}”.</div>")  # fmt: skip
    for ask in target.asks:
        task = ask.task
        reply = f". Latest reply: “{escape(ask.latest_reply[:300])}”" if ask.latest_reply else ". No reply yet."
        parts.append(
            f'<div class="govuk-inset-text govuk-!-margin-top-1 govuk-!-margin-bottom-2"><a class="govuk-link" '
            f'href="{reverse("tasks:detail", kwargs={"task_id": task.pk})}">Asked {escape(task.assignee_label)}</a>, '
            f"due {task.due_date:%-d %b %Y} ({escape(task.get_status_display().lower())}){reply}</div>"
        )  # fmt: skip
    if target.asks_hidden:
        many = "s" if target.asks_hidden != 1 else ""
        parts.append(f'<p class="govuk-body-s">{target.asks_hidden} other task{many} set from this question, which '
                     "you cannot see.</p>")  # fmt: skip
    if editable:
        original = escape(shown["original"])
        parts.append(f'<input type="hidden" id="v-{key}" name="v-{key}" value="{shown["version"]}">'
                     f'<input type="hidden" id="o-{key}" name="o-{key}" value="{original}">')  # fmt: skip
        parts.append(_inputs(question, key, shown, bool(target.errors)))
        who = f", {escape(target.member.profile.display_name)}" if target.member is not None else ""
        parts.append(f'<p class="govuk-body-s govuk-!-margin-top-2 govuk-!-margin-bottom-0"><a class="govuk-link" '
                     f'href="{ask_url}?key={key}">Ask someone for this<span class="govuk-visually-hidden">: '
                     f"{escape(question.wording)}{who}</span></a></p>")  # fmt: skip
    else:
        parts.append(f'<p class="govuk-body">{escape(shown["text"]) or "No answer"}</p>')
    parts.append("</fieldset></div>")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped
