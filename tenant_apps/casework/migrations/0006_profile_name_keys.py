"""The words of profile and alias names, GIN-indexed: the search looks up misspelt names
through them (``tenant_apps.search.selectors.names``). ``fastupdate`` off: with it on,
inserted rows wait in the index's pending list, which every search then reads in full
(50 ms for 20,000 aliases inserted in one go); casework writes are few, searches many."""

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
from django.db import migrations, models


def name_words():
    return models.Func(
        models.F("search_name"),
        models.Value(" "),
        function="string_to_array",
        output_field=django.contrib.postgres.fields.ArrayField(models.TextField()),
    )


class Migration(migrations.Migration):
    dependencies = [("casework", "0005_idempotency_key")]

    operations = [
        migrations.AddIndex(
            model_name="profile",
            index=django.contrib.postgres.indexes.GinIndex(
                name_words(), name="casework_profile_name_words", fastupdate=False
            ),
        ),
        migrations.AddIndex(
            model_name="profilealias",
            index=django.contrib.postgres.indexes.GinIndex(
                name_words(), name="casework_alias_name_words", fastupdate=False
            ),
        ),
    ]
