"""BullMQ worker for the ``training`` queue (official ``bullmq`` Python package).

Each job (name ``train``, data = ``jobs/training.v1``) is validated against the shared JSON
Schema and trained in a child process (``studio-runtime train ... --config``), whose
JSON-lines progress events are forwarded with ``job.updateProgress(event)`` (and appended to
the job log). The child dies with the worker (``PR_SET_PDEATHSIG``); when a killed worker's job
is retried (BullMQ moves stalled jobs back to ``wait``), training resumes from the newest
checkpoint under ``output_dir/checkpoints``.

Cancellation follows the jobs contract: the job's cancel key
``<prefix>:<queue>:cancelled:<job id>`` (``job_cancel_key``, what ``BullMqJobQueue.cancel()``
sets) is checked before the trainer starts and every second while it runs; when it is set (or
the job has been removed, or aborted through ``Worker.cancelJob``) the child is stopped
(SIGTERM, then SIGKILL) and the job fails with an ``UnrecoverableError``, so it is not retried.

``<prefix>`` is the queues' BullMQ key prefix: ``--prefix``, else ``QUEUE_PREFIX`` (the variable
the Node producers read), else BullMQ's ``bull``. Deployments sharing one Redis use different
prefixes, so a worker never takes another deployment's jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from bullmq import Worker
from bullmq.custom_errors import UnrecoverableError

from .config import parse_job
from .contracts import DEFAULT_QUEUE_PREFIX, job_cancel_key
from .errors import RuntimeFailure

log = logging.getLogger(__name__)

JOB_NAME = "train"


def _die_with_parent() -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class TrainingJobRunner:
    def __init__(self, redis_url: str, queue: str, prefix: str = DEFAULT_QUEUE_PREFIX) -> None:
        self.redis_url = redis_url
        self.queue = queue
        self.prefix = prefix
        self._redis: Any = None

    async def redis(self) -> Any:
        if self._redis is None:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(self.redis_url)
        return self._redis

    async def cancelled(self, job: Any, signal_: Any) -> bool:
        if signal_ is not None and getattr(signal_, "aborted", False):
            return True
        r = await self.redis()
        if await r.exists(job_cancel_key(self.queue, str(job.id), self.prefix)):
            return True
        return not await r.exists(f"{self.prefix}:{self.queue}:{job.id}")

    async def process(self, job: Any, token: str, signal_: Any = None) -> dict[str, Any]:
        if job.name != JOB_NAME:
            raise UnrecoverableError(f"unknown job name {job.name!r} (expected {JOB_NAME!r})")
        try:
            spec = parse_job(job.data)
        except RuntimeFailure as exc:
            raise UnrecoverableError(str(exc)) from exc
        if await self.cancelled(job, signal_):
            raise UnrecoverableError(f"run {spec.run_id} was cancelled before it started")
        out = Path(spec.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        config_path = out / "job.json"
        config_path.write_text(json.dumps(job.data, indent=2), encoding="utf-8")
        cmd = [
            sys.executable,
            "-m",
            "studio_runtime.cli",
            "train",
            spec.method,
            "--config",
            str(config_path),
        ]
        log.info("job %s (run %s): %s", job.id, spec.run_id, " ".join(cmd))
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdout=asyncio.subprocess.PIPE,
            stderr=None,
            preexec_fn=_die_with_parent,
        )
        terminal: dict[str, Any] | None = None
        cancel_flag = asyncio.Event()
        watcher = asyncio.create_task(
            self._watch_cancel(job, spec.run_id, signal_, proc, cancel_flag)
        )
        try:
            assert proc.stdout is not None
            async for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").strip()
                if not line:
                    continue
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    log.warning("non-JSON line from trainer: %s", line)
                    continue
                await job.updateProgress(event)
                with contextlib.suppress(Exception):
                    await job.log(line)
                if event.get("event") in ("completed", "failed"):
                    terminal = event
            rc = await proc.wait()
        finally:
            watcher.cancel()
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        if cancel_flag.is_set():
            raise UnrecoverableError(f"run {spec.run_id} was cancelled")
        if terminal is not None and terminal["event"] == "completed":
            return {"artifact_dir": terminal["artifact_dir"], "metrics": terminal["metrics"]}
        if terminal is not None:
            err = terminal["error"]
            message = f"{err['type']}: {err['message']}"
            if err["type"] in ("config_error", "dataset_error", "model_error"):
                raise UnrecoverableError(message)
            raise RuntimeError(message)
        raise RuntimeError(f"trainer exited with status {rc} without a result")

    async def _watch_cancel(
        self, job: Any, run_id: str, signal_: Any, proc: Any, flag: asyncio.Event
    ) -> bool:
        while proc.returncode is None:
            await asyncio.sleep(1.0)
            try:
                if await self.cancelled(job, signal_):
                    log.warning("run %s cancelled; stopping trainer", run_id)
                    flag.set()
                    proc.terminate()
                    try:
                        await asyncio.wait_for(proc.wait(), 10)
                    except TimeoutError:
                        proc.kill()
                    return True
            except Exception:
                log.exception("cancellation check failed")
        return False


async def _run(
    redis_url: str, queue: str, concurrency: int, lock_duration_ms: int, prefix: str
) -> None:
    runner = TrainingJobRunner(redis_url, queue, prefix)
    opts: dict[str, Any] = {
        "connection": redis_url,
        "prefix": prefix,
        "concurrency": concurrency,
        "lockDuration": lock_duration_ms,
        "stalledInterval": max(1000, lock_duration_ms // 2),
        "maxStalledCount": 3,
    }

    async def processor(job: Any, token: str, signal_: Any) -> dict[str, Any]:
        return await runner.process(job, token, signal_)

    worker = Worker(queue, processor, opts)  # type: ignore[arg-type]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker listening on queue %r (prefix %r) at %s", queue, prefix, redis_url)
    print(
        json.dumps({"worker": "ready", "queue": queue, "prefix": prefix}),
        file=sys.stderr,
        flush=True,
    )
    await stop.wait()
    await worker.close()


def run_worker(
    *,
    redis_url: str,
    queue: str,
    concurrency: int = 1,
    lock_duration_ms: int = 30_000,
    prefix: str = DEFAULT_QUEUE_PREFIX,
) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    asyncio.run(_run(redis_url, queue, concurrency, lock_duration_ms, prefix))
    return 0
