"""Bring up the local stack around a command: `python -m config.devstack run|dev|test|bench|demo [args]`.

`run`   (make run):   PostgreSQL and Temporal (embedded unless DATABASE_URL / TEMPORAL_ADDRESS are
                      set), migrations, an admin account on first run, the worker and the web server.
                      Ctrl-C stops everything this command started.
`dev`   (make dev):   the same stack, served by Django's development server (runserver, DEBUG on);
                      `run` serves through gunicorn with DEBUG off, as in production. Both export
                      the settings module and DEBUG to what they start (`served_settings`).
`test`  (make test, make test-quick): PostgreSQL for pytest, which gets the rest of the command line
                      (the suite starts its own Temporal dev server).
`bench` (make bench): PostgreSQL, then `pytest tests/benchmarks -m bench` with the rest of the
                      command line (the benchmarks use the suite's own Temporal dev server).
`demo`  (run does it on first run): demo payments through the running worker and Temporal
                      (config/devstack/demo.py; `demo --help` lists its options), with Django set up
                      as manage.py sets it up.

The embedded PostgreSQL's URLs are exported as DATABASE_URL (and DATABASE_OWNER_URL,
DATABASE_APP_ROLE) for every process started here (config/devstack/database.py): against it the web
server and worker connect as the application role and `migrate` as the owner role
(eventstore/privileges.py); tests and benchmarks, which create and drop databases, connect as its
superuser.
"""

import contextlib
import ctypes
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Mapping

import django
from django.core.exceptions import ImproperlyConfigured

from config.devstack import embedded
from config.devstack.database import DEFAULT_SETTINGS, use_embedded_database
from config.devstack.payload_keys import use_development_payload_keys

BASE_DIR = Path(__file__).resolve().parents[2]
MANAGE = [sys.executable, str(BASE_DIR / "manage.py")]
DEMO = [sys.executable, "-m", "config.devstack", "demo"]
ADMIN_USERNAME = "admin"
LOG_DIR = embedded.DATA_DIR / "logs"
TEST_SETTINGS = "config.settings.test"  # pytest.ini


def say(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def _die_with_parent() -> None:
    """Child setup: own process group (Ctrl-C is ours to relay) and SIGTERM if this process dies."""
    os.setsid()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawn(command: list[str], **options) -> subprocess.Popen:
    """Start a child in its own process group that dies with this process (options go to Popen)."""
    return subprocess.Popen(command, cwd=BASE_DIR, preexec_fn=_die_with_parent, **options)


def stop(process: subprocess.Popen, name: str, timeout: float = 40) -> None:
    if process.poll() is not None:
        return
    say(f"stopping {name}")
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def postgres(settings: str):
    """The embedded PostgreSQL, its URLs exported, unless DATABASE_URL is set (or `settings` is not a
    development module); stopped afterwards if started here."""
    was_running = embedded.postgres_is_running()
    if not use_embedded_database(settings):
        say("using PostgreSQL at DATABASE_URL")
        yield
        return
    say(f"PostgreSQL (embedded) {'already running' if was_running else 'started'}: {embedded.POSTGRES_DATA_DIR}")
    try:
        yield
    finally:
        if not was_running:
            say("stopping PostgreSQL")
            embedded.stop_postgres()


@contextlib.contextmanager
def temporal(*, persistent: bool = True):
    """The embedded Temporal dev server unless TEMPORAL_ADDRESS is set.

    `persistent`: state in .data/ on the usual ports (make run); otherwise in memory on free ports.
    """
    if os.environ.get("TEMPORAL_ADDRESS"):
        say(f"using Temporal at {os.environ['TEMPORAL_ADDRESS']}")
        yield
        return
    if persistent:
        port = int(os.environ.get("EMBEDDED_TEMPORAL_PORT", "7233"))
        ui_port = int(os.environ.get("EMBEDDED_TEMPORAL_UI_PORT", "8233"))
    else:
        port, ui_port = embedded.free_port(), embedded.free_port()
    if embedded.port_is_open("127.0.0.1", port):
        raise SystemExit(
            f"Port {port} is already taken, so the embedded Temporal server cannot start. If a Temporal "
            f"server runs there, use it with TEMPORAL_ADDRESS=127.0.0.1:{port}; otherwise set EMBEDDED_TEMPORAL_PORT."
        )
    embedded.DATA_DIR.mkdir(exist_ok=True)
    db_file = embedded.TEMPORAL_DB_FILE if persistent else None
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOG_DIR / "temporal.log", "a") as log:  # its warnings would bury the console
        process = spawn(embedded.temporal_command(port=port, ui_port=ui_port, db_file=db_file, ui=persistent,
                                                  codec_endpoint=codec_endpoint()),
                        stdout=log, stderr=subprocess.STDOUT)
    os.environ["TEMPORAL_ADDRESS"] = f"127.0.0.1:{port}"
    if persistent:  # the admin's links into the UI, and the UI's origin the codec endpoint lets in
        os.environ.setdefault("TEMPORAL_UI_URL", f"http://127.0.0.1:{ui_port}")
    try:
        embedded.wait_for_port("127.0.0.1", port, process=process, name="Temporal dev server", timeout=60)
        ui = f"UI http://127.0.0.1:{ui_port}/, " if persistent else ""
        say(f"Temporal (embedded) on 127.0.0.1:{port}, state {f'in {db_file}' if db_file else 'in memory'}, "
            f"{ui}log {LOG_DIR / 'temporal.log'}")
        yield
    finally:
        stop(process, "Temporal")


