"""Case types an admin shapes: the subject roles and timeline kinds a new case of the type may
have, a default team and a version (optimistic concurrency).

Existing types keep every role and kind (nothing a partnership records today is refused), but
the five seeded types get the roles their work has; no type gets a default team (teams are the
partnership's own). Runs once per partnership schema: five small updates.
"""

import django.contrib.postgres.fields
import django.db.models.deletion
from django.db import migrations, models

import tenant_apps.casework.models

SEEDED_ROLES = {
    "ASB": ["perpetrator", "victim", "witness", "complainant"],
    "TF": ["family_member"],
    "IOM": ["offender"],
    "DA": ["perpetrator", "victim", "witness", "family_member"],
    "HC": ["perpetrator", "victim", "witness", "complainant"],
}


def seed_roles(apps, schema_editor):
    CaseType = apps.get_model("casework", "CaseType")
    for code, roles in SEEDED_ROLES.items():
        CaseType.objects.filter(code=code).update(subject_roles=roles)


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0006_profile_name_keys"),
        ("directory", "0001_agencies_teams_memberships"),
    ]

    operations = [
        migrations.AddField(
            model_name="casetype",
            name="default_team",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="directory.team",
            ),
        ),
        migrations.AddField(
            model_name="casetype",
            name="subject_roles",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(max_length=16),
                default=tenant_apps.casework.models.all_subject_roles,
                size=None,
            ),
        ),
        migrations.AddField(
            model_name="casetype",
            name="timeline_kinds",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(max_length=16),
                default=tenant_apps.casework.models.all_timeline_kinds,
                size=None,
            ),
        ),
        migrations.AddField(
            model_name="casetype",
            name="version",
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.RunPython(seed_roles, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="casetype",
            constraint=models.CheckConstraint(
                condition=models.Q(("subject_roles", []), _negated=True), name="casework_case_type_has_roles"
            ),
        ),
        migrations.AddConstraint(
            model_name="casetype",
            constraint=models.CheckConstraint(
                condition=models.Q(("timeline_kinds", []), _negated=True), name="casework_case_type_has_kinds"
            ),
        ),
    ]
