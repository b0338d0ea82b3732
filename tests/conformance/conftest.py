"""A `wrangler dev` server for the conformance suite: tests/sdk/serve.mjs (the shared node harness:
a private copy of the built Worker, a free port, its own storage, two organisations) started in
its own session and stopped, with everything it started, when the suite ends. Needs `make build`."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 120


@dataclass
class Server:
    url: str
    admin: str
    user: str
    executor: str


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(
        ["bash", "-c", "source scripts/env.sh && exec node tests/sdk/serve.mjs"],
        cwd=ROOT,
        env={**os.environ, "SKIP_WORKER_BUILD": "1"},
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
        yield Server(url=info["url"], admin=info["admin"], user=info["org"]["user"], executor=info["org"]["executor"])
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # serve.mjs stops wrangler and removes its storage
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        _end_session(proc.pid)
        proc.wait()
        log.close()


def _end_session(sid: int) -> None:
    """SIGKILLs whatever is left of the session the helper was started in; nothing else."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            if os.getsid(pid) == sid:
                os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue
