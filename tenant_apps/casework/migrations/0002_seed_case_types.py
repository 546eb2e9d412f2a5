from django.db import migrations

CASE_TYPES = [
    ("Anti-social behaviour", "ASB"),
    ("Troubled family", "TF"),
    ("Integrated offender management", "IOM"),
    ("Domestic abuse", "DA"),
    ("Hate crime", "HC"),
]


def seed(apps, schema_editor):
    CaseType = apps.get_model("casework", "CaseType")
    for name, code in CASE_TYPES:
        CaseType.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("casework", "0001_profiles_cases_timeline")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
