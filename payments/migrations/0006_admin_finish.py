"""The admin's finish: payments are called payments, statuses read as sentences, and the search by
part of a payment id or description is served by trigram indexes (pg_trgm, a trusted extension),
and the one by an exact user id by a b-tree."""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("payments", "0005_business_time")]

    operations = [
        TrigramExtension(),
        migrations.AlterModelOptions(
            name="paymentsummary",
            options={"ordering": ["-created_at", "payment_id"], "verbose_name": "payment",
                     "verbose_name_plural": "payments"},
        ),
        migrations.AlterField(
            model_name="paymentsummary",
            name="status",
            field=models.CharField(choices=[("PROCESSED", "Processed"), ("PARTIALLY_REFUNDED", "Partially refunded"),
                                            ("REFUNDED", "Refunded"), ("CANCELLED", "Cancelled")], max_length=20),
        ),
        migrations.AddIndex(
            model_name="paymentsummary",
            index=models.Index(fields=["user_id"], name="payments_summary_user"),
        ),
        migrations.AddIndex(
            model_name="paymentsummary",
            index=django.contrib.postgres.indexes.GinIndex(fields=["payment_id"], opclasses=["gin_trgm_ops"],
                                                           name="payments_summary_id_trgm"),
        ),
        migrations.AddIndex(
            model_name="paymentsummary",
            index=django.contrib.postgres.indexes.GinIndex(fields=["description"], opclasses=["gin_trgm_ops"],
                                                           name="payments_summary_text_trgm"),
        ),
    ]
