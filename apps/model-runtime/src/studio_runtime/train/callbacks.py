"""Trainer callbacks that translate Hugging Face trainer events into progress events."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from ..errors import Cancelled
from ..progress import ProgressReporter


class TokenCounter:
    """Counts non-padding tokens processed by ``training_step`` during this process's session."""

    def __init__(self) -> None:
        self.tokens = 0
        self.session_start = time.perf_counter()
        self.session_first_step: int | None = None

    def add(self, n: int) -> None:
        self.tokens += n

    def tokens_per_s(self) -> float:
        elapsed = time.perf_counter() - self.session_start
        return self.tokens / elapsed if elapsed > 0 else 0.0


class CountTokensMixin:
    """Mix into a ``Trainer`` subclass to count tokens of every training micro-batch."""

    token_counter: TokenCounter

    def training_step(self, model: Any, inputs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        mask = inputs.get("attention_mask")
        if mask is not None:
            self.token_counter.add(int(mask.sum()))
        elif "input_ids" in inputs:
            self.token_counter.add(int(inputs["input_ids"].numel()))
        return super().training_step(model, inputs, *args, **kwargs)  # type: ignore[misc]


class SimulatedInterruption(Exception):
    """Raised after a checkpoint when ``stop_after_step`` is reached (crash/resume testing)."""


class ProgressCallback(TrainerCallback):
    def __init__(
        self,
        reporter: ProgressReporter,
        counter: TokenCounter,
        *,
        method: str,
        base_model: str,
        resumed_from_step: int | None,
        stop_after_step: int | None = None,
        cancel_check: Any = None,
    ) -> None:
        self.reporter = reporter
        self.counter = counter
        self.method = method
        self.base_model = base_model
        self.resumed_from_step = resumed_from_step
        self.stop_after_step = stop_after_step
        self.cancel_check = cancel_check
        self._t0 = time.perf_counter()
        self._first_step: int | None = None
        self.last_eval: dict[str, float] = {}
        self.last_eval_step: int | None = None

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any
    ) -> None:
        self.counter.session_start = time.perf_counter()
        self.counter.tokens = 0
        self._t0 = time.perf_counter()
        self.reporter.started(self.method, self.base_model, state.max_steps, self.resumed_from_step)

    def on_step_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any
    ) -> None:
        if self._first_step is None:
            self._first_step = state.global_step
            self.counter.session_start = time.perf_counter()
            self._t0 = time.perf_counter()
        if self.cancel_check is not None and self.cancel_check():
            raise Cancelled("training was cancelled")

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, Any] | None = None,
        **kw: Any,
    ) -> None:
        if not logs or "loss" not in logs:
            return
        done = state.global_step - (self._first_step or 0)
        elapsed = time.perf_counter() - self._t0
        eta = (state.max_steps - state.global_step) * (elapsed / done) if done > 0 else 0.0
        self.reporter.step(
            step=state.global_step,
            total_steps=state.max_steps,
            epoch=float(logs.get("epoch", state.epoch or 0.0)),
            loss=float(logs["loss"]),
            learning_rate=float(logs.get("learning_rate", 0.0)),
            tokens_per_s=self.counter.tokens_per_s(),
            eta_s=eta,
        )

    def on_evaluate(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        metrics: dict[str, Any] | None = None,
        **kw: Any,
    ) -> None:
        metrics = metrics or {}
        numeric = {
            k.removeprefix("eval_"): float(v)
            for k, v in metrics.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and k != "eval_loss"
        }
        loss = metrics.get("eval_loss")
        self.last_eval_step = state.global_step
        self.last_eval = {**numeric, **({"eval_loss": float(loss)} if loss is not None else {})}
        self.reporter.eval(state.global_step, float(loss) if loss is not None else None, numeric)

    def on_save(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any
    ) -> None:
        path = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        self.reporter.checkpoint(state.global_step, str(path))
        if self.stop_after_step is not None and state.global_step >= self.stop_after_step:
            raise SimulatedInterruption(f"stopped after checkpoint at step {state.global_step}")
