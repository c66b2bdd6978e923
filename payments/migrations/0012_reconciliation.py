"""Reconciliation against settlement files: runs, their stored files (chunks), lines and findings;
finance staff may import files and resolve findings."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

FINANCE_GROUP = "Finance staff"
FINANCE_PERMISSIONS = ["view_reconciliation", "add_reconciliation", "view_finding", "change_finding"]


def grant_finance_staff(apps, schema_editor):
    app_config = apps.get_app_config("payments")
    app_config.models_module = True  # permissions are otherwise created only after all migrations
    create_permissions(app_config, verbosity=0)
    app_config.models_module = None
    group = apps.get_model("auth", "Group").objects.filter(name=FINANCE_GROUP).first()
    if group is not None:
        Permission = apps.get_model("auth", "Permission")
        group.permissions.add(*Permission.objects.filter(content_type__app_label="payments",
                                                         codename__in=FINANCE_PERMISSIONS))


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0011_finance_approvers_group'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Reconciliation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.UUIDField(default=uuid.uuid4, editable=False, help_text="Names the run's workflows: ids restart with a new database, workflow ids do not.", unique=True)),
                ('file_name', models.CharField(max_length=255)),
                ('sha256', models.CharField(help_text="Of the file's bytes: the same file is imported once.", max_length=64)),
                ('size', models.BigIntegerField(help_text='Bytes.')),
                ('mapping', models.CharField(help_text='The column mapping the file was read with.', max_length=20)),
                ('header', models.JSONField(default=list, help_text="The file's first line, its column names.")),
                ('period_start', models.DateField()),
                ('period_end', models.DateField()),
                ('status', models.CharField(choices=[('pending', 'Waiting for a worker'), ('reading', 'Reading the file'), ('matching', 'Matching with the trail'), ('completed', 'Completed'), ('failed', 'Failed')], default='pending', max_length=20)),
                ('lines_total', models.PositiveIntegerField(default=0, help_text='Lines after the header.')),
                ('lines_read', models.PositiveIntegerField(default=0)),
                ('lines_matched', models.PositiveIntegerField(default=0)),
                ('chunks', models.PositiveIntegerField(default=0)),
                ('file_totals', models.JSONField(default=dict, help_text='Gross, fee and net by currency, of the lines read.')),
                ('summary', models.JSONField(default=list, help_text='Count and sums by outcome and currency.')),
                ('error', models.TextField(blank=True)),
                ('actor', models.JSONField(default=dict, help_text='Who uploaded it, as its events name them.')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('completed_at', models.DateTimeField(null=True)),
                ('workflow_id', models.CharField(blank=True, max_length=200)),
                ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='payments.organization')),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='Finding',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField(help_text='Given when the run completes.', null=True)),
                ('outcome', models.CharField(choices=[('not_in_trail', 'In the file, not in the trail'), ('not_in_file', 'In the trail, not in the file'), ('amount_mismatch', 'Amount mismatch'), ('currency_mismatch', 'Currency mismatch'), ('duplicate', 'Duplicate line'), ('invalid', 'Line that cannot be read')], max_length=20)),
                ('message', models.TextField()),
                ('line_number', models.PositiveIntegerField(null=True)),
                ('payment_id', models.CharField(blank=True, max_length=120)),
                ('kind', models.CharField(blank=True, max_length=12)),
                ('gross', models.DecimalField(decimal_places=3, max_digits=18, null=True)),
                ('fee', models.DecimalField(decimal_places=3, max_digits=18, null=True)),
                ('net', models.DecimalField(decimal_places=3, max_digits=18, null=True)),
                ('currency', models.CharField(blank=True, max_length=3)),
                ('event_id', models.CharField(blank=True, help_text="The trail's event it was compared with.", max_length=36)),
                ('trail_amount', models.DecimalField(decimal_places=3, max_digits=18, null=True)),
                ('trail_currency', models.CharField(blank=True, max_length=3)),
                ('resolved_at', models.DateTimeField(null=True)),
                ('resolved_by', models.JSONField(help_text='The actor who resolved it.', null=True)),
                ('resolution_note', models.TextField(blank=True)),
                ('resolution_event_id', models.CharField(blank=True, max_length=36)),
                ('reconciliation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='findings', to='payments.reconciliation')),
            ],
            options={
                'ordering': ['reconciliation', 'number'],
            },
        ),
        migrations.CreateModel(
            name='SettlementChunk',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('index', models.PositiveIntegerField()),
                ('first_line', models.PositiveIntegerField()),
                ('lines', models.PositiveIntegerField()),
                ('text', models.TextField()),
                ('reconciliation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='payments.reconciliation')),
            ],
        ),
        migrations.CreateModel(
            name='SettlementLine',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('line_number', models.PositiveIntegerField()),
                ('reference', models.CharField(db_collation='C', max_length=120)),
                ('kind', models.CharField(max_length=12)),
                ('gross', models.DecimalField(decimal_places=3, max_digits=18)),
                ('fee', models.DecimalField(decimal_places=3, max_digits=18)),
                ('net', models.DecimalField(decimal_places=3, max_digits=18)),
                ('currency', models.CharField(max_length=3)),
                ('booking_date', models.DateField()),
                ('payout_id', models.CharField(blank=True, max_length=100)),
                ('provider_reference', models.CharField(blank=True, max_length=100)),
                ('reconciliation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='payments.reconciliation')),
            ],
        ),
        migrations.AddConstraint(
            model_name='reconciliation',
            constraint=models.UniqueConstraint(fields=('organization', 'sha256'), name='reconciliation_file_once'),
        ),
        migrations.AddConstraint(
            model_name='finding',
            constraint=models.UniqueConstraint(fields=('reconciliation', 'number'), name='finding_number_once'),
        ),
        migrations.AddConstraint(
            model_name='settlementchunk',
            constraint=models.UniqueConstraint(fields=('reconciliation', 'index'), name='settlement_chunk_once'),
        ),
        migrations.AddIndex(
            model_name='settlementline',
            index=models.Index(fields=['reconciliation', 'reference', 'line_number'], name='settlement_line_by_reference'),
        ),
        migrations.AddConstraint(
            model_name='settlementline',
            constraint=models.UniqueConstraint(fields=('reconciliation', 'line_number'), name='settlement_line_once'),
        ),
        migrations.RunPython(grant_finance_staff, migrations.RunPython.noop),
    ]
