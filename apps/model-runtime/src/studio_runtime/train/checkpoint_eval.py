"""Checkpoint evaluations: a fixed slice of held-out questions answered during training.

Before the first step, every ``every_steps`` steps and at the last step, the model answers the
slice greedily and is scored two ways:

- ``token_f1``: the mean SQuAD token F1 of each answer against its reference answer. It mirrors
  ``tokenF1`` of the auditor (``libs/domain/auditing/src/lib/metrics.ts`` with the tokeniser of
  ``text.ts``) exactly, so a curve here and the release audit's token F1 speak the same language;
  ``tests/test_checkpoint_eval.py`` pins both implementations to the same values.
- ``heldout_loss``: the mean token loss of the reference answers (assistant tokens only).

Each evaluation is a ``checkpoint_eval`` progress event. With ``early_stop`` set, an evaluation
*regresses* when its metric is worse than the best evaluation so far by more than ``min_delta``;
after ``patience`` regressing evaluations in a row training stops. Whenever ``early_stop`` is set
the best evaluation's trainable weights are kept (``checkpoint-eval/best.safetensors``) and
restored before the artifact is written, so the artifact is the best checkpoint.

The tracker's state lives in ``checkpoint-eval/state.json`` so that a resumed run keeps the
evaluations up to its checkpoint (later ones are forgotten and evaluated again).
"""

from __future__ import annotations

import json
import logging
import random
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import regex
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from transformers import (
    PreTrainedTokenizerBase,
    TrainerCallback,
    TrainerControl,
    TrainerState,
    TrainingArguments,
)

from ..config import CheckpointEvalSettings
from ..data import Message, load_conversations, tokenize_conversation
from ..errors import DatasetError
from ..progress import ProgressReporter

log = logging.getLogger(__name__)

# --- token F1, as libs/domain/auditing/src/lib/text.ts and metrics.ts compute it ----------------

_APOSTROPHES = regex.compile("['\u2018\u2019\u02bc`]")
_THOUSANDS = regex.compile(r"(\p{N}),(?=\p{N}{3}(?!\p{N}))")
_TOKEN = regex.compile(r"[\p{L}\p{N}]+(?:\.\p{N}+)*")
_COMBINING = regex.compile(r"\p{M}+")
ARTICLES = frozenset({"a", "an", "the"})


def normalise(text: str) -> str:
    """NFKD, combining marks removed, lower-cased, apostrophes and thousands separators dropped."""
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text)).lower()
    return _THOUSANDS.sub(r"\1", _APOSTROPHES.sub("", text))


def tokenise(text: str) -> list[str]:
    """Runs of letters and digits (a decimal part kept on its number), articles removed."""
    return [t for t in _TOKEN.findall(normalise(text)) if t not in ARTICLES]


def token_f1(candidate: str, reference: str) -> float:
    """SQuAD token F1; both empty: 1; one empty or no overlap: 0."""
    c, r = tokenise(candidate), tokenise(reference)
    if not c or not r:
        return 1.0 if len(c) == len(r) else 0.0
    overlap = sum((Counter(c) & Counter(r)).values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(c), overlap / len(r)
    return 2 * precision * recall / (precision + recall)


# --- the held-out slice ---------------------------------------------------------------------


@dataclass(frozen=True)
class HeldOutItem:
    prompt: list[Message]
    reference: str
    conversation: list[Message]


def held_out_slice(path: str | Path, items: int, seed: int) -> list[HeldOutItem]:
    """``items`` conversations of the held-out file (all when it has fewer), chosen with ``seed``
    and kept in file order: the prompt is everything before the last assistant message, the
    reference is that message."""
    conversations = load_conversations(path)
    chosen = (
        sorted(random.Random(seed).sample(range(len(conversations)), items))
        if len(conversations) > items
        else range(len(conversations))
    )
    out = []
    for i in chosen:
        conv = conversations[i]
        last = max(j for j, m in enumerate(conv) if m["role"] == "assistant")
        if last == 0:
            raise DatasetError(
                f"{path}: held-out conversation {i + 1} has no question before its answer"
            )
        out.append(HeldOutItem(conv[:last], conv[last]["content"], conv[: last + 1]))
    return out


def _stop_ids(tok: PreTrainedTokenizerBase) -> list[int]:
    ids = {tok.eos_token_id} if tok.eos_token_id is not None else set()
    end = tok.convert_tokens_to_ids("<|im_end|>")
    if isinstance(end, int) and end != tok.unk_token_id:
        ids.add(end)
    return sorted(ids)


@torch.no_grad()
def greedy_answers(
    model: Any,
    tok: PreTrainedTokenizerBase,
    prompts: list[list[Message]],
    max_new_tokens: int,
    batch: int = 8,
) -> list[str]:
    """Greedy answers to chat prompts, left-padded in batches of ``batch``."""
    device = next(model.parameters()).device
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    stops = _stop_ids(tok)
    out: list[str] = []
    for start in range(0, len(prompts), batch):
        ids = [
            list(
                tok.apply_chat_template(
                    p, tokenize=True, add_generation_prompt=True, return_dict=True
                )["input_ids"]
            )
            for p in prompts[start : start + batch]
        ]
        width = max(len(x) for x in ids)
        input_ids = torch.tensor([[pad] * (width - len(x)) + x for x in ids], device=device)
        mask = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in ids], device=device)
        gen = model.generate(
            input_ids=input_ids,
            attention_mask=mask,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            temperature=None,
            top_p=None,
            top_k=None,
            pad_token_id=pad,
            eos_token_id=stops,
            use_cache=True,
        )
        out.extend(tok.decode(row, skip_special_tokens=True).strip() for row in gen[:, width:])
    return out


