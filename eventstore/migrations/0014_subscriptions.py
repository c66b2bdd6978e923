import django.db.models.deletion
from django.db import migrations, models

# Wake-ups: every statement that inserts events sends one notification, delivered when (and only if)
# its transaction commits. Listeners (catch-up loop, feed long-polls, webhook deliveries) then read
# at once instead of waiting for their next poll.
NOTIFY = """
CREATE FUNCTION eventstore_notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('eventstore_events', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER eventstore_event_notify AFTER INSERT ON eventstore_event
    FOR EACH STATEMENT EXECUTE FUNCTION eventstore_notify_events();
"""
DROP_NOTIFY = """
DROP TRIGGER IF EXISTS eventstore_event_notify ON eventstore_event;
DROP FUNCTION IF EXISTS eventstore_notify_events();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('eventstore', '0012_append_function_security_definer'),
    ]

    operations = [
        migrations.CreateModel(
            name='Subscription',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, unique=True)),
                ('aggregate_types', models.JSONField(blank=True, default=list, help_text='Empty: every aggregate type.')),
                ('event_types', models.JSONField(blank=True, default=list, help_text='Empty: every event type.')),
                ('organization_id', models.CharField(blank=True, help_text='metadata.organization_id of the events; empty: every one.', max_length=100)),
                ('transaction_id', models.BigIntegerField(default=0)),
                ('position', models.BigIntegerField(default=0)),
                ('paused', models.BooleanField(default=False)),
                ('events_delivered', models.BigIntegerField(default=0)),
                ('last_delivered_at', models.DateTimeField(blank=True, null=True)),
                ('last_event_recorded_at', models.DateTimeField(blank=True, help_text='recorded_at of the last event delivered.', null=True)),
                ('last_error', models.TextField(blank=True)),
                ('last_error_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={'ordering': ['name']},
        ),
        migrations.CreateModel(
            name='Tracking',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('consumer', models.CharField(max_length=100)),
                ('transaction_id', models.BigIntegerField()),
                ('position', models.BigIntegerField()),
                ('recorded_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['consumer', 'transaction_id', 'position'],
                'indexes': [models.Index(fields=['consumer', 'transaction_id', 'position'], name='eventstore_tracking_place')],
                'constraints': [models.UniqueConstraint(fields=('consumer', 'position'), name='eventstore_tracking_once')],
            },
        ),
        migrations.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('url', models.URLField(max_length=2000)),
                ('secret', models.CharField(help_text="whsec_ and base64: the receivers' key to verify signatures.", max_length=100)),
                ('description', models.CharField(blank=True, max_length=200)),
                ('created_by', models.CharField(blank=True, max_length=150)),
                ('subscription', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='webhook', to='eventstore.subscription')),
            ],
            options={'ordering': ['subscription__name']},
        ),
        migrations.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('webhook_id', models.CharField(help_text='The webhook-id header: the same on every attempt.', max_length=100)),
                ('event_id', models.UUIDField()),
                ('position', models.BigIntegerField()),
                ('event_type', models.CharField(max_length=100)),
                ('attempted_at', models.DateTimeField()),
                ('status_code', models.PositiveIntegerField(blank=True, null=True)),
                ('latency_ms', models.FloatField()),
                ('error', models.TextField(blank=True)),
                ('endpoint', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='eventstore.webhookendpoint')),
            ],
            options={
                'verbose_name_plural': 'webhook deliveries',
                'ordering': ['-attempted_at', '-id'],
                'indexes': [models.Index(fields=['endpoint', '-attempted_at'], name='eventstore_delivery_recent')],
            },
        ),
        migrations.RunSQL(NOTIFY, DROP_NOTIFY),
    ]
