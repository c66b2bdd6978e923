from django.db import migrations

FORWARD = """
CREATE TRIGGER eventstore_seal_no_update_delete
    BEFORE UPDATE OR DELETE ON eventstore_seal
    FOR EACH ROW EXECUTE FUNCTION eventstore_reject_change();
CREATE TRIGGER eventstore_seal_no_truncate
    BEFORE TRUNCATE ON eventstore_seal
    FOR EACH STATEMENT EXECUTE FUNCTION eventstore_reject_change();
"""

BACKWARD = """
DROP TRIGGER eventstore_seal_no_truncate ON eventstore_seal;
DROP TRIGGER eventstore_seal_no_update_delete ON eventstore_seal;
"""


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0003_seal")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
