"""Joins the ledger (0013) and the subscriptions and business time (0014, 0015), written side by side."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("eventstore", "0013_ledger"),
        ("eventstore", "0015_business_time"),
    ]

    operations = []
