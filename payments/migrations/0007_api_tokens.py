"""API tokens: several named tokens per user, each limited to organizations and roles, with an expiry,
stored as the SHA-256 of their key.

The keys of Django REST framework's authtoken table (one per user, stored in clear) are carried over:
each becomes a token named "migrated" of its user, with the roles read and submit, limited to the
user's organizations (a user of none, such as an operator who sees every organization, keeps a token
as wide as the user), expiring API_TOKEN_DEFAULT_LIFETIME_DAYS from now. The same key keeps working;
the clear keys are then deleted from the old table.
"""

import hashlib
from datetime import timedelta

import django.contrib.postgres.fields
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

OLD_TABLE = "authtoken_token"


def carry_over_authtoken_keys(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("payments", "ApiToken")
    Membership = apps.get_model("payments", "Membership")
    expires_at = timezone.now() + timedelta(days=settings.API_TOKEN_DEFAULT_LIFETIME_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, created, user_id FROM {OLD_TABLE} ORDER BY created")
        rows = cursor.fetchall()
    for key, created, user_id in rows:
        digest = hashlib.sha256(key.encode()).hexdigest()
        organizations = list(Membership.objects.filter(user_id=user_id).values_list("organization_id", flat=True))
        token = ApiToken.objects.create(user_id=user_id, name="migrated", prefix=f"tok_{digest[:12]}", key_hash=digest,
                                        roles=["read", "submit"], all_organizations=not organizations,
                                        expires_at=expires_at)
        ApiToken.objects.filter(pk=token.pk).update(created_at=created)
        token.organizations.set(organizations)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {OLD_TABLE}")  # no key stays in clear


class Migration(migrations.Migration):

    dependencies = [
        ("payments", "0006_admin_finish"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(help_text='What it is for, e.g. "billing service".', max_length=100)),
                ("prefix", models.CharField(
                    editable=False, max_length=20, unique=True,
                    help_text="The key's public beginning, e.g. tok_ab12cd34: names the token in events.")),
                ("key_hash", models.CharField(editable=False, max_length=64, unique=True)),
                ("all_organizations", models.BooleanField(
                    default=False, help_text="Every organization the user may see, now and later (no narrowing).")),
                ("roles", django.contrib.postgres.fields.ArrayField(
                    base_field=models.CharField(max_length=20), help_text="read, submit, approve (see the README).",
                    size=None)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("expires_at", models.DateTimeField()),
                ("last_used_at", models.DateTimeField(blank=True, editable=False, null=True)),
                ("revoked_at", models.DateTimeField(blank=True, editable=False, null=True)),
                ("organizations", models.ManyToManyField(
                    blank=True, help_text="The organizations (of the user's) it may see and command.",
                    related_name="api_tokens", to="payments.organization")),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="api_tokens",
                                           to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "verbose_name": "API token",
                "ordering": ["-created_at"],
            },
        ),
        migrations.RunPython(carry_over_authtoken_keys, migrations.RunPython.noop),
    ]
