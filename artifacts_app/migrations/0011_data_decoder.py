# The decoder only changes how Python reads `data`: state only, no table change (on SQLite an
# AlterField rebuilds the table, and with it would go the search triggers of 0005-0007).

import artifacts_app.models
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("artifacts_app", "0010_search_terms"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="artifact",
                    name="data",
                    field=models.JSONField(
                        blank=True, decoder=artifacts_app.models.StoredJSONDecoder, null=True
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
