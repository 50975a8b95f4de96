"""QUEUE_PREFIX: the worker's queue key prefix, read as the Node services read it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from studio_runtime.contracts import DEFAULT_QUEUE_PREFIX, job_cancel_key, queue_prefix
from studio_runtime.errors import ConfigError


def test_unset_or_blank_is_bullmqs_own_prefix():
    assert DEFAULT_QUEUE_PREFIX == "bull"
    assert queue_prefix(None) == "bull"
    assert queue_prefix("") == "bull"
    assert queue_prefix("  ") == "bull"


@pytest.mark.parametrize("value", ["staging", "e2e_run_1a2b.x", "{studio}", "studio:staging"])
def test_takes_a_per_deployment_prefix(value):
    assert queue_prefix(value) == value
    assert job_cancel_key("training", "7", queue_prefix(value)) == f"{value}:training:cancelled:7"


@pytest.mark.parametrize("value", ["two words", "trailing:", ":leading", "a::b", "star*"])
def test_refuses_a_prefix_that_would_make_odd_keys_naming_the_variable(value):
    with pytest.raises(ConfigError, match=r"^QUEUE_PREFIX .* must be letters"):
        queue_prefix(value)


def _worker(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # Redis on a port nothing listens on: these runs must stop before connecting.
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "studio_runtime.cli",
            "worker",
            "--redis-url",
            "redis://127.0.0.1:1",
            *args,
        ],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_worker_refuses_a_bad_prefix_from_the_variable_or_the_option_before_connecting():
    from_env = _worker([], {"QUEUE_PREFIX": "two words"})
    assert from_env.returncode == 2
    assert "studio-runtime worker: QUEUE_PREFIX 'two words' must be letters" in from_env.stderr
    from_option = _worker(["--prefix", "a::b"], {"QUEUE_PREFIX": "fine"})
    assert from_option.returncode == 2
    assert "studio-runtime worker: --prefix 'a::b' must be letters" in from_option.stderr
