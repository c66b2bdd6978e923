"""Key rotation: statements that hand signing from one Ed25519 key to the next, append-only like heads.

- `eventstore_keystatement` holds them; like the ledger's tables it can never be updated, deleted or
  truncated (migration 0002's trigger function).
- `eventstore_record_key_statement(...)` appends one, keeping the keys one chain from the current key.
- `eventstore_treehead_signed_by_current_key` refuses a head by any key but the current one: a
  retired key, or one swapped in without a statement. Heads signed before are untouched.
"""

from django.db import migrations, models

from eventstore import sql

RECORD_STATEMENT = "eventstore_record_key_statement(bigint, timestamptz, text, text, text)"

TRIGGERS = """
CREATE TRIGGER eventstore_keystatement_no_update_delete BEFORE UPDATE OR DELETE ON eventstore_keystatement
    FOR EACH ROW EXECUTE FUNCTION eventstore_reject_change();
CREATE TRIGGER eventstore_keystatement_no_truncate BEFORE TRUNCATE ON eventstore_keystatement
    FOR EACH STATEMENT EXECUTE FUNCTION eventstore_reject_change();
CREATE TRIGGER eventstore_treehead_signed_by_current_key BEFORE INSERT ON eventstore_treehead
    FOR EACH ROW EXECUTE FUNCTION eventstore_treehead_signed_by_current_key();
"""

DROP_TRIGGERS = """
DROP TRIGGER eventstore_treehead_signed_by_current_key ON eventstore_treehead;
DROP TRIGGER eventstore_keystatement_no_truncate ON eventstore_keystatement;
DROP TRIGGER eventstore_keystatement_no_update_delete ON eventstore_keystatement;
"""


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0018_functions_from_sql_files")]

    operations = [
        migrations.CreateModel(
            name="KeyStatement",
            fields=[
                ("sequence", models.PositiveIntegerField(primary_key=True, serialize=False)),
                ("tree_size", models.BigIntegerField()),
                ("timestamp", models.DateTimeField()),
                ("previous_public_key", models.CharField(max_length=64)),
                ("next_public_key", models.CharField(max_length=64, null=True)),
                ("signature", models.CharField(max_length=128)),
            ],
            options={"ordering": ["sequence"]},
        ),
        sql.apply_functions(
            "eventstore_record_key_statement", "eventstore_treehead_signed_by_current_key",
            reverse_sql=[f"DROP FUNCTION {RECORD_STATEMENT}",
                         "DROP FUNCTION eventstore_treehead_signed_by_current_key()"],
        ),
        migrations.RunSQL(TRIGGERS, DROP_TRIGGERS),
    ]
