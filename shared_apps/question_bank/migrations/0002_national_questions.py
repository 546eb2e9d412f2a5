"""The national seed: the questions of ``national_questions.json``, each published as version 1.

Idempotent by code (a question with the code already is left as it is), and the reverse removes
nothing: published versions are never deleted (migration 0001's trigger).
"""

import json
from pathlib import Path

from django.db import migrations

SEED = Path(__file__).resolve().parent.parent / "national_questions.json"


def seed(apps, schema_editor):
    from shared_apps.question_bank.content import clean_content

    Question = apps.get_model("question_bank", "Question")
    QuestionVersion = apps.get_model("question_bank", "QuestionVersion")
    existing = set(Question.objects.values_list("code", flat=True))
    fields = ("wording", "guidance", "answer_type", "nature", "domain", "tags", "options", "unit", "minimum",
              "maximum", "anchors")  # fmt: skip
    for item in json.loads(SEED.read_text(encoding="utf-8")):
        if item["code"] in existing:
            continue
        content = clean_content({name: item.get(name) for name in fields})
        question = Question.objects.create(code=item["code"])
        QuestionVersion.objects.create(question=question, number=1, **content)


class Migration(migrations.Migration):
    dependencies = [("question_bank", "0001_question_bank")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
