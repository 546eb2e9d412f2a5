"""Anchors of the partnerships' audit chains, and the trigger that keeps them append-only.

Public only (a shared app). As ``audit``'s 0002: UPDATE and DELETE are refused, and TRUNCATE
unless the table is empty.
"""

import django.db.models.functions.datetime
from django.db import migrations, models

CREATE_FUNCTION = """
CREATE FUNCTION audit_anchor_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    is_empty boolean;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM %I.%I)', TG_TABLE_SCHEMA, TG_TABLE_NAME) INTO is_empty;
        IF is_empty THEN
            RETURN NULL;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit anchors are append-only'
        USING HINT = 'Anchors cannot be changed or removed; anchor again instead.';
END;
$$
"""

CREATE_ROW_TRIGGER = """
CREATE TRIGGER audit_anchors_auditanchor_append_only
BEFORE UPDATE OR DELETE ON audit_anchors_auditanchor
FOR EACH ROW EXECUTE FUNCTION audit_anchor_refuse_change()
"""

CREATE_TRUNCATE_TRIGGER = """
CREATE TRIGGER audit_anchors_auditanchor_no_truncate
BEFORE TRUNCATE ON audit_anchors_auditanchor
FOR EACH STATEMENT EXECUTE FUNCTION audit_anchor_refuse_change()
"""


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="AuditAnchor",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("schema_name", models.CharField(max_length=63)),
                ("seq", models.BigIntegerField()),
                ("hash", models.CharField(max_length=64)),
                ("anchored_at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("schema_name", "seq"), name="audit_anchor_schema_seq_uniq")
                ],
            },
        ),
        migrations.RunSQL(
            sql=[CREATE_FUNCTION, CREATE_ROW_TRIGGER, CREATE_TRUNCATE_TRIGGER],
            reverse_sql=[
                "DROP TRIGGER audit_anchors_auditanchor_no_truncate ON audit_anchors_auditanchor",
                "DROP TRIGGER audit_anchors_auditanchor_append_only ON audit_anchors_auditanchor",
                "DROP FUNCTION audit_anchor_refuse_change()",
            ],
        ),
    ]
