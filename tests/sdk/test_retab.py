"""Retab's published SDK (retab==0.0.160) against runbrake's seed 000, 001 and 002 routes, with only
its base URL changed. Its own pydantic models must parse every reply, its typed exceptions must be
raised for every error, and the values must be right.

Seed 001 (workflow-test runs) has no method in this SDK (`client.workflows.tests` does not exist;
its successor is `client.workflows.evals`), so those tests call the route with plain HTTP, as the
seed's own request would look, and check the reply against the seed's field list.
"""

from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest
from retab import Retab
from retab.exceptions import AuthenticationError, NotFoundError, ValidationError
from retab.types.workflows.experiments.runs import (
    CancelWorkflowExperimentRunResponse,
    ExperimentRun,
)
from retab.types.workflows.runs import (
    AwaitingReviewRun,
    CancelledTerminal,
    CancelWorkflowResponse,
    CompletedTerminal,
    ErrorTerminal,
    RunningRun,
    WorkflowRun,
)

from conftest import RUNS, Native, Server

CREATED_000 = RUNS["000"]["create"]
CREATED_002 = RUNS["002"]["create"]


@pytest.fixture(scope="module")
def retab(server: Server) -> Retab:
    # max_retries=0: a 5xx must fail the test, not be retried into a pass.
    return Retab(api_key=server.org.user, base_url=server.url, max_retries=0, timeout=30)


def assert_utc(value: dt.datetime | None) -> None:
    assert value is not None
    assert value.utcoffset() == dt.timedelta(0), value


def check_run_000(run: WorkflowRun, run_id: str) -> None:
    """The values a 000 run must echo from its creation."""
    assert run.id == run_id
    assert run.workflow_id == CREATED_000["workflow"]["id"]
    assert run.workflow_version_id == CREATED_000["workflow"]["version_id"]
    assert run.trigger.type.value == "api"
    assert run.metadata == CREATED_000["metadata"]
    assert run.inputs is not None and run.inputs.documents is not None
    doc = run.inputs.documents["start_doc_1"]
    assert (doc.id, doc.filename, doc.mime_type) == ("file_abc", "invoice.pdf", "application/pdf")
    assert run.inputs.json_data == CREATED_000["attributes"]["inputs"]["json_data"]
    assert_utc(run.timing.created_at)


# --- seed 000: client.workflows.runs.cancel / .get --------------------------------------------

@pytest.mark.parametrize(
    "state, status, lifecycle",
    [
        ("pending", "cancelled", CancelledTerminal),
        ("queued", "cancelled", CancelledTerminal),
        ("running", "cancelled", CancelledTerminal),
        ("waiting", "cancelled", CancelledTerminal),
        ("leased", "cancellation_requested", RunningRun),
        ("completed", "cancellation_failed", CompletedTerminal),
        ("failed", "cancellation_failed", ErrorTerminal),
        ("rejected", "cancellation_failed", ErrorTerminal),
    ],
)
def test_000_cancel_in_every_state(retab: Retab, native: Native, state: str, status: str, lifecycle: type) -> None:
    run_id, _ = native.create("000", state)
    res = retab.workflows.runs.cancel(run_id)
    assert isinstance(res, CancelWorkflowResponse)
    assert res.cancellation_status is not None and res.cancellation_status.value == status
    assert res.redis_available is True
    assert isinstance(res.run.lifecycle, lifecycle)
    check_run_000(res.run, run_id)
    if isinstance(res.run.lifecycle, ErrorTerminal):
        want = "OCR failed on page 3" if state == "failed" else "Invalid invoice format"
        assert res.run.lifecycle.message == want
    if status == "cancelled":
        assert_utc(res.run.timing.completed_at)
    # The read route returns the same run, bare.
    got = retab.workflows.runs.get(run_id)
    assert isinstance(got, WorkflowRun)
    assert got.model_dump() == res.run.model_dump()


def test_000_requested_then_polled_until_cancelled(retab: Retab, native: Native) -> None:
    run_id, lease = native.create("000", "leased")
    res = retab.workflows.runs.cancel(run_id)
    assert res.cancellation_status is not None and res.cancellation_status.value == "cancellation_requested"
    assert isinstance(retab.workflows.runs.get(run_id).lifecycle, RunningRun)
    assert lease is not None
    native.ack_cancel(run_id, lease)  # the executor stops
    polled = retab.workflows.runs.get(run_id)
    assert isinstance(polled.lifecycle, CancelledTerminal)
    assert_utc(polled.timing.completed_at)
    # Cancelling again: `cancelled`, the run unchanged.
    again = retab.workflows.runs.cancel(run_id)
    assert again.cancellation_status is not None and again.cancellation_status.value == "cancelled"
    assert again.run.model_dump() == polled.model_dump()


