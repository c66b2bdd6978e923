"""A consumer inside the project, run as its own process by the tracking test: for every event it
writes a row to the table `consumer_rows`, and each batch's rows commit with its tracking record.
It writes slowly, so that the test can kill it in the middle of a batch."""

import os
import time

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    django.setup()
    from django.db import connection

    from eventstore.projections import tracking

    def write_rows(events) -> None:
        with connection.cursor() as cursor:
            for event in events:
                cursor.execute("INSERT INTO consumer_rows (event_id, position) VALUES (%s, %s)",
                               [event.event_id, event.position])
                time.sleep(0.01)

    outcome = tracking.consume("test-consumer", write_rows, batch_size=20)
    print(f"applied {outcome.applied}", flush=True)


if __name__ == "__main__":
    main()
