"""T13: the OpenAPI document against the real service, with schemathesis.

Four schemathesis runs against `wrangler dev` (conftest.py), each checking every response for
server errors, documented status codes, documented content types and the response schema:

1. every operation except the admin ones: examples, coverage, fuzzing and stateful phases,
   `--max-examples` a fifth over `CONFORMANCE_EXAMPLES` (100 in `make test`; `make
   conformance-long` runs 1,000), and at least that many test cases for nine operations in ten
   (schemathesis itself stops early on operations it finds unreachable);
2. the stateful phase alone on a run's life cycle (create → get → cancel → get, and the cancel's
   receipt), following only the links the document declares;
3. the same from `createRun` to every contract's read and cancel;
4. the admin operations (with the admin token) last: they create organisations and keys and
   revoke keys, and schemathesis feeds ids it saw in earlier responses into later requests, so
   run before the others they would revoke the keys those use.

Zero failures in all four; the figures go to tests/output/reliability/T13.json, the reports to
tests/output/conformance/.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import ROOT, Server

EXAMPLES = int(os.environ.get("CONFORMANCE_EXAMPLES", "100"))
SEED = os.environ.get("CONFORMANCE_SEED", "13")
SCHEMATHESIS = ROOT / ".tools/venv/bin/schemathesis"
CONFIG = ROOT / "tests/conformance/schemathesis.toml"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
OUT = ROOT / "tests/output/conformance"
TIMEOUT_S = 3600

# The stateful runs (2): each starts its scenarios at `createRun` and follows the declared links.
# Extend's and the generic cancel are left out: schemathesis starts scenarios only at operations it
# judges likely to succeed on generated data (POSTs with no unmet id input), and it would pick those
# two over `createRun` (whose `batch_id` and `parent_run_id` look like ids of resources nothing
# produces). Run (1) reaches them, with run ids it saw in earlier responses.
LIFECYCLE = ["createRun", "getRun", "cancelRun", "getCancelReceipt"]
DIALECTS = [
    "createRun",
    "retabGetWorkflowRun",
    "retabCancelWorkflowRun",
    "retabGetWorkflowTestRun",
    "retabCancelWorkflowTestRun",
    "retabGetExperimentRun",
    "retabCancelExperimentRun",
    "extendGetWorkflowRun",
    "genericGetRun",
]
# Links each of those runs must follow at least once: the chain create → get → cancel → get, and
# create → every contract's read and cancel. The others (a receipt after a 409 or 412, a contract's
# poll after its cancel) are counted in the figures.
REQUIRED = {
    "lifecycle": {
        ("createRun", "201", "getRun"),
        ("createRun", "201", "cancelRun"),
        ("getRun", "200", "cancelRun"),
        ("cancelRun", "200", "getRun"),
    },
    "dialects": {("createRun", "201", op) for op in DIALECTS[1:]},
}
STATEFUL_EXAMPLES = max(EXAMPLES, 150)

results: dict[str, dict[str, Any]] = {}


def schemathesis(server: Server, name: str, *args: str, config: Path = CONFIG) -> dict[str, Any]:
    """Runs `schemathesis run` against the served document; returns its JSON report, with the
    links the stateful phase followed (from the NDJSON event stream) under `links_followed`."""
    OUT.mkdir(parents=True, exist_ok=True)
    report = OUT / f"{name}.json"
    events = OUT / f"{name}.ndjson"
    for f in (report, events):
        f.unlink(missing_ok=True)
    env = {
        **os.environ,
        "RB_USER_KEY": server.user,
        "RB_EXECUTOR_KEY": server.executor,
        "RB_ADMIN_TOKEN": server.admin,
        "NO_COLOR": "1",
    }
    proc = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(config),
            "run",
            f"{server.url}/openapi.json",
            "--checks",
            CHECKS,
            "--seed",
            SEED,
            "--report",
            "json,ndjson",
            "--report-json-path",
            str(report),
            "--report-ndjson-path",
            str(events),
            *args,
            *([] if "--max-examples" in args else ["--max-examples", str(EXAMPLES)]),
            *([] if "--workers" in args else ["--workers", "1"]),
        ],
        cwd=OUT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    (OUT / f"{name}.log").write_text(proc.stdout + proc.stderr)
    assert report.exists(), f"schemathesis wrote no report (exit {proc.returncode}):\n{proc.stdout[-4000:]}{proc.stderr[-4000:]}"
    data = json.loads(report.read_text())
    followed: dict[str, int] = {}
    cases: dict[str, int] = {}
    for line in events.read_text().splitlines():
        event = json.loads(line).get("ScenarioFinished")
        if not event:
            continue
        for case in ((event.get("recorder") or {}).get("cases") or {}).values():
            label = f"{case['value']['method'].upper()} {case['value']['path']}"
            cases[label] = cases.get(label, 0) + 1
            transition = case.get("transition")
            if event.get("phase") == "stateful" and transition and case.get("is_transition_applied"):
                followed[transition["id"]] = followed.get(transition["id"], 0) + 1
    data["links_followed"] = followed
    data["cases"] = cases
    data["output"] = proc.stdout
    results[name] = data
    return data


def assert_clean(data: dict[str, Any]) -> None:
    cases = data["test_cases"]
    assert data["failures"] == [] and cases["with_failures"] == 0 and data["errors"] == [], (
        f"schemathesis found {cases['unique_failures']} failure(s):\n{data['output'][-12000:]}"
    )
    assert data["exit_code"] == 0, data["output"][-6000:]
    assert data["complete"], data["output"][-3000:]
    assert cases["generated"] > 0


def with_inputs(document: dict[str, Any]) -> dict[str, str]:
    """operationId → label of every operation whose requests can vary (parameters, a body or a
    key); the health probes take nothing, so a handful of requests is all there is to send."""
    root = document.get("security", [])
    out = {}
    for path, item in document["paths"].items():
        for m, op in item.items():
            if m == "parameters":
                continue
            varies = item.get("parameters") or op.get("parameters") or op.get("requestBody") or op.get("security", root)
            if varies:
                out[op["operationId"]] = f"{m.upper()} {path}"
    return out


def assert_examples(data: dict[str, Any], labels: list[str]) -> None:
    """`CONFORMANCE_EXAMPLES` test cases (over all phases) for nine operations in ten, and some for
    each. schemathesis decides the last: it stops fuzzing an operation early when it judges further
    cases unreachable (most end in 404s for ids nothing produced), so a strict floor would flake."""
    counts = {label: data["cases"].get(label, 0) for label in labels}
    data["min_cases"] = min(counts.values()) if counts else 0
    data["ops_with_inputs"] = len(counts)
    data["ops_at_examples"] = sum(1 for v in counts.values() if v >= EXAMPLES)
    assert all(v >= 10 for v in counts.values()), f"operations barely tested: {counts}"
    assert data["ops_at_examples"] * 10 >= len(counts) * 9, (
        f"{len(counts) - data['ops_at_examples']} of {len(counts)} operations got fewer than {EXAMPLES} test cases: "
        f"{ {k: v for k, v in counts.items() if v < EXAMPLES} }"
    )


def declared_links(doc: dict[str, Any], among: set[str]) -> set[tuple[str, str, str]]:
    """(source operationId, status, target operationId) of every link between `among`."""
    out = set()
    for item in doc["paths"].values():
        for method, op in item.items():
            if method == "parameters" or op.get("operationId") not in among:
                continue
            for status, response in op["responses"].items():
                for link in response.get("links", {}).values():
                    if link["operationId"] in among:
                        out.add((op["operationId"], status, link["operationId"]))
    return out


@pytest.fixture(scope="module")
def document(server: Server) -> dict[str, Any]:
    served = httpx.get(f"{server.url}/openapi.json", timeout=30).json()
    on_disk = json.loads((ROOT / "worker/openapi.json").read_text())
    assert served == on_disk, "the served document differs from worker/openapi.json: rebuild the Worker"
    return served


def test_every_operation_but_admin(server: Server, document: dict[str, Any]) -> None:
    # Hypothesis may end an operation's fuzzing a few cases short of `--max-examples` (it drops
    # what it judges duplicate or filtered), so ask for a fifth more than the floor asserted below.
    data = schemathesis(
        server, "operations", "--exclude-tag", "admin", "--workers", "2",
        "--max-examples", str(EXAMPLES + EXAMPLES // 5),
    )
    assert_clean(data)
    # schemathesis leaves out the operation that serves the document it loaded (GET /openapi.json).
    documented = [
        op for path, item in document["paths"].items() for m, op in item.items()
        if m != "parameters" and "admin" not in op.get("tags", []) and path != "/openapi.json"
    ]
    ops = data["operations"]
    assert ops["selected"] == len(documented) and ops["tested"] == ops["selected"], ops
    assert ops["errored"] == 0 and ops["skipped"] == 0, ops
    varying = with_inputs(document)
    assert_examples(data, [varying[op["operationId"]] for op in documented if op["operationId"] in varying])


def stateful(server: Server, document: dict[str, Any], name: str, operations: list[str]) -> None:
    include = [arg for op in operations for arg in ("--include-operation-id", op)]
    data = schemathesis(
        server, name, "--phases", "stateful", "--max-examples", str(STATEFUL_EXAMPLES),
        config=ROOT / "tests/conformance/stateful.toml", *include,
    )
    assert_clean(data)
    label = {
        op["operationId"]: f"{m.upper()} {p}"
        for p, item in document["paths"].items() for m, op in item.items() if m != "parameters"
    }

    def followed(link: tuple[str, str, str]) -> bool:
        src, status, dst = link
        prefix = f"{label[src]} -> [{status}] "
        return any(t.startswith(prefix) and t.endswith(f" -> {label[dst]}") for t in data["links_followed"])

    declared = declared_links(document, set(operations))
    assert REQUIRED[name] <= declared, f"links missing from the document: {REQUIRED[name] - declared}"
    data["declared_links"] = len(declared)
    data["declared_links_followed"] = sum(1 for link in declared if followed(link))
    data["required_links"] = len(REQUIRED[name])
    missing = sorted(f"{s} {st} → {d}" for s, st, d in REQUIRED[name] if not followed((s, st, d)))
    assert not missing, f"links never followed: {missing}\nfollowed: {sorted(data['links_followed'])}"


def test_run_lifecycle_statefully(server: Server, document: dict[str, Any]) -> None:
    stateful(server, document, "lifecycle", LIFECYCLE)


def test_contract_routes_statefully(server: Server, document: dict[str, Any]) -> None:
    stateful(server, document, "dialects", DIALECTS)


def test_admin_operations_last(server: Server, document: dict[str, Any]) -> None:
    data = schemathesis(server, "admin", "--include-tag", "admin", "--max-examples", str(EXAMPLES + EXAMPLES // 5))
    assert_clean(data)
    varying = with_inputs(document)
    admin = [
        op["operationId"] for item in document["paths"].values() for m, op in item.items()
        if m != "parameters" and "admin" in op.get("tags", [])
    ]
    assert data["operations"]["tested"] == len(admin), data["operations"]
    assert_examples(data, [varying[op] for op in admin if op in varying])


def teardown_module() -> None:
    """Figures in the rows format of tests/reliability/lib/figures.mjs, written by that module."""
    if not results:
        return
    rows = []
    for name, data in results.items():
        cases = data["test_cases"]
        tested = data["operations"]["tested"]
        rows.append({"figure": f"{name}: operations tested", "target": "> 0", "value": tested, "pass": tested > 0})
        rows.append({"figure": f"{name}: test cases sent", "target": "> 0", "value": sum(data["cases"].values()), "pass": cases["generated"] > 0})
        if "min_cases" in data:
            rows.append({
                "figure": f"{name}: operations with ≥ {EXAMPLES} test cases (of {data['ops_with_inputs']} with inputs)",
                "target": "≥ 90 %",
                "value": data["ops_at_examples"],
                "pass": data["ops_at_examples"] * 10 >= data["ops_with_inputs"] * 9,
            })
            rows.append({"figure": f"{name}: fewest test cases of an operation", "target": "≥ 10", "value": data["min_cases"], "pass": data["min_cases"] >= 10})
        rows.append({"figure": f"{name}: failures", "target": "0", "value": cases["unique_failures"] + len(data["errors"]), "pass": data["exit_code"] == 0})
        if "declared_links" in data:
            rows.append({
                "figure": f"{name}: declared links followed ≥ 1× (create → get → cancel → get and the contracts' reads required)",
                "target": f"≥ {data['required_links']} of {data['declared_links']}",
                "value": data["declared_links_followed"],
                "pass": data["exit_code"] == 0 and data["declared_links_followed"] >= data["required_links"],
            })
        if data["links_followed"]:
            rows.append({"figure": f"{name}: link transitions applied (declared and inferred)", "target": "> 0", "value": sum(data["links_followed"].values()), "pass": True})
    tier = "long" if EXAMPLES >= 1000 else "ci"
    script = (
        'import { record } from "./tests/reliability/lib/figures.mjs";'
        "await record('T13', `schemathesis ${process.argv[1]} examples per operation`, JSON.parse(process.argv[2]));"
    )
    subprocess.run(
        ["bash", "-c", 'source scripts/env.sh && exec node --input-type=module -e "$0" "$1" "$2"', script, str(EXAMPLES), json.dumps(rows)],
        cwd=ROOT,
        env={**os.environ, "RELIABILITY_TIER": tier},
        check=True,
    )
