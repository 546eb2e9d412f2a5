"""Version 2 of the audit chain (``tenant_apps.audit.chain``): the hash is computed in the
database, in the one statement that moves the head and inserts the event.

Every existing event keeps its version 1 hash (``chain_version`` 1, and it still verifies):
re-hashing them would be a rewrite of the chain, which the public anchors rightly report. The
head gets ``prev_hash``, which that statement hands to the event. New events are version 2 (also
the column's default). Both columns are added with a constant default, which PostgreSQL keeps in
the catalogue: no row is rewritten, no trigger fires.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_hash_chain")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="chain_version",
            field=models.PositiveSmallIntegerField(default=1),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="auditevent", name="chain_version", field=models.PositiveSmallIntegerField(db_default=2)
        ),
        migrations.AddField(
            model_name="chainhead",
            name="prev_hash",
            field=models.CharField(blank=True, db_default="", max_length=64),
        ),
    ]
