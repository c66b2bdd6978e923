"""Joins the business-time and the admin-finish migrations, both made on 0004; neither touches the
other's columns."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("payments", "0005_business_time"), ("payments", "0007_admin_finish")]

    operations = []