def test_000_waiting_on_review_is_cancellable(retab: Retab, native: Native) -> None:
    run_id, _ = native.create("000", "waiting")
    before = retab.workflows.runs.get(run_id)
    assert isinstance(before.lifecycle, AwaitingReviewRun)
    assert before.lifecycle.waiting_for_block_ids == []
    res = retab.workflows.runs.cancel(run_id)
    assert isinstance(res.run.lifecycle, CancelledTerminal)


def test_000_command_id_replays_the_first_reply(retab: Retab, native: Native, server: Server) -> None:
    run_id, _ = native.create("000", "leased")
    first = retab.workflows.runs.cancel(run_id, command_id="cmd_cancel_abc")
    second = retab.workflows.runs.cancel(run_id, command_id="cmd_cancel_abc")
    assert first.model_dump() == second.model_dump()
    log = native.events(run_id)
    assert [e["event"]["type"] for e in log].count("cancel_requested") == 1
    assert [e["event"]["type"] for e in log].count("cancel_recorded") == 1
    # And byte for byte on the wire.
    raw = [
        httpx.post(
            f"{server.url}/v1/workflows/runs/{run_id}/cancel",
            headers={"authorization": f"Bearer {server.org.user}", "content-type": "application/json"},
            json={"command_id": "cmd_cancel_abc"},
        ).content
        for _ in range(2)
    ]
    assert raw[0] == raw[1]


def test_000_the_seeds_lifecycle_kind_is_on_the_wire(server: Server, native: Native) -> None:
    # The seed's snippet reads `result.run.lifecycle.kind`; the SDK's model has `.status` only
    # (extra keys are ignored), so `kind` is checked in the raw JSON.
    run_id, _ = native.create("000", "queued")
    res = httpx.post(
        f"{server.url}/v1/workflows/runs/{run_id}/cancel",
        headers={"authorization": f"Bearer {server.org.user}", "content-type": "application/json"},
        json={},
    )
    body = res.json()
    assert body["run"]["lifecycle"] == {"status": "cancelled", "kind": "cancelled", "reason": None}
    assert body["run"]["workflow"] == {
        "workflow_id": CREATED_000["workflow"]["id"],
        "snapshot_id": CREATED_000["workflow"]["version_id"],
        "name_at_run_time": CREATED_000["workflow"]["name"],
    }
    assert body["run"]["organization_id"] == CREATED_000["attributes"]["organization_id"]
    timing = body["run"]["timing"]
    assert set(timing) == {
        "created_at", "started_at", "completed_at", "human_waiting_started_at",
        "accumulated_human_waiting_ms", "duration_ms", "active_duration_ms",
    }


def test_000_errors_raise_the_sdks_exceptions(retab: Retab, native: Native, native_other: Native, server: Server) -> None:
    with pytest.raises(NotFoundError) as e:
        retab.workflows.runs.cancel("run_doesnotexist0000000000")
    assert e.value.status_code == 404
    message = e.value.message
    foreign, _ = native_other.create("000", "queued")
    wrong_kind, _ = native.create("002", "queued")
    for run_id in (foreign, wrong_kind):
        with pytest.raises(NotFoundError) as e:
            retab.workflows.runs.cancel(run_id)
        assert e.value.message == message
        with pytest.raises(NotFoundError):
            retab.workflows.runs.get(run_id)
    assert native_other.run(foreign)["status"] == "queued"

    run_id, _ = native.create("000", "queued")
    bad = Retab(api_key="rbk_not_a_key", base_url=server.url, max_retries=0)
    with pytest.raises(AuthenticationError) as e:
        bad.workflows.runs.cancel(run_id)
    assert e.value.status_code == 401
    with pytest.raises(ValidationError) as e:
        retab.workflows.runs.cancel(run_id, command_id="not a valid key/")
    assert e.value.status_code == 422
    assert native.run(run_id)["status"] == "queued"


# --- seed 001: no SDK method; plain HTTP -------------------------------------------------------

def test_001_has_no_sdk_method(retab: Retab) -> None:
    assert not hasattr(retab.workflows, "tests"), "retab 0.0.160 has no workflows.tests; 001 uses plain HTTP"


