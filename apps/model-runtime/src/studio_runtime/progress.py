"""Progress protocol (``runtime/progress.v1``): one JSON object per line on stdout."""

from __future__ import annotations

import json
import math
import os
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from .contracts import validate_progress_event

Event = dict[str, Any]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _finite(x: float) -> float:
    return float(x) if math.isfinite(x) else 0.0


class ProgressReporter:
    """Writes events to ``stream`` and/or hands them to ``sink``.

    Every event is validated against the shared JSON Schema when ``STUDIO_VALIDATE_PROGRESS=1``
    (the test suite sets it), so drift from the TypeScript contract fails loudly.
    """

    def __init__(
        self,
        run_id: str,
        stream: TextIO | None = None,
        sink: Callable[[Event], None] | None = None,
        validate: bool | None = None,
    ) -> None:
        self.run_id = run_id
        self.stream = stream
        self.sink = sink
        self.validate = (
            os.environ.get("STUDIO_VALIDATE_PROGRESS") == "1" if validate is None else validate
        )
        self._lock = threading.Lock()

    def emit(self, event: str, **fields: Any) -> Event:
        payload: Event = {
            "schema_version": "v1",
            "event": event,
            "run_id": self.run_id,
            "time": now_iso(),
            **fields,
        }
        if self.validate:
            validate_progress_event(payload)
        with self._lock:
            if self.stream is not None:
                self.stream.write(json.dumps(payload, separators=(",", ":")) + "\n")
                self.stream.flush()
            if self.sink is not None:
                self.sink(payload)
        return payload

    def started(
        self, method: str, base_model: str, total_steps: int, resumed_from_step: int | None
    ) -> None:
        self.emit(
            "started",
            method=method,
            base_model=base_model,
            total_steps=int(total_steps),
            resumed_from_step=resumed_from_step,
        )

    def step(
        self,
        step: int,
        total_steps: int,
        epoch: float,
        loss: float,
        learning_rate: float,
        tokens_per_s: float,
        eta_s: float,
    ) -> None:
        self.emit(
            "step",
            step=int(step),
            total_steps=int(total_steps),
            epoch=max(0.0, _finite(epoch)),
            loss=_finite(loss),
            learning_rate=max(0.0, _finite(learning_rate)),
            tokens_per_s=max(0.0, _finite(tokens_per_s)),
            eta_s=max(0.0, _finite(eta_s)),
        )

    def eval(self, step: int, eval_loss: float | None, metrics: dict[str, float]) -> None:
        self.emit(
            "eval",
            step=int(step),
            eval_loss=None if eval_loss is None else _finite(eval_loss),
            metrics={k: _finite(v) for k, v in metrics.items()},
        )

    def checkpoint_eval(
        self,
        step: int,
        total_steps: int,
        items: int,
        token_f1: float,
        heldout_loss: float,
        seconds: float,
        early_stop: dict[str, Any] | None,
    ) -> None:
        self.emit(
            "checkpoint_eval",
            step=int(step),
            total_steps=int(total_steps),
            items=int(items),
            token_f1=min(1.0, max(0.0, _finite(token_f1))),
            heldout_loss=max(0.0, _finite(heldout_loss)),
            seconds=max(0.0, _finite(seconds)),
            early_stop=None
            if early_stop is None
            else {**early_stop, "best_value": _finite(early_stop["best_value"])},
        )

    def checkpoint(self, step: int, path: str) -> None:
        self.emit("checkpoint", step=int(step), path=path)

    def completed(self, artifact_dir: str, metrics: dict[str, float]) -> None:
        self.emit(
            "completed",
            artifact_dir=artifact_dir,
            metrics={k: _finite(v) for k, v in metrics.items()},
        )

    def failed(self, error_type: str, message: str) -> None:
        self.emit("failed", error={"type": error_type or "error", "message": message or "failed"})


def claim_stdout_for_progress() -> TextIO:
    """Reserve the real stdout for progress lines; everything else printed goes to stderr."""
    sys.stdout.flush()
    progress_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(progress_fd, "w", buffering=1, encoding="utf-8")
