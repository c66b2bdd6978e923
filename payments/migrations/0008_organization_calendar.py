"""Organizations keep a calendar: an IANA time zone and an ISO 4217 reporting currency (existing rows
take DEFAULT_ORGANIZATION_TIME_ZONE and DEFAULT_REPORTING_CURRENCY as they are when it runs); the
payments list leads with the business date, in two indexes."""

from django.db import migrations, models

import payments.models


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0007_api_tokens'),
    ]

    operations = [
        migrations.AddField(
            model_name='organization',
            name='reporting_currency',
            field=models.CharField(default=payments.models.default_reporting_currency, help_text='ISO 4217 code, e.g. EUR: the currency statements show first.', max_length=3, validators=[payments.models.validate_currency]),
        ),
        migrations.AddField(
            model_name='organization',
            name='time_zone',
            field=models.CharField(default=payments.models.default_time_zone, help_text='IANA time zone, e.g. Europe/Paris: statements, the dashboard and date filters cut days and months at its midnight.', max_length=64, validators=[payments.models.validate_time_zone]),
        ),
        migrations.AddIndex(
            model_name='paymentsummary',
            index=models.Index(fields=['occurred_at', 'payment_id'], name='payments_summary_occurred'),
        ),
        migrations.AddIndex(
            model_name='paymentsummary',
            index=models.Index(fields=['organization_id', 'occurred_at', 'payment_id'], name='payments_summary_org_occurred'),
        ),
    ]