def codec_endpoint() -> str:
    """The web app's codec endpoint, where the embedded Temporal UI decodes payloads (README, "Encrypted
    Temporal payloads")."""
    return f"http://{os.environ.get('WEB_ADDRESS', '127.0.0.1:8000')}/codec"


def manage(*arguments: str) -> None:
    subprocess.run([*MANAGE, *arguments], cwd=BASE_DIR, check=True)


def ensure_admin() -> str | None:
    """Create the first superuser; its password comes from DJANGO_SUPERUSER_PASSWORD or is generated.

    Returns what to tell about the password when the account was created now, None when it existed."""
    check = "from django.contrib.auth import get_user_model; print(get_user_model().objects.filter(is_superuser=True).exists())"
    exists = subprocess.run([*MANAGE, "shell", "--no-imports", "-c", check], cwd=BASE_DIR, check=True, capture_output=True, text=True)
    if exists.stdout.strip().endswith("True"):
        return None
    password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or secrets.token_urlsafe(12)
    env = {**os.environ, "DJANGO_SUPERUSER_PASSWORD": password}
    subprocess.run(
        [*MANAGE, "createsuperuser", "--noinput", "--username", ADMIN_USERNAME, "--email", "admin@example.com"],
        cwd=BASE_DIR, env=env, check=True,
    )
    if os.environ.get("DJANGO_SUPERUSER_PASSWORD"):
        return "the password in DJANGO_SUPERUSER_PASSWORD"
    return f"password {password} (shown only this once)"


