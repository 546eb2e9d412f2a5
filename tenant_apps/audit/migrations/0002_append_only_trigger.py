"""Audit events are append-only: the database refuses UPDATE, DELETE and TRUNCATE.

This runs once per schema (public and every partnership) with the search_path
set to that schema first, so the unqualified names below land in, and point
at, the schema being migrated: each schema has its own ``audit_refuse_change()``
and its triggers call that one. No schema name appears anywhere, so the DDL
dumped from the provisioning template replays into new partnerships as is.

TRUNCATE of an *empty* table is let through: provisioning empties the template
schema with one TRUNCATE of all its tables, and nothing is lost when there are
no rows (TRUNCATE takes its exclusive lock before the trigger looks, so no row
can arrive in between).
"""

from django.db import migrations

CREATE_FUNCTION = """
CREATE FUNCTION audit_refuse_change() RETURNS trigger
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
    RAISE EXCEPTION 'audit events are append-only'
        USING HINT = 'Audit events cannot be changed or removed; record a new event instead.';
END;
$$
"""

CREATE_ROW_TRIGGER = """
CREATE TRIGGER audit_auditevent_append_only
BEFORE UPDATE OR DELETE ON audit_auditevent
FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()
"""

CREATE_TRUNCATE_TRIGGER = """
CREATE TRIGGER audit_auditevent_no_truncate
BEFORE TRUNCATE ON audit_auditevent
FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()
"""


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_audit_event"),
    ]

    operations = [
        migrations.RunSQL(
            sql=[CREATE_FUNCTION, CREATE_ROW_TRIGGER, CREATE_TRUNCATE_TRIGGER],
            reverse_sql=[
                "DROP TRIGGER audit_auditevent_no_truncate ON audit_auditevent",
                "DROP TRIGGER audit_auditevent_append_only ON audit_auditevent",
                "DROP FUNCTION audit_refuse_change()",
            ],
        ),
    ]
