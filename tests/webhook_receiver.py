"""A webhook receiver on loopback for the tests and benchmarks: it verifies every request's
Standard Webhooks signature and records what it received, and can be told to fail or to be slow."""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


@dataclass(frozen=True)
class Received:
    webhook_id: str
    event_id: str
    position: int
    stream_id: str
    signature_valid: bool
    at: float  # time.time() on receipt
    data: dict  # the event's data as delivered


class Receiver:
    def __init__(self, secret: str = "", *, delay: float = 0.0):
        self.secret = secret
        self.delay = delay
        self.failing = False  # answer 500 while set
        self.received: list[Received] = []  # only requests answered 2xx
        self.refused = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/hooks"

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep connections alive, as a real receiver would

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if receiver.delay:
                    time.sleep(receiver.delay)
                if receiver.failing:
                    with receiver._lock:
                        receiver.refused += 1
                    self._answer(500)
                    return
                receiver._record(dict(self.headers), body)
                self._answer(204)

            def _answer(self, status: int):
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

    def _record(self, headers: dict, body: bytes) -> None:
        try:
            Webhook(self.secret).verify(body, headers)
            valid = True
        except Exception:
            valid = False
        event = json.loads(body)["data"]
        with self._lock:
            self.received.append(Received(headers.get("webhook-id", ""), event["event_id"], event["position"],
                                          event["stream_id"], valid, time.time(), event["data"]))

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def wait_for(self, event_ids: set[str], timeout: float, *, since: int = 0) -> list[Received]:
        """Wait until every one of `event_ids` arrived (after the first `since` arrivals); what
        arrived by then."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            received = self.snapshot()
            if event_ids <= {item.event_id for item in received[since:]}:
                return received
            time.sleep(0.05)
        return self.snapshot()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
