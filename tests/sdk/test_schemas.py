"""The contract tests validate seed 002's cancel reply against the seed's own OpenAPI fragment. That
fragment is committed twice under tests/contracts/schemas/: `002-openapi.yaml` (copied byte for byte
from the seed) and `002-openapi.json` (what ajv loads). This checks that both say the same thing and,
when the shared seed folder is present, that the YAML still is the seed's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

SCHEMAS = ROOT / "tests/contracts/schemas"
SEEDS = ROOT.parent / "shared/seeds"


def fragment_of(text: str) -> str:
    match = re.search(r"````yaml[^\n]*\n(.*?)````", text, re.S)
    assert match, "no ````yaml block"
    return match.group(1)


def test_json_copy_is_the_yaml_fragment() -> None:
    from_yaml = yaml.safe_load((SCHEMAS / "002-openapi.yaml").read_text())
    from_json = json.loads((SCHEMAS / "002-openapi.json").read_text())
    assert from_json == from_yaml


def test_yaml_is_the_seeds_fragment() -> None:
    seeds = sorted(SEEDS.glob("002_*.txt"))
    if not seeds:
        pytest.skip(f"no seed 002 under {SEEDS}")
    fragment = fragment_of(seeds[0].read_text())
    committed = (SCHEMAS / "002-openapi.yaml").read_text()
    assert committed.endswith(fragment)
    header = committed[: -len(fragment)] if fragment else committed
    assert all(line.startswith("#") for line in header.splitlines()), header
