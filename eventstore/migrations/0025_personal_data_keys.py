"""Personal data under per-subject keys (`eventstore.personal_data`) and its erasure (`eventstore.erasure`).

- `eventstore_personaldatakey` holds each data subject's key, wrapped by the master key; the
  application role gets no privilege on it (eventstore/privileges.py).
- `eventstore_personal_data_keys(...)` reads the keys of named subjects, `..._key_create(...)` stores a
  new one, `..._key_erase(...)` destroys one: the only ways the application role reaches the table.
- `PersonalDataErasure`: the `PersonalDataErased` events as an admin list, and the permission
  `eventstore.erase_personal_data`.
"""

from django.db import migrations, models

from eventstore import sql

FUNCTIONS = ("eventstore_personal_data_keys", "eventstore_personal_data_key_create", "eventstore_personal_data_key_erase")
DROP_FUNCTIONS = """
DROP FUNCTION eventstore_personal_data_key_erase(text);
DROP FUNCTION eventstore_personal_data_key_create(text, uuid, bytea);
DROP FUNCTION eventstore_personal_data_keys(text[]);
"""


class Migration(migrations.Migration):

    dependencies = [
        ('eventstore', '0024_more_translatable_labels'),
    ]

    operations = [
        migrations.CreateModel(
            name='PersonalDataKey',
            fields=[
                ('subject', models.CharField(db_collation='C', max_length=300, primary_key=True, serialize=False)),
                ('key_id', models.UUIDField()),
                ('wrapped_key', models.BinaryField()),
                ('created_at', models.DateTimeField()),
            ],
            options={
                'default_permissions': (),
            },
        ),
        migrations.CreateModel(
            name='PersonalDataErasure',
            fields=[
            ],
            options={
                'verbose_name': 'personal data erasure',
                'ordering': ['-position'],
                'permissions': [('erase_personal_data', "Can erase a data subject's personal data")],
                'proxy': True,
                'indexes': [],
                'constraints': [],
            },
            bases=('eventstore.event',),
        ),
        sql.apply_functions(*FUNCTIONS, reverse_sql=DROP_FUNCTIONS),
    ]
