from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import sft_rows

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("REDIS_URL is not set; the worker tests need a real Redis in CI")
        pytest.skip("REDIS_URL is not set (start Redis and export REDIS_URL to run)")
    return url


def _start_worker(redis_url: str, queue: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "studio_runtime.cli",
            "worker",
            "--redis-url",
            redis_url,
            "--queue",
            queue,
            "--lock-duration-ms",
            "3000",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
    )


async def _wait_for(queue, job_id: str, predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = await queue.getJob(job_id)
        if job is not None and predicate(job):
            return job
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for job {job_id}")


def test_worker_kill_and_resume(make_job, tiny_path, redis_url, tmp_path):
    from bullmq import Queue

    qname = f"training-test-{uuid.uuid4().hex[:8]}"
    data = make_job(
        "sft", sft_rows(32), name="worker", max_steps=30, checkpoint_every_steps=4, eval_ratio=0.0
    )
    log = tmp_path / "worker.log"

    async def scenario() -> None:
        queue = Queue(qname, {"connection": redis_url})
        try:
            bad = await queue.add("train", {"schema_version": "v1"}, {"attempts": 3})
            job = await queue.add("train", data, {"attempts": 3})
            worker = _start_worker(redis_url, qname, log)
            try:
                failed = await _wait_for(queue, bad.id, lambda j: j.failedReason is not None, 120)
                assert "invalid training job" in failed.failedReason
                running = await _wait_for(
                    queue,
                    job.id,
                    lambda j: (
                        isinstance(j.progress, dict) and j.progress.get("event") == "checkpoint"
                    ),
                    180,
                )
                ckpt_step = running.progress["step"]
                assert ckpt_step >= 4
            finally:
                worker.send_signal(signal.SIGKILL)
                worker.wait()
            # The trainer child must die with its worker.
            time.sleep(1.0)
            worker = _start_worker(redis_url, qname, log)
            try:
                done = await _wait_for(queue, job.id, lambda j: j.returnvalue is not None, 240)
            finally:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=30)
            result = done.returnvalue
            assert result["metrics"]["total_steps"] == 30
            run = Path(result["artifact_dir"]) / "run.json"
            import json

            resumed = json.loads(run.read_text())["resumed_from_step"]
            assert resumed is not None and resumed >= ckpt_step, (resumed, ckpt_step)
            assert done.progress["event"] == "completed"
        finally:
            await queue.obliterate({"force": True})
            await queue.close()

    asyncio.run(scenario())


def test_worker_cancellation(make_job, tiny_path, redis_url, tmp_path):
    import redis as redis_lib
    from bullmq import Queue

    from studio_runtime.contracts import job_cancel_key

    qname = f"training-test-{uuid.uuid4().hex[:8]}"
    data = make_job("sft", sft_rows(16), name="cancel", max_steps=500, eval_ratio=0.0)
    data["run_id"] = f"cancel-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"

    async def scenario() -> None:
        queue = Queue(qname, {"connection": redis_url})
        worker = _start_worker(redis_url, qname, log)
        try:
            job = await queue.add("train", data, {"attempts": 3})
            await _wait_for(
                queue,
                job.id,
                lambda j: isinstance(j.progress, dict) and j.progress.get("event") == "step",
                180,
            )
            cancel_key = job_cancel_key(qname, job.id)
            redis_lib.Redis.from_url(redis_url).set(cancel_key, "1", ex=600)
            failed = await _wait_for(queue, job.id, lambda j: j.failedReason is not None, 60)
            assert "cancelled" in failed.failedReason
            assert failed.attemptsMade <= 1
            assert not (Path(data["output_dir"]) / "artifact").exists()
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
            await queue.obliterate({"force": True})
            await queue.close()

    asyncio.run(scenario())
