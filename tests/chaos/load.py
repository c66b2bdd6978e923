"""The chaos run's load generator, a process of its own: payment commands through the HTTP API.

    python -m tests.chaos.load --port PORT --tokens FILE --output FILE [--concurrency 6] [--seconds 120]

Standard library only; requests go to loopback only. Each command gets a fresh idempotency key and is
retried with that same key (as a careful client would) while the answer is not definite: no
connection, 429, 5xx. Every command and its final answer are written to --output, from which
`tests.chaos.run` builds the ledger that `manage.py check_consistency` compares with the store.
"""

import argparse
import http.client
import json
import random
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal

RETRYABLE = {429, 500, 502, 503, 504}
CURRENCIES = ("EUR", "USD", "GBP")


@dataclass
class Answer:
    status: int | None  # None: no HTTP answer (connection refused or reset, timeout)
    body: dict | None


@dataclass
class Command:
    """One logical command: its body and key, what it should get, and what it got."""

    kind: str  # create, refund, cancel, repeat, key_reuse, invalid, probe
    organization: str
    body: dict | bytes
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    expected: set[int] = field(default_factory=set)  # empty: any definite answer will do
    answer: Answer | None = None
    attempts: int = 0
    unexpected_errors: int = 0  # 500s on the way: a bug even when a retry later succeeds

    @property
    def accepted(self) -> bool:
        return self.answer is not None and self.answer.status in (200, 201)

    def outcome(self) -> dict:
        """What the run's judge needs (not the request body: some are deliberately huge)."""
        return {"kind": self.kind, "organization": self.organization, "key": self.key,
                "expected": sorted(self.expected), "attempts": self.attempts,
                "unexpected_errors": self.unexpected_errors, "answer": asdict(self.answer) if self.answer else None}

    @classmethod
    def from_outcome(cls, outcome: dict) -> "Command":
        answer = Answer(**outcome["answer"]) if outcome["answer"] else None
        return cls(outcome["kind"], outcome["organization"], {}, key=outcome["key"], expected=set(outcome["expected"]),
                   answer=answer, attempts=outcome["attempts"], unexpected_errors=outcome["unexpected_errors"])


class ApiClient:
    """One keep-alive connection to the web server; reconnects after any connection error."""

    def __init__(self, host: str, port: int, tokens: dict[str, str]):
        self.host, self.port, self.tokens = host, port, tokens
        self.connection = self._connect()

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=60)

    def post_command(self, command: Command) -> Answer:
        body = command.body if isinstance(command.body, bytes) else json.dumps(command.body).encode()
        headers = {
            "Authorization": f"Token {self.tokens[command.organization]}",
            "Content-Type": "application/json", "Idempotency-Key": command.key,
        }
        try:
            self.connection.request("POST", "/api/payments/commands/", body=body, headers=headers)
            response = self.connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = self._connect()
            return Answer(None, None)
        try:
            return Answer(response.status, json.loads(payload))
        except ValueError:
            return Answer(response.status, None)

    def send(self, command: Command, *, clock: "RunClock", stats: Counter) -> Command:
        """Send until a definite answer, with the same key each time; give up once the run's time is out."""
        while True:
            command.attempts += 1
            answer = self.post_command(command)
            if answer.status == 500:
                command.unexpected_errors += 1
            if answer.status not in RETRYABLE and answer.status is not None:
                command.answer = answer
                return command
            stats["client retries"] += 1
            if clock.out_of_time():
                command.answer = answer
                return command
            time.sleep(0.25 if answer.status is None else 0.5)


