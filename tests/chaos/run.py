"""The chaos run: payment commands through the API while faults hit the worker, PostgreSQL and
Temporal; afterwards every command is checked against the event store.

    python -m tests.chaos.run [--seconds 120] [--concurrency 6] [--fault-every 10] [--outage-seconds 3]
                              [--organizations 3] [--drain-seconds 90] [--projection-timeout 120]
                              [--seed N] [--summary FILE] [--keep-on-failure] [--workers 1] [--web-processes 1]

`make chaos` runs it (`make chaos CHAOS_ARGS="--seconds 600"`); `make test` runs a short form
(tests/chaos/test_chaos.py). It brings up a stack of its own, all on loopback: a PostgreSQL cluster
in .data/chaos/postgres (a fresh database each run), a Temporal dev server with its state in
.data/chaos/temporal.sqlite, the worker(s) and the web server (gunicorn, as `make run` serves) as the
application role. A load generator
of its own (`tests.chaos.load`) sends commands while this process, on a schedule, SIGKILLs and
restarts the worker, crashes and restarts PostgreSQL (immediate shutdown, recovery from the WAL),
and restarts Temporal; after each fault it measures how long until a new command succeeds again.
When the load ends, `manage.py check_consistency` checks every answer against the store. Exit code 0
when every check holds; the processes' logs stay in .data/chaos/logs.
"""

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from config.devstack import embedded
from config.devstack.payload_keys import use_development_payload_keys
from config.devstack.stack import MANAGE, spawn, stop, web_server_command
from tests.chaos.load import ApiClient, Command, RunClock, Workload

CHAOS_DIR = embedded.DATA_DIR / "chaos"
POSTGRES_DIR = CHAOS_DIR / "postgres"
TEMPORAL_DB = CHAOS_DIR / "temporal.sqlite"
LOG_DIR = CHAOS_DIR / "logs"
DATABASE = "chaos"
FAULTS = ("worker killed", "PostgreSQL crashed", "Temporal restarted")


def say(message: str) -> None:
    print(f"[chaos] {message}", flush=True)


def _database_url(user: str, settings: dict) -> str:
    return f"postgres://{user}@/{DATABASE}?{urlencode({'host': settings['HOST'], 'port': settings['PORT']})}"