@pytest.mark.parametrize(
    "state, status_code, word",
    [
        ("pending", 200, "cancelled"),
        ("queued", 200, "cancelled"),
        ("running", 200, "cancelled"),
        ("leased", 200, "cancelled"),
        ("completed", 404, None),
        ("failed", 404, None),
        ("rejected", 404, None),
    ],
)
def test_001_cancel_over_plain_http(http: httpx.Client, server: Server, native: Native, state: str, status_code: int, word: str | None) -> None:
    run_id, _ = native.create("001", state)
    res = http.post(f"/v1/workflows/tests/runs/{run_id}/cancel", headers={"authorization": f"Bearer {server.org.user}"})
    assert res.status_code == status_code, res.text
    body = res.json()
    if word is None:
        assert isinstance(body["detail"], str)
        return
    created = RUNS["001"]["create"]
    assert body["id"] == run_id
    assert body["lifecycle"]["status"] == word
    assert body["workflow"]["workflow_id"] == created["workflow"]["id"]
    assert body["workflow"]["version_id"] == created["workflow"]["version_id"]
    assert body["trigger"]["type"] == "manual"
    assert body["total_tests"] == len(created["children"])
    assert body["test_id"] == created["attributes"]["test_id"]
    assert body["target"] == created["attributes"]["target"]
    assert body["counts"]["lifecycle_counts"]["cancelled"] == len(created["children"])
    for key in ("created_at", "started_at", "completed_at"):
        assert key in body["timing"]
    got = http.get(f"/v1/workflows/tests/runs/{run_id}", headers={"authorization": f"Bearer {server.org.user}"})
    assert got.status_code == 200
    assert got.json() == body


# --- seed 002: client.workflows.experiments.runs.cancel / .get ---------------------------------

@pytest.mark.parametrize("state", ["pending", "queued", "running", "waiting", "leased"])
def test_002_cancel(retab: Retab, native: Native, state: str) -> None:
    run_id, _ = native.create("002", state)
    res = retab.workflows.experiments.runs.cancel(run_id)
    assert isinstance(res, CancelWorkflowExperimentRunResponse)
    assert res.id == run_id
    assert res.lifecycle.status == "cancelled"
    got = retab.workflows.experiments.runs.get(run_id)
    assert isinstance(got, ExperimentRun)
    assert got.lifecycle.status == "cancelled"
    attrs = CREATED_002["attributes"]
    assert got.experiment_id == attrs["experiment_id"]
    assert got.block_id == attrs["block_id"]
    assert got.block_type.value == attrs["block_type"]
    assert int(got.n_consensus) == attrs["n_consensus"]
    assert got.block_execution_fingerprint == attrs["block_execution_fingerprint"]
    assert got.documents_fingerprint == attrs["documents_fingerprint"]
    assert got.score == attrs["score"]
    assert got.workflow_id == CREATED_002["workflow"]["id"]
    assert got.total_document_count == len(CREATED_002["children"])
    assert got.completed_document_count == 0
    assert_utc(got.timing.completed_at)


@pytest.mark.parametrize("state", ["completed", "failed", "rejected", "cancelled"])
def test_002_not_cancellable_is_404(retab: Retab, native: Native, state: str) -> None:
    if state == "cancelled":
        run_id, _ = native.create("002", "queued")
        retab.workflows.experiments.runs.cancel(run_id)
    else:
        run_id, _ = native.create("002", state)
    version = native.run(run_id)["version"]
    started = time.monotonic()
    with pytest.raises(NotFoundError) as e:
        retab.workflows.experiments.runs.cancel(run_id)
    assert e.value.status_code == 404
    assert time.monotonic() - started < 5
    assert native.run(run_id)["version"] == version
    got = retab.workflows.experiments.runs.get(run_id)
    want = {"completed": "completed", "failed": "error", "rejected": "error", "cancelled": "cancelled"}[state]
    assert got.lifecycle.status == want
    if want == "error":
        assert got.lifecycle.message in ("OCR failed on page 3", "Invalid invoice format")


def test_002_unknown_and_foreign_runs(retab: Retab, native: Native, native_other: Native) -> None:
    foreign, _ = native_other.create("002", "queued")
    wrong_kind, _ = native.create("001", "queued")
    messages = set()
    for run_id in ("exprun_doesnotexist000000000", foreign, wrong_kind):
        with pytest.raises(NotFoundError) as e:
            retab.workflows.experiments.runs.cancel(run_id)
        messages.add(e.value.message)
    assert len(messages) == 1