class Workload:
    """Chooses commands: new payments, refunds and cancellations of them, repeats, and bad requests."""

    MIX = {"create": 40, "refund": 25, "cancel": 8, "repeat": 10, "key_reuse": 4, "invalid": 13}

    def __init__(self, organizations: list[str], seed: int):
        self.organizations = organizations
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.payments: dict[str, list[str]] = defaultdict(list)
        self.accepted: list[Command] = []

    def next_command(self) -> Command:
        with self.lock:
            kind = self.random.choices(list(self.MIX), weights=list(self.MIX.values()))[0]
            organization = self.random.choice(self.organizations)
            return self._build(kind, organization)

    def record(self, command: Command) -> None:
        if not command.accepted:
            return
        with self.lock:
            if command.kind in ("create", "probe"):
                self.payments[command.organization].append(command.body["payment_id"])
            if command.kind not in ("repeat", "key_reuse"):
                self.accepted.append(command)

    def create(self, organization: str, *, kind: str = "create") -> Command:
        amount = Decimal(self.random.randint(100, 50_000)) / 100
        body = {"type": "CREATE", "payment_id": f"chaos-{uuid.uuid4().hex[:12]}", "organization_id": organization,
                "amount": str(amount), "currency": self.random.choice(CURRENCIES), "description": "chaos run"}
        return Command(kind, organization, body, expected={201, 200})

    def _build(self, kind: str, organization: str) -> Command:
        payments = self.payments[organization]
        if kind in ("refund", "cancel") and payments:
            return self._follow_up(kind, organization, self.random.choice(payments))
        if kind in ("repeat", "key_reuse") and self.accepted:
            return self._again(kind, self.random.choice(self.accepted))
        if kind == "invalid":
            return self._invalid(organization)
        return self.create(organization)

    def _follow_up(self, kind: str, organization: str, payment_id: str) -> Command:
        body = {"type": kind.upper(), "payment_id": payment_id, "organization_id": organization}
        if kind == "refund":
            body["amount"] = str(Decimal(self.random.randint(100, 20_000)) / 100)
        return Command(kind, organization, body, expected={201, 200, 422})  # 422: a business rule refused it

    def _again(self, kind: str, original: Command) -> Command:
        if kind == "repeat":
            return Command(kind, original.organization, original.body, key=original.key, expected={200})
        changed = {**original.body, "description": "the same key, another body"}
        return Command(kind, original.organization, changed, key=original.key, expected={409})

    def _invalid(self, organization: str) -> Command:
        other = next((org for org in self.organizations if org != organization), "org-elsewhere")
        base = {"type": "CREATE", "payment_id": f"chaos-bad-{uuid.uuid4().hex[:12]}", "organization_id": organization,
                "amount": "10.00", "currency": "EUR"}
        bodies = [
            ({**base, "amount": "-5.00"}, 400),
            ({**base, "amount": "1.001"}, 400),
            ({**base, "currency": "ABC"}, 400),
            ({**base, "type": "REVERSE"}, 400),
            ({**base, "organization_id": other}, 403),
            (b'{"type": "CREATE", "payment_id": ', 400),
            ({**base, "description": "x" * 70_000}, 413),
        ]
        body, status = self.random.choice(bodies)
        return Command("invalid", organization, body, expected={status})


@dataclass
class LoadResult:
    commands: list[Command]
    stats: Counter
    seconds: float


class RunClock:
    """Clients retry through faults for as long as the run lasts, then for `drain_seconds` more."""

    def __init__(self, drain_seconds: float):
        self.drain_seconds = drain_seconds
        self.stopped = threading.Event()
        self.give_up_at = float("inf")

    def stop(self) -> None:
        self.give_up_at = time.monotonic() + self.drain_seconds
        self.stopped.set()

    def out_of_time(self) -> bool:
        return time.monotonic() > self.give_up_at


def run_load(client_factory, workload: Workload, *, threads: int, clock: RunClock) -> LoadResult:
    """Send commands from `threads` clients until the clock stops; each finishes its command first."""
    commands: list[Command] = []
    stats: Counter = Counter()
    lock = threading.Lock()

    def client_loop() -> None:
        client = client_factory()
        while not clock.stopped.is_set():
            command = client.send(workload.next_command(), clock=clock, stats=stats)
            workload.record(command)
            with lock:
                commands.append(command)

    started = time.monotonic()
    pool = [threading.Thread(target=client_loop, name=f"client-{n}") for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return LoadResult(commands, stats, time.monotonic() - started)


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos.load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", choices=LOOPBACK, help="loopback only")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tokens", required=True, help='JSON file: {"organization id": "API token", ...}')
    parser.add_argument("--output", required=True, help="JSON file written at the end: every command and its answer")
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--drain-seconds", type=float, default=90)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    arguments = parser.parse_args(argv)
    with open(arguments.tokens) as tokens_file:
        tokens = json.load(tokens_file)
    clock = RunClock(drain_seconds=arguments.drain_seconds)
    threading.Timer(arguments.seconds, clock.stop).start()
    load = run_load(lambda: ApiClient(arguments.host, arguments.port, tokens), Workload(sorted(tokens), arguments.seed),
                    threads=arguments.concurrency, clock=clock)
    with open(arguments.output, "w") as output:
        json.dump({"seconds": load.seconds, "stats": load.stats,
                   "commands": [command.outcome() for command in load.commands]}, output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
