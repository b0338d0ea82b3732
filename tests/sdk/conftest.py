"""Fixtures for the SDK suite: one `wrangler dev` for the session, two organisations, and a small
client of runbrake's native API that creates each contract's runs and moves them through their
states with the executor protocol (the same runs as tests/contracts, from runs.json).

The server is started by tests/sdk/serve.mjs (the shared node harness) in its own session, so a
SIGINT to it stops wrangler and workerd and nothing else; it also stops if pytest dies, because it
watches its stdin. Needs `make build` (SKIP_WORKER_BUILD=1 reuses that build).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNS: dict[str, dict[str, Any]] = json.loads((ROOT / "tests/contracts/runs.json").read_text())
START_TIMEOUT_S = 120


@dataclass
class Org:
    org_id: str
    user: str
    executor: str


@dataclass
class Server:
    url: str
    admin: str
    org: Org
    other: Org


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    log = tempfile.TemporaryFile(mode="w+")
    env = {**os.environ, "SKIP_WORKER_BUILD": "1"}
    proc = subprocess.Popen(
        ["bash", "-c", 'source scripts/env.sh && exec node tests/sdk/serve.mjs'],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT_S)
        line = proc.stdout.readline() if ready else ""
        if not line:
            log.seek(0)
            raise RuntimeError(f"tests/sdk/serve.mjs did not start the server:\n{log.read()}")
        info = json.loads(line)

        def org(o: dict[str, str]) -> Org:
            return Org(org_id=o["orgId"], user=o["user"], executor=o["executor"])

        yield Server(url=info["url"], admin=info["admin"], org=org(info["org"]), other=org(info["other"]))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # serve.mjs stops wrangler, removes its storage, exits
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        _end_session(proc.pid)
        proc.wait()
        log.close()


def _end_session(sid: int) -> None:
    """SIGKILLs whatever is left of the session the helper was started in (wrangler runs in its own
    process group but the same session): a helper killed before its server came up, or a server
    that did not stop, must not outlive the suite. Only processes of that one session are touched."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            if os.getsid(pid) == sid:
                os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue


class Native:
    """runbrake's native API, for setting up runs and checking what happened."""

    def __init__(self, server: Server, org: Org):
        self.server = server
        self.org = org
        self.http = httpx.Client(base_url=server.url, timeout=30)

    def _call(self, method: str, path: str, key: str, body: Any = None) -> httpx.Response:
        headers = {"authorization": f"Bearer {key}"}
        if body is None:
            return self.http.request(method, path, headers=headers)
        return self.http.request(method, path, headers=headers, json=body)

    def act(self, run_id: str, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        res = self._call("POST", f"/api/runs/{run_id}/{action}", self.org.executor, body or {})
        assert res.status_code == 200, f"{action} {run_id}: {res.text}"
        return res.json()

    def create(self, seed: str, state: str, **extra: Any) -> tuple[str, str | None]:
        """A run of `seed`'s kind in `state`; returns its id and the executor's lease id, if any."""
        initial = {"pending": "pending", "running": "running"}.get(state, "queued")
        body = {"kind": RUNS[seed]["kind"], **json.loads(json.dumps(RUNS[seed]["create"])), **extra, "initial": initial}
        res = self._call("POST", "/api/runs", self.org.user, body)
        assert res.status_code == 201, res.text
        run_id = res.json()["run"]["id"]
        if state in ("pending", "queued", "running"):
            return run_id, None
        lease = self.act(run_id, "claim", {"executor": "sdk-suite", "lease_ms": 60_000})["lease"]["id"]
        if state == "waiting":
            self.act(run_id, "wait", {"lease_id": lease, "reason": "human_review"})
        elif state == "sleeping":
            self.act(run_id, "wait", {"lease_id": lease, "reason": "sleep"})
        elif state == "completed":
            self.act(run_id, "complete", {"lease_id": lease})
        elif state == "failed":
            self.act(run_id, "fail", {"lease_id": lease, "message": "OCR failed on page 3", "code": "OCR_ERROR"})
        elif state == "rejected":
            self.act(run_id, "wait", {"lease_id": lease, "reason": "human_review"})
            res = self._call("POST", f"/api/runs/{run_id}/reject", self.org.user, {"note": "Invalid invoice format"})
            assert res.status_code == 200, res.text
        elif state != "leased":
            raise ValueError(state)
        return run_id, lease

    def run(self, run_id: str) -> dict[str, Any]:
        res = self._call("GET", f"/api/runs/{run_id}", self.org.user)
        assert res.status_code == 200, res.text
        return res.json()["run"]

    def events(self, run_id: str) -> list[dict[str, Any]]:
        res = self._call("GET", f"/api/runs/{run_id}/events?limit=1000", self.org.user)
        assert res.status_code == 200, res.text
        return res.json()["data"]

    def ack_cancel(self, run_id: str, lease: str) -> None:
        self.act(run_id, "ack-cancel", {"lease_id": lease})


@pytest.fixture(scope="session")
def native(server: Server) -> Native:
    return Native(server, server.org)


@pytest.fixture(scope="session")
def native_other(server: Server) -> Native:
    return Native(server, server.other)


@pytest.fixture(scope="session")
def http(server: Server) -> Iterator[httpx.Client]:
    """Plain HTTP, for routes no SDK has a method for (001, 004) and for raw-body checks."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client
