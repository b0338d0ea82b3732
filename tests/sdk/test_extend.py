"""Extend's published SDK (extend-ai==1.20.0) against runbrake's seed 003 routes
(`POST /workflow_runs/{id}/cancel`, `GET /workflow_runs/{id}`), with only its base URL changed.

The SDK builds responses without validation (`construct_type`), so every reply is also validated
strictly with `WorkflowRun.model_validate` on the raw JSON, and its status must be one of the eight
known members (an unknown string would silently become `_UNKNOWN`).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from extend_ai import Extend
from extend_ai.errors import BadRequestError, NotFoundError, UnauthorizedError
from extend_ai.types import WorkflowRun, WorkflowRunStatus

from conftest import RUNS, Native, Server

CREATED = RUNS["003"]["create"]
KNOWN = {m.value for m in WorkflowRunStatus if m.name != "_UNKNOWN"}


@pytest.fixture(scope="module")
def extend(server: Server) -> Extend:
    return Extend(token=server.org.user, base_url=server.url, timeout=30)


def strict(raw: dict[str, Any]) -> WorkflowRun:
    """The reply parsed with validation (the SDK's own parse skips it)."""
    run = WorkflowRun.model_validate(raw)
    assert raw["status"] in KNOWN, raw["status"]
    return run


def check_run(run: WorkflowRun, run_id: str) -> None:
    """The values a run must echo from its creation, through the SDK's own model."""
    attrs = CREATED["attributes"]
    assert run.object == "workflow_run"
    assert run.id == run_id
    assert run.workflow.id == CREATED["workflow"]["id"]
    assert run.workflow.name == CREATED["workflow"]["name"]
    assert run.workflow_version.id == CREATED["workflow"]["version_id"]
    assert run.workflow_version.version == CREATED["workflow"]["version"]
    assert run.workflow_version.name == attrs["workflowVersion"]["name"]
    assert run.metadata == CREATED["metadata"]
    assert run.batch_id == CREATED["batch_id"]
    assert [f.id for f in run.files] == [f["id"] for f in attrs["files"]]
    assert run.files[0].name == "statement.pdf"
    assert [s.id for s in run.step_runs] == [s["id"] for s in attrs["stepRuns"]]
    assert run.step_runs[0].step_type == "PARSE"
    assert run.usage is not None and run.usage.credits == attrs["usage"]["credits"]
    assert run.dashboard_url.endswith(run_id)
    assert isinstance(run.initial_run_at, dt.datetime) and run.initial_run_at.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    "state, status",
    [
        ("pending", "CANCELLED"),
        ("queued", "CANCELLED"),
        ("running", "CANCELLED"),
        ("sleeping", "CANCELLED"),
        ("leased", "CANCELLING"),
    ],
)
def test_cancel(extend: Extend, native: Native, state: str, status: str) -> None:
    run_id, _ = native.create("003", state)
    res = extend.workflow_runs.with_raw_response.cancel(run_id)
    assert res._response.status_code == 200
    assert res.data.status == status
    check_run(res.data, run_id)
    check_run(strict(res._response.json()), run_id)
    got = extend.workflow_runs.retrieve(run_id)
    assert got.status == status
    assert got == res.data


def test_cancelling_then_polled_until_cancelled(extend: Extend, native: Native) -> None:
    run_id, lease = native.create("003", "leased")
    assert extend.workflow_runs.cancel(run_id).status == "CANCELLING"
    assert extend.workflow_runs.retrieve(run_id).status == "CANCELLING"
    assert lease is not None
    native.ack_cancel(run_id, lease)
    done = extend.workflow_runs.retrieve(run_id)
    assert done.status == "CANCELLED"
    assert done.end_time is not None and done.end_time.utcoffset() == dt.timedelta(0)
    # A repeated cancel of a cancelled run is refused, at once (400 is not retried).
    with pytest.raises(BadRequestError):
        extend.workflow_runs.cancel(run_id)


@pytest.mark.parametrize(
    "state, status",
    [("waiting", "NEEDS_REVIEW"), ("completed", "PROCESSED"), ("failed", "FAILED"), ("rejected", "REJECTED")],
)
def test_not_cancellable_is_a_400_without_retries(extend: Extend, native: Native, state: str, status: str) -> None:
    run_id, _ = native.create("003", state)
    version = native.run(run_id)["version"]
    started = time.monotonic()
    with pytest.raises(BadRequestError) as e:
        extend.workflow_runs.cancel(run_id)
    # The SDK retries 409 twice with 1 s, 2 s backoff; a 400 answers in one round trip.
    assert time.monotonic() - started < 1.0
    assert e.value.status_code == 400
    assert e.value.body["code"] == "INVALID_REQUEST"
    assert e.value.body["retryable"] is False
    assert e.value.body["requestId"].startswith("req_")
    assert status in e.value.body["message"]
    assert native.run(run_id)["version"] == version
    got = extend.workflow_runs.with_raw_response.retrieve(run_id)
    assert got.data.status == status
    run = strict(got._response.json())
    if state == "failed":
        assert run.failure_reason == "OCR_ERROR"
        assert run.failure_message == "OCR failed on page 3"
    if state == "rejected":
        assert run.reviewed is True
        assert run.rejection_note == "Invalid invoice format"
        assert run.reviewed_at is not None


def test_errors_raise_the_sdks_exceptions(extend: Extend, native: Native, native_other: Native, server: Server) -> None:
    foreign, _ = native_other.create("003", "queued")
    wrong_kind, _ = native.create("000", "queued")
    bodies = []
    for run_id in ("workflow_run_doesnotexist00000000", foreign, wrong_kind):
        with pytest.raises(NotFoundError) as e:
            extend.workflow_runs.cancel(run_id)
        body = dict(e.value.body)
        assert body.pop("requestId").startswith("req_")
        bodies.append(body)
        with pytest.raises(NotFoundError):
            extend.workflow_runs.retrieve(run_id)
    assert bodies[0] == {"code": "NOT_FOUND", "message": "Workflow run not found", "retryable": False}
    assert bodies[1:] == bodies[:1] * 2

    run_id, _ = native.create("003", "queued")
    with pytest.raises(UnauthorizedError) as e:
        Extend(token="rbk_not_a_key", base_url=server.url).workflow_runs.cancel(run_id)
    assert e.value.body["code"] == "UNAUTHORIZED"
    with pytest.raises(BadRequestError) as e:
        Extend(token=server.org.user, base_url=server.url, extend_api_version="2024-01-01").workflow_runs.cancel(run_id)
    assert "x-extend-api-version" in e.value.body["message"]
    assert native.run(run_id)["status"] == "queued"
