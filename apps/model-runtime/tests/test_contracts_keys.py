"""The Python mirror of the jobs contract's cancel key agrees with the TypeScript one."""

from __future__ import annotations

import json

import pytest

from studio_runtime.contracts import job_cancel_key
from studio_runtime.paths import repo_root

VECTORS = repo_root() / "libs" / "contracts" / "src" / "jobs" / "cancel-key.vectors.json"


def test_cancel_key_matches_the_shared_vectors():
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))
    assert vectors, f"no vectors in {VECTORS}"
    for v in vectors:
        assert job_cancel_key(v["queue"], v["jobId"], v["prefix"]) == v["key"], v


def test_cancel_key_defaults_to_bullmq_prefix_and_refuses_empty_parts():
    assert job_cancel_key("training", "42") == "bull:training:cancelled:42"
    with pytest.raises(ValueError, match="needs a prefix, queue and job id"):
        job_cancel_key("training", "")