@torch.no_grad()
def heldout_loss(
    model: Any, tok: PreTrainedTokenizerBase, items: list[HeldOutItem], max_len: int
) -> float:
    """Mean token loss of the reference answers (assistant tokens), over the whole slice."""
    device = next(model.parameters()).device
    total, count = 0.0, 0
    for item in items:
        enc = tokenize_conversation(tok, item.conversation)
        ids, mask = enc["input_ids"][:max_len], enc["assistant_masks"][:max_len]
        n = sum(mask[1:])
        if n == 0:
            continue
        labels = [t if m else -100 for t, m in zip(ids, mask, strict=True)]
        out = model(
            input_ids=torch.tensor([ids], device=device),
            labels=torch.tensor([labels], device=device),
        )
        total += float(out.loss) * n
        count += n
    return total / count if count else 0.0


# --- the callback ---------------------------------------------------------------------------


class CheckpointEvaluator(TrainerCallback):
    """Evaluates the held-out slice at step 0, every ``every_steps`` steps and at the last step;
    reports ``checkpoint_eval`` events; stops on regression and keeps the best weights when
    ``early_stop`` is set."""

    def __init__(
        self,
        settings: CheckpointEvalSettings,
        items: list[HeldOutItem],
        tok: PreTrainedTokenizerBase,
        reporter: ProgressReporter,
        state_dir: Path,
        *,
        max_seq_length: int,
        resumed_from_step: int | None,
    ) -> None:
        self.settings = settings
        self.items = items
        self.tok = tok
        self.reporter = reporter
        self.dir = state_dir
        self.max_len = max_seq_length
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None
        self.regressions = 0
        self.stopped_at: int | None = None
        self.seconds: list[float] = []
        if resumed_from_step is not None:
            self._restore(resumed_from_step)

    # state ----------------------------------------------------------------------------------
    def _state_file(self) -> Path:
        return self.dir / "state.json"

    def _best_file(self) -> Path:
        return self.dir / "best.safetensors"

    def _restore(self, resumed_from_step: int) -> None:
        try:
            state = json.loads(self._state_file().read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return
        self.history = [h for h in state.get("history", []) if h["step"] <= resumed_from_step]
        best = state.get("best")
        if (
            best is not None
            and best["step"] <= resumed_from_step
            and self._best_step() == best["step"]
        ):
            self.best = best
            # The regressions since the best, among the evaluations kept.
            self.regressions = 0
            for h in self.history:
                if h["step"] > best["step"]:
                    self.regressions = self.regressions + 1 if self._regressed(h) else 0

    def _best_step(self) -> int | None:
        """The step whose weights ``best.safetensors`` holds (None without the file)."""
        if not self._best_file().is_file():
            return None
        with safe_open(str(self._best_file()), framework="pt") as f:
            step = (f.metadata() or {}).get("step")
        return int(step) if step is not None else None

    def _save_state(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self._state_file().with_suffix(".tmp")
        tmp.write_text(json.dumps({"history": self.history, "best": self.best}), encoding="utf-8")
        tmp.replace(self._state_file())

    def _metric(self, scores: dict[str, Any]) -> float:
        assert self.settings.early_stop is not None
        return float(scores[self.settings.early_stop.metric])

    def _better(self, a: float, b: float) -> bool:
        assert self.settings.early_stop is not None
        return a > b if self.settings.early_stop.metric == "token_f1" else a < b

    def _regressed(self, scores: dict[str, Any]) -> bool:
        es = self.settings.early_stop
        if es is None or self.best is None:
            return False
        value, best = self._metric(scores), float(self.best["value"])
        worse_by = best - value if es.metric == "token_f1" else value - best
        return worse_by > es.min_delta

    # evaluation -----------------------------------------------------------------------------
    def evaluate(self, model: Any) -> dict[str, float]:
        was_training = model.training
        model.eval()
        t0 = time.perf_counter()
        try:
            answers = greedy_answers(
                model, self.tok, [i.prompt for i in self.items], self.settings.max_new_tokens
            )
            f1 = sum(token_f1(a, i.reference) for a, i in zip(answers, self.items, strict=True))
            loss = heldout_loss(model, self.tok, self.items, self.max_len)
        finally:
            if was_training:
                model.train()
        return {
            "token_f1": f1 / len(self.items),
            "heldout_loss": loss,
            "seconds": time.perf_counter() - t0,
        }

    def _run(self, step: int, total_steps: int, model: Any, control: TrainerControl) -> None:
        if any(h["step"] == step for h in self.history):
            return
        scores = self.evaluate(model)
        self.seconds.append(scores["seconds"])
        self.history.append({"step": step, **scores})
        es = self.settings.early_stop
        early: dict[str, Any] | None = None
        if es is not None:
            value = self._metric(scores)
            if self.best is None or self._better(value, float(self.best["value"])):
                self.best = {"step": step, "value": value}
                self.regressions = 0
                self._keep_best(model, step)
            elif self._regressed(scores):
                self.regressions += 1
            else:
                self.regressions = 0
            stopped = self.regressions >= es.patience
            if stopped:
                self.stopped_at = step
                control.should_training_stop = True
            early = {
                "metric": es.metric,
                "best_step": int(self.best["step"]),
                "best_value": float(self.best["value"]),
                "regressions": self.regressions,
                "patience": es.patience,
                "stopped": stopped,
            }
        self._save_state()
        self.reporter.checkpoint_eval(
            step=step,
            total_steps=total_steps,
            items=len(self.items),
            token_f1=scores["token_f1"],
            heldout_loss=scores["heldout_loss"],
            seconds=scores["seconds"],
            early_stop=early,
        )

    def _keep_best(self, model: Any, step: int) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        weights = {
            n: p.detach().to("cpu").contiguous().clone()
            for n, p in model.named_parameters()
            if p.requires_grad
        }
        tmp = self._best_file().with_suffix(".tmp")
        save_file(weights, str(tmp), metadata={"step": str(step)})
        tmp.replace(self._best_file())

    def restore_best(self, model: Any) -> int | None:
        """Load the best evaluation's weights into ``model``; its step, or None without one."""
        if self.settings.early_stop is None or self.best is None:
            return None
        if self._best_step() != self.best["step"]:
            raise RuntimeError(
                f"the kept weights are not those of the best evaluation (step {self.best['step']})"
            )
        weights = load_file(str(self._best_file()))
        params = dict(model.named_parameters())
        missing = [n for n in weights if n not in params]
        if missing:
            raise RuntimeError(f"best checkpoint weights do not fit the model: {missing[:3]}")
        with torch.no_grad():
            for n, t in weights.items():
                params[n].copy_(t.to(params[n].device, params[n].dtype))
        return int(self.best["step"])

    def metrics(self) -> dict[str, float]:
        """What the run's metrics say about its checkpoint evaluations."""
        if not self.history:
            return {}
        last = self.history[-1]
        out = {
            "checkpoint_evals": float(len(self.history)),
            "checkpoint_eval_items": float(len(self.items)),
            "checkpoint_eval_token_f1": float(last["token_f1"]),
            "checkpoint_eval_heldout_loss": float(last["heldout_loss"]),
        }
        if self.seconds:
            out["checkpoint_eval_mean_s"] = sum(self.seconds) / len(self.seconds)
        if self.settings.early_stop is not None:
            out["early_stopped"] = 1.0 if self.stopped_at is not None else 0.0
            if self.stopped_at is not None:
                out["early_stop_step"] = float(self.stopped_at)
            if self.best is not None:
                out["best_checkpoint_step"] = float(self.best["step"])
                out[f"best_checkpoint_{self.settings.early_stop.metric}"] = float(
                    self.best["value"]
                )
        return out

    # trainer hooks --------------------------------------------------------------------------
    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any
    ) -> None:
        if state.global_step == 0:
            self._run(0, state.max_steps, kw["model"], control)

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, Any] | None = None,
        **kw: Any,
    ) -> None:
        # After the step's own progress event (a training log carries "loss"), so that a stream
        # of events stays in step order; stopping here still ends training before the next step.
        if not logs or "loss" not in logs:
            return
        step = state.global_step
        if step % self.settings.every_steps == 0 or step >= state.max_steps:
            self._run(step, state.max_steps, kw["model"], control)