def ensure_signing_key() -> None:
    """Without a configured key, sign tree heads with a development key kept under .data/, made on first start."""
    if os.environ.get("LEDGER_SIGNING_KEY") or os.environ.get("LEDGER_SIGNING_KEY_FILE"):
        return
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = embedded.DATA_DIR / "ledger-signing-key.pem"
    if not path.exists():
        embedded.DATA_DIR.mkdir(exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        path.touch(mode=0o600)
        path.write_bytes(pem)
        say(f"generated a development key that signs tree heads: {path} (set LEDGER_SIGNING_KEY_FILE in production)")
    os.environ["LEDGER_SIGNING_KEY_FILE"] = str(path)


def web_server_command(*, development: bool, address: str) -> list[str]:
    """`make dev`: Django's runserver (reload, debug pages); `make run`: gunicorn as in production."""
    if development:
        return [*MANAGE, "runserver", address]
    return [sys.executable, "-m", "gunicorn", "--config", str(BASE_DIR / "config" / "gunicorn.py"),
            "--bind", address, "config.wsgi"]


def served_settings(environ: Mapping[str, str], *, development: bool) -> dict[str, str]:
    """The settings module and DEBUG that `run` and `dev` export to every process they start.

    The development settings unless DJANGO_SETTINGS_MODULE names others: gunicorn (config/wsgi.py)
    would otherwise serve the production ones, which send plain HTTP on loopback to HTTPS and keep
    cookies to HTTPS. DEBUG is on only for `dev`, whatever the environment or .env says."""
    return {"DJANGO_SETTINGS_MODULE": environ.get("DJANGO_SETTINGS_MODULE", DEFAULT_SETTINGS),
            "DEBUG": "True" if development else "False"}


def web_env() -> dict:
    """gunicorn's processes add up their metrics in one directory (emptied when it starts)."""
    return {"PROMETHEUS_MULTIPROC_DIR": str(embedded.DATA_DIR / "prometheus"), **os.environ}


def run(*, development: bool = False) -> int:
    web_address = os.environ.get("WEB_ADDRESS", "127.0.0.1:8000")
    os.environ.update(served_settings(os.environ, development=development))
    os.environ.setdefault("LOG_FILE", str(embedded.DATA_DIR / "commands.log"))  # each command's outcome
    if use_development_payload_keys(os.environ["DJANGO_SETTINGS_MODULE"]):
        say(f"Temporal payloads encrypted with the development key in {os.environ['TEMPORAL_PAYLOAD_KEY_FILE']} "
            f"(set TEMPORAL_PAYLOAD_KEYS or TEMPORAL_PAYLOAD_KEY_FILE in production)")
    with postgres(os.environ["DJANGO_SETTINGS_MODULE"]), temporal():
        manage("migrate", "--noinput")
        if not development:
            manage("collectstatic", "--noinput", "--verbosity", "0")
        password = ensure_admin()
        ensure_signing_key()
        children = {
            "worker": spawn([*MANAGE, "temporal_worker"]),
            "web server": spawn(web_server_command(development=development, address=web_address), env=web_env()),
        }
        try:
            say(f"web server on http://{web_address}/ ({'runserver, DEBUG on' if development else 'gunicorn, DEBUG off'}); "
                f"loading demo payments through Temporal on first run (each command's outcome is logged to "
                f"{os.environ['LOG_FILE']})...")
            _load_demo_data(children["worker"])
            login = f"user {ADMIN_USERNAME!r}" + (f", {password}" if password else "")
            say(f"ready: log in at http://{web_address}/admin/ as {login}; Ctrl-C stops everything")
            return _wait_for_first_exit(children)
        except KeyboardInterrupt:
            return 130
        finally:
            for name, process in reversed(children.items()):
                stop(process, name)


def _load_demo_data(worker: subprocess.Popen) -> None:
    """First run only: demo payments through the real pipeline, so the admin has history to show."""
    loader = subprocess.run([*DEMO, "--if-empty"], cwd=BASE_DIR)
    if loader.returncode != 0 and worker.poll() is None:
        say("demo data could not be loaded (see above); the stack keeps running without it")


def _wait_for_first_exit(children: dict[str, subprocess.Popen]) -> int:
    interrupted = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: interrupted.append(True))
    while not interrupted:
        for name, process in children.items():
            if process.poll() is not None:
                say(f"{name} exited with code {process.returncode}; stopping the rest")
                return process.returncode or 1
        time.sleep(0.3)
    return 0


def test(pytest_arguments: list[str]) -> int:
    with postgres(os.environ.get("DJANGO_SETTINGS_MODULE", TEST_SETTINGS)):
        return subprocess.call([sys.executable, "-m", "pytest", *pytest_arguments], cwd=BASE_DIR)


def bench(pytest_arguments: list[str]) -> int:
    """The benchmarks under pytest; they reuse the suite's own Temporal dev server, so none is named."""
    os.environ.setdefault("EMBEDDED_DATABASE_ROLE", "superuser")  # benchmarks create scratch databases
    os.environ.pop("TEMPORAL_ADDRESS", None)
    with postgres(os.environ.get("DJANGO_SETTINGS_MODULE", TEST_SETTINGS)):
        return subprocess.call([sys.executable, "-m", "pytest", "tests/benchmarks", "-m", "bench", *pytest_arguments],
                               cwd=BASE_DIR)


def demo(arguments: list[str]) -> int:
    setup_django()
    from config.devstack import demo as demo_data  # it imports models, which need Django set up

    return demo_data.main(arguments)


def setup_django() -> None:
    """Django as manage.py sets it up: on a development checkout without DATABASE_URL, the embedded
    PostgreSQL first; settings that cannot be read end the process with their one-line message."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", DEFAULT_SETTINGS)
    use_embedded_database(os.environ["DJANGO_SETTINGS_MODULE"])
    use_development_payload_keys(os.environ["DJANGO_SETTINGS_MODULE"])
    try:
        django.setup()
    except ImproperlyConfigured as error:
        raise SystemExit(f"ImproperlyConfigured: {error}") from None


def main(argv: list[str]) -> int:
    commands = {"run": lambda rest: run(), "dev": lambda rest: run(development=True), "test": test, "bench": bench,
                "demo": demo}
    if not argv or argv[0] not in commands:
        print(__doc__)
        return 2
    return commands[argv[0]](argv[1:])

