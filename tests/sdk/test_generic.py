"""Seed 004 (the generic `POST /v1/runs/{id}/cancel`) has no published SDK: its documented clients are
curl, fetch, requests and net/http, so this suite calls it with plain HTTP (httpx), as the seed's
Python example does with requests, and checks the envelope and the values."""

from __future__ import annotations

import httpx
import pytest

from conftest import RUNS, Native, Server

CREATED = RUNS["004"]["create"]


def post_cancel(http: httpx.Client, server: Server, run_id: str, key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key or server.org.user}"}
    return http.post(f"/v1/runs/{run_id}/cancel", headers=headers)


@pytest.mark.parametrize(
    "state, code, status",
    [
        ("pending", 200, "cancelled"),
        ("queued", 200, "cancelled"),
        ("running", 200, "cancelled"),
        ("waiting", 200, "cancelled"),
        ("leased", 200, "running"),
        ("completed", 409, None),
        ("failed", 409, None),
        ("rejected", 409, None),
    ],
)
def test_cancel(http: httpx.Client, server: Server, native: Native, state: str, code: int, status: str | None) -> None:
    run_id, _ = native.create("004", state)
    res = post_cancel(http, server, run_id)
    assert res.status_code == code, res.text
    body = res.json()
    assert body["code"] == code
    assert body["requestId"] and res.headers["x-request-id"] == body["requestId"]
    if status is None:
        assert body["data"] is None
        assert isinstance(body["message"], str)
        return
    assert body["message"] == "success"
    data = body["data"]
    assert data["id"] == run_id
    assert data["status"] == status
    for key, value in CREATED["attributes"].items():
        assert data[key] == value, key
    assert data["workflowId"] == CREATED["workflow"]["id"]
    assert data["workflowVersion"] == 42
    got = http.get(f"/v1/runs/{run_id}", headers={"Authorization": f"Bearer {server.org.user}"}).json()
    assert got["data"] == data
    assert got["requestId"] != body["requestId"]


def test_errors(http: httpx.Client, server: Server, native: Native, native_other: Native) -> None:
    foreign, _ = native_other.create("004", "queued")
    for run_id in ("grun_doesnotexist0000000000", foreign):
        res = post_cancel(http, server, run_id)
        assert res.status_code == 404
        assert {k: v for k, v in res.json().items() if k != "requestId"} == {
            "code": 404, "data": None, "message": "run not found",
        }
    run_id, _ = native.create("004", "queued")
    res = http.post(f"/v1/runs/{run_id}/cancel")
    assert res.status_code == 401 and res.json()["code"] == 401
    res = http.post(
        f"/v1/runs/{run_id}/cancel",
        headers={"Authorization": f"Bearer {server.org.user}", "content-type": "application/json"},
        content=b"{oops",
    )
    assert res.status_code == 400 and res.json()["code"] == 400 and res.json()["data"] is None
    assert native.run(run_id)["status"] == "queued"