@dataclass
class ChaosStack:
    """The processes under test, each restartable on the same address and state."""

    temporal_port: int = field(default_factory=embedded.free_port)
    temporal_ui_port: int = field(default_factory=embedded.free_port)
    web_port: int = field(default_factory=embedded.free_port)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    env: dict = field(default_factory=dict)
    workers: int = 1  # worker processes, worker-1 ... worker-N
    web_processes: int = 1  # gunicorn processes, as `make run` serves

    def prepare(self) -> None:
        shutil.rmtree(LOG_DIR, ignore_errors=True)
        LOG_DIR.mkdir(parents=True)
        TEMPORAL_DB.unlink(missing_ok=True)
        settings = self._fresh_database()
        use_development_payload_keys("config.settings.base")  # gunicorn, unlike manage.py, does not look for it
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DATABASE_URL": _database_url(embedded.APP_ROLE, settings),
            "DATABASE_OWNER_URL": _database_url(embedded.OWNER_ROLE, settings),
            "TEMPORAL_ADDRESS": f"127.0.0.1:{self.temporal_port}",
            "API_COMMAND_RATE": "100000/min", "API_USER_RATE": "100000/min",
            "API_COMMAND_TIMEOUT_SECONDS": "15", "LOG_FORMAT": "json", "DEBUG": "False",
            "WEB_PROCESSES": str(self.web_processes), "WORKER_PROCESSES": str(self.workers),
        }
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput", "--verbosity", "0")  # as make run: gunicorn serves them, DEBUG off

    def _fresh_database(self) -> dict:
        import psycopg
        from psycopg import sql

        info = embedded.start_postgres(POSTGRES_DIR).get_postmaster_info()
        with psycopg.connect(host=str(info.socket_dir), port=info.port, user=embedded.POSTGRES_SUPERUSER,
                             dbname="postgres", autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE)))
        return embedded.database_settings(DATABASE, data_dir=POSTGRES_DIR)

    def manage(self, *arguments: str) -> str:
        done = subprocess.run([*MANAGE, *arguments], env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(arguments)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    @property
    def worker_names(self) -> list[str]:
        return [f"worker-{n}" for n in range(1, self.workers + 1)]

    def start(self, name: str) -> None:
        commands = {
            "temporal": embedded.temporal_command(port=self.temporal_port, ui_port=self.temporal_ui_port, db_file=TEMPORAL_DB),
            **{worker: [*MANAGE, "temporal_worker"] for worker in self.worker_names},
            "web": web_server_command(development=False, address=f"127.0.0.1:{self.web_port}"),
        }
        with open(LOG_DIR / f"{name}.log", "a") as log:  # the child keeps its own copy
            self.processes[name] = spawn(commands[name], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        if name in ("temporal", "web"):
            port = self.temporal_port if name == "temporal" else self.web_port
            embedded.wait_for_port("127.0.0.1", port, process=self.processes[name], name=name, timeout=60)

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        process.wait(60)

    def crash_postgres(self, outage_seconds: float) -> None:
        embedded.stop_postgres(POSTGRES_DIR, mode="immediate")
        time.sleep(outage_seconds)
        embedded.start_postgres(POSTGRES_DIR)

    def stop_all(self) -> None:
        for name in ("web", *self.worker_names, "temporal"):
            if name in self.processes:
                stop(self.processes[name], name)
        if embedded.postgres_is_running(POSTGRES_DIR):
            embedded.stop_postgres(POSTGRES_DIR)


@dataclass
class Fault:
    kind: str
    at: float  # seconds into the load
    recovery_seconds: float | None = None  # until a new command succeeded again


class FaultInjector:
    """Every `every` seconds, the next fault in turn; then a probe command until one succeeds.

    Runs on the main thread: a child dies with the thread that started it (PR_SET_PDEATHSIG), so
    the processes restarted here must not belong to a thread that ends before the run does.
    """

    def __init__(self, stack: ChaosStack, workload: Workload, client: ApiClient, *, every: float, outage: float,
                 clock: RunClock):
        self.stack, self.workload, self.client, self.clock = stack, workload, client, clock
        self.every, self.outage = every, outage
        self.faults: list[Fault] = []
        self.probes: list[Command] = []
        self.stats: Counter = Counter()
        self.started_at = time.monotonic()

    def run(self) -> None:
        while not self.clock.stopped.wait(self._until_next_fault()):
            kind = FAULTS[len(self.faults) % len(FAULTS)]
            fault = Fault(kind, round(time.monotonic() - self.started_at, 1))
            self.faults.append(fault)
            say(f"t={fault.at:>5.1f}s  {kind}")
            began = time.monotonic()
            self._inject(kind)
            fault.recovery_seconds = self._probe(began)
            say(f"          recovered in {fault.recovery_seconds}s" if fault.recovery_seconds is not None
                else "          no command succeeded before the run ended")

    def _until_next_fault(self) -> float:
        """Faults fall on a fixed schedule (every, 2 x every, ...), whatever each recovery took."""
        due = self.started_at + self.every * (len(self.faults) + 1)
        return max(0.0, due - time.monotonic())

    def _inject(self, kind: str) -> None:
        if kind == "worker killed":
            names = self.stack.worker_names
            worker = names[sum(fault.kind == kind for fault in self.faults[:-1]) % len(names)]  # each in turn
            self.stack.kill(worker)
            time.sleep(self.outage)
            self.stack.start(worker)
        elif kind == "PostgreSQL crashed":
            self.stack.crash_postgres(outage_seconds=self.outage)
        else:
            self.stack.kill("temporal", signal.SIGTERM)
            time.sleep(self.outage)
            self.stack.start("temporal")

    def _probe(self, began: float) -> float | None:
        probe = self.client.send(self.workload.create(self.workload.organizations[0], kind="probe"),
                                 clock=self.clock, stats=self.stats)
        self.workload.record(probe)
        self.probes.append(probe)
        return round(time.monotonic() - began, 1) if probe.accepted else None


def create_tokens(stack: ChaosStack, organizations: list[str]) -> dict[str, str]:
    return {
        organization: stack.manage("create_api_token", f"client-{organization}", "--organization", organization,
                                   "--create-user").strip().splitlines()[-1]
        for organization in organizations
    }


def ledger_of(commands: list[Command]) -> list[dict]:
    """What check_consistency compares with the store; a key reused with another body adds nothing."""
    entries = []
    for command in commands:
        if command.kind == "key_reuse" or command.answer is None or command.answer.status is None:
            continue
        if command.accepted:
            entries.append({"key": command.key, "outcome": "accepted", "event_ids": command.answer.body["event_ids"]})
        elif command.answer.status in (400, 403, 409, 413, 422):
            entries.append({"key": command.key, "outcome": "refused"})
        else:
            entries.append({"key": command.key, "outcome": "unanswered"})
    return entries


def answer_problems(commands: list[Command]) -> list[str]:
    """Answers that break the API's promises, whatever the store holds."""
    problems = []
    for command in commands:
        status = command.answer.status if command.answer else None
        if command.expected and status not in command.expected:
            problems.append(f"{command.kind} {command.key}: expected {sorted(command.expected)}, got {status}")
        if command.kind == "repeat" and status == 200 and not command.answer.body.get("replayed"):
            problems.append(f"repeat {command.key}: answered 200 but not as a replay")
        if command.unexpected_errors:
            problems.append(f"{command.kind} {command.key}: {command.unexpected_errors} answer(s) of 500 on the way")
    return problems


def run(arguments: argparse.Namespace) -> int:
    stack = ChaosStack(workers=arguments.workers, web_processes=arguments.web_processes)
    try:
        say(f"preparing PostgreSQL ({POSTGRES_DIR}), Temporal and the application on loopback")
        stack.prepare()
        for name in ("temporal", *stack.worker_names, "web"):
            stack.start(name)
        organizations = [f"org-chaos-{n}" for n in range(1, arguments.organizations + 1)]
        tokens = create_tokens(stack, organizations)
        outcome = _load_and_check(stack, organizations, tokens, arguments)
        if outcome != 0 and arguments.keep_on_failure:
            _wait_while_investigated(stack)
        return outcome
    finally:
        stack.stop_all()


def _load_and_check(stack: ChaosStack, organizations, tokens, arguments) -> int:
    clock = RunClock(drain_seconds=arguments.drain_seconds)
    probes = ApiClient("127.0.0.1", stack.web_port, tokens)
    faults = FaultInjector(stack, Workload(organizations, arguments.seed + 1), probes, every=arguments.fault_every,
                           outage=arguments.outage_seconds, clock=clock)
    say(f"load: {arguments.concurrency} clients for {arguments.seconds:g}s, a fault every {arguments.fault_every:g}s")
    load_process = _start_load(stack, tokens, arguments)
    threading.Timer(arguments.seconds, clock.stop).start()
    faults.run()
    load = _finish_load(load_process, timeout=arguments.drain_seconds + 60)
    if load is None:
        say(f"the load generator did not finish properly; see {LOG_DIR / 'load.log'}")
        return 1
    commands = [Command.from_outcome(outcome) for outcome in load["commands"]] + faults.probes
    ledger = LOG_DIR / "ledger.json"
    ledger.write_text(json.dumps(ledger_of(commands)))
    say("load over; checking every command against the store (and waiting for projections)")
    checks = _check_consistency(stack, ledger, projection_timeout=arguments.projection_timeout)
    if stack.workers > 1:
        checks.append(_every_worker_took_commands(stack))
    outcome = _report(load, faults, commands, checks)
    if arguments.summary:
        _write_summary(arguments.summary, arguments, faults, commands, checks, passed=outcome == 0)
    return outcome


def _every_worker_took_commands(stack: ChaosStack) -> dict:
    """Commands each worker finished, from the outcome it logged (a workflow logs it once, never on replay)."""
    taken = {}
    for name in stack.worker_names:
        lines = (LOG_DIR / f"{name}.log").read_text(errors="replace").splitlines()
        taken[name] = sum(('"message": "ACCEPTED ' in line or '"message": "REJECTED ' in line) for line in lines)
    idle = [name for name, count in taken.items() if count == 0]
    return {"name": "every worker took commands", "ok": not idle, "figures": taken,
            "problems": [f"{name} finished no command" for name in idle]}


def _events_written(checks: list[dict]) -> int:
    return next((c["figures"].get("events", 0) for c in checks if c["name"].startswith("commands")), 0)


def _write_summary(path: Path, arguments, faults: FaultInjector, commands: list[Command], checks: list[dict], *,
                   passed: bool) -> None:
    """The run's figures as JSON, for BENCHMARKS.md (`manage.py bench_chaos`)."""
    events = _events_written(checks)
    path.write_text(json.dumps({
        "passed": passed, "seconds": arguments.seconds, "concurrency": arguments.concurrency,
        "outage_seconds": arguments.outage_seconds, "commands": len(commands),
        "accepted": sum(command.accepted for command in commands), "events": events,
        "faults": [{"kind": f.kind, "at": f.at, "recovery_seconds": f.recovery_seconds} for f in faults.faults],
    }))


def _start_load(stack: ChaosStack, tokens: dict[str, str], arguments) -> subprocess.Popen:
    """The load generator, a process of its own, as clients are."""
    tokens_file = LOG_DIR / "tokens.json"
    tokens_file.write_text(json.dumps(tokens))
    command = [
        sys.executable, "-m", "tests.chaos.load", "--port", str(stack.web_port), "--tokens", str(tokens_file),
        "--output", str(LOG_DIR / "load.json"), "--concurrency", str(arguments.concurrency),
        "--seconds", str(arguments.seconds), "--drain-seconds", str(arguments.drain_seconds), "--seed", str(arguments.seed),
    ]
    with open(LOG_DIR / "load.log", "w") as log:
        return spawn(command, stdout=log, stderr=subprocess.STDOUT)


def _finish_load(process: subprocess.Popen, *, timeout: float) -> dict | None:
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        stop(process, "load generator")
        return None
    output = LOG_DIR / "load.json"
    return json.loads(output.read_text()) if process.returncode == 0 and output.exists() else None


def _check_consistency(stack: ChaosStack, ledger: Path, *, projection_timeout: float) -> list[dict]:
    output = subprocess.run(
        [*MANAGE, "check_consistency", "--ledger", str(ledger), "--json", "--projection-timeout", str(projection_timeout)],
        env=stack.env, capture_output=True, text=True,
    )
    try:
        return json.loads(output.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return [{"name": "check_consistency ran", "ok": False, "problems": [output.stdout + output.stderr], "figures": {}}]


def _report(load: dict, faults: FaultInjector, commands: list[Command], checks: list[dict]) -> int:
    kinds = Counter(command.kind for command in commands)
    outcomes = Counter(_outcome(command) for command in commands)
    retries = load["stats"].get("client retries", 0) + faults.stats["client retries"]
    print()
    print(f"commands sent        {len(commands)} in {load['seconds']:.0f}s ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})")
    print(f"answers              {', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))}")
    print(f"client retries       {retries} (same idempotency key, after no answer, 429 or 5xx)")
    print(f"events written       {_events_written(checks)}")
    print(f"faults injected      {len(faults.faults)}")
    for fault in faults.faults:
        recovery = f"{fault.recovery_seconds}s" if fault.recovery_seconds is not None else "did not recover"
        print(f"  t={fault.at:>6.1f}s  {fault.kind:<20} recovery {recovery}")
    problems = answer_problems(commands)
    missing = set(FAULTS) - {fault.kind for fault in faults.faults}
    if missing:
        problems.append(f"not injected: {', '.join(sorted(missing))} (let --seconds exceed 3 x --fault-every)")
    problems += [f"no command succeeded after '{fault.kind}' at t={fault.at}s before the run ended"
                 for fault in faults.faults if fault.recovery_seconds is None]
    print("checks")
    print(f"  {'ok  ' if not problems else 'FAIL'} every answer is what the API promises ({len(problems)} problems)")
    for problem in problems[:30]:
        print(f"         {problem}")
    for check in checks:
        figures = ", ".join(f"{k} {v}" for k, v in check["figures"].items())
        print(f"  {'ok  ' if check['ok'] else 'FAIL'} {check['name']} ({figures})")
        for problem in check["problems"][:30]:
            print(f"         {problem}")
    passed = not problems and all(check["ok"] for check in checks)
    print(f"\nchaos run {'PASSED' if passed else 'FAILED'}; logs in {LOG_DIR}")
    return 0 if passed else 1


def _wait_while_investigated(stack: ChaosStack) -> None:
    say(f"the stack stays up until Ctrl-C: web http://127.0.0.1:{stack.web_port}/, "
        f"Temporal {stack.env['TEMPORAL_ADDRESS']} (UI http://127.0.0.1:{stack.temporal_ui_port}/), "
        f"DATABASE_URL={stack.env['DATABASE_URL']}")
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            signal.pause()


def _outcome(command: Command) -> str:
    status = command.answer.status if command.answer else None
    if command.accepted:
        return "replayed" if command.answer.status == 200 else "accepted"
    if status == 422:
        return "refused by a rule"
    if status in (400, 403, 409, 413):
        return f"rejected {status}"
    return "no definite answer"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=120, help="how long the load runs (default 120)")
    parser.add_argument("--concurrency", type=int, default=6, help="clients sending at once (default 6)")
    parser.add_argument("--fault-every", type=float, default=10, help="seconds between faults (default 10)")
    parser.add_argument("--outage-seconds", type=float, default=3, help="how long each component stays down (default 3)")
    parser.add_argument("--organizations", type=int, default=3, help="organizations, one client token each")
    parser.add_argument("--drain-seconds", type=float, default=90, help="how long clients may still retry after the load")
    parser.add_argument("--summary", type=Path, help="also write the run's figures to this JSON file")
    parser.add_argument("--keep-on-failure", action="store_true", help="leave the stack up after a failed run, until Ctrl-C")
    parser.add_argument("--projection-timeout", type=float, default=120,
                        help="how long projections may take to catch up after the load (default 120)")
    parser.add_argument("--seed", type=int, default=int(time.time()), help="seed of the command mix")
    parser.add_argument("--workers", type=int, default=1, help="worker processes; a worker fault kills each in turn (default 1)")
    parser.add_argument("--web-processes", type=int, default=1, help="gunicorn processes of the web server (default 1)")
    arguments = parser.parse_args(argv)
    say(f"seed {arguments.seed}")
    return run(arguments)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
