"""The audit trail's hash chain (``tenant_apps.audit.chain``): seq, prev_hash and hash on every
event, the schema's chain head, the events held for it, and the last verification's result.

Existing events are chained in id order (the 0002 trigger is switched off for that UPDATE alone,
in this migration's transaction, and on again before it commits). The head row is made when a
schema has events; an empty schema (the provisioning template, a new partnership) gets it with
its first event, so provisioning copies no rows of it. Runs once per schema, as every migration.
"""

import json

import django.core.serializers.json
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

BATCH = 5000
READ = (
    "SELECT id, occurred_at, actor_id, actor_label, host(ip_address), user_agent, action, object_type, "
    "object_id, summary, changes::text FROM audit_auditevent WHERE id > %s ORDER BY id LIMIT %s"
)
NAMES = ("id", "occurred_at", "actor_id", "actor_label", "ip_address", "user_agent", "action", "object_type",
         "object_id", "summary", "changes")  # fmt: skip


def chain_existing_events(apps, schema_editor):
    # Version 1 of the chain (version 2 came with 0005): the events chained here keep it.
    from tenant_apps.audit.chain import event_hash_v1, genesis

    db = schema_editor.connection
    previous, seq, last_id = genesis(db.schema_name), 0, 0
    with db.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only")
        while True:
            cursor.execute(READ, [last_id, BATCH])
            rows = cursor.fetchall()
            updates = []
            for row in rows:
                columns = dict(zip(NAMES, row, strict=True))
                columns["changes"] = None if columns["changes"] is None else json.loads(columns["changes"])
                seq += 1
                columns.update(seq=seq, prev_hash=previous)
                digest = event_hash_v1(columns)
                updates.append((seq, previous, digest, columns["id"]))
                previous, last_id = digest, columns["id"]
            if updates:
                cursor.executemany("UPDATE audit_auditevent SET seq = %s, prev_hash = %s, hash = %s WHERE id = %s",
                                   updates)  # fmt: skip
            if len(rows) < BATCH:
                break
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_auditevent_append_only")
        if seq:
            cursor.execute("INSERT INTO audit_chainhead (id, seq, hash) VALUES (1, %s, %s)", [seq, previous])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_refusal_tally"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(model_name="auditevent", name="seq", field=models.BigIntegerField(null=True)),
        migrations.AddField(
            model_name="auditevent", name="prev_hash", field=models.CharField(max_length=64, null=True)
        ),
        migrations.AddField(model_name="auditevent", name="hash", field=models.CharField(max_length=64, null=True)),
        migrations.CreateModel(
            name="ChainHead",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("seq", models.BigIntegerField(default=0)),
                ("hash", models.CharField(max_length=64)),
            ],
        ),
        migrations.CreateModel(
            name="ChainVerification",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("verified_at", models.DateTimeField()),
                ("ok", models.BooleanField()),
                ("events", models.BigIntegerField(default=0)),
                ("up_to", models.BigIntegerField(default=0)),
                ("problem", models.TextField(blank=True)),
            ],
        ),
        migrations.CreateModel(
            name="HeldEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("occurred_at", models.DateTimeField()),
                ("actor_label", models.CharField(blank=True, max_length=254)),
                ("ip_address", models.GenericIPAddressField(blank=True, null=True)),
                ("user_agent", models.TextField(blank=True)),
                ("action", models.CharField(max_length=64)),
                ("object_type", models.CharField(blank=True, max_length=64)),
                ("object_id", models.CharField(blank=True, max_length=64)),
                ("summary", models.CharField(blank=True, max_length=300)),
                (
                    "changes",
                    models.JSONField(blank=True, encoder=django.core.serializers.json.DjangoJSONEncoder, null=True),
                ),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
        migrations.AlterField(model_name="auditevent", name="seq", field=models.BigIntegerField(unique=True)),
        migrations.AlterField(model_name="auditevent", name="prev_hash", field=models.CharField(max_length=64)),
        migrations.AlterField(model_name="auditevent", name="hash", field=models.CharField(max_length=64)),
    ]
