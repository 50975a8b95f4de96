from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ["STUDIO_VALIDATE_PROGRESS"] = "1"

from studio_runtime.data import sha256_file

POLICY_QA = [
    ("What is the refund window?", "Refunds are accepted within 30 days of purchase."),
    ("Can I share my password?", "No. Passwords must never be shared with anyone."),
    ("Who approves expenses?", "Expenses are approved by your line manager."),
    ("How many vacation days do I get?", "You get 25 vacation days per year."),
]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def sft_rows(n: int = 32) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        q, a = POLICY_QA[i % len(POLICY_QA)]
        rows.append(
            {
                "messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}],
                "clause_ids": [f"c{i % len(POLICY_QA)}"],
            }
        )
    return rows


RUDE = "Whatever. Figure it out yourself, idiot!!"


def preference_row(
    question: str, chosen: str, rejected: str, *, weight: float = 1.0, pid: str = "p0"
) -> dict[str, Any]:
    """One row of ``runtime/preference-row.v1`` (what ``load_preferences`` reads)."""
    return {
        "prompt": [{"role": "user", "content": question}],
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": rejected}],
        "weight": weight,
        "values": ["helpfulness"],
        "preference_id": pid,
        "clause_ids": [],
    }


def pair_text(row: dict[str, Any]) -> tuple[str, str, str]:
    """The question, chosen and rejected answer of a preference row."""
    return row["prompt"][-1]["content"], row["chosen"][0]["content"], row["rejected"][0]["content"]


def preference_rows(n: int = 24) -> list[dict[str, Any]]:
    """Separable pairs: the chosen answer is polite and on-policy, the rejected one is rude."""
    rows = []
    for i in range(n):
        q, a = POLICY_QA[i % len(POLICY_QA)]
        rows.append(preference_row(q, a, RUDE, pid=f"p{i}"))
    return rows


@pytest.fixture(scope="session")
def tiny_path() -> Path:
    from studio_runtime.models import build_tiny

    return build_tiny()


@pytest.fixture
def make_job(tmp_path: Path) -> Callable[..., dict[str, Any]]:
    def _make(
        method: str,
        rows: list[dict[str, Any]],
        *,
        name: str = "run",
        eval_rows: list[dict[str, Any]] | None = None,
        **hp: Any,
    ) -> dict[str, Any]:
        train = write_jsonl(tmp_path / f"{name}-train.jsonl", rows)
        eval_path = (
            str(write_jsonl(tmp_path / f"{name}-eval.jsonl", eval_rows)) if eval_rows else None
        )
        hyper: dict[str, Any] = {
            "epochs": 1,
            "max_steps": 10,
            "learning_rate": 1e-2,
            "batch_size": 4,
            "gradient_accumulation_steps": 1,
            "max_seq_length": 128,
            "seed": 7,
            "eval_ratio": 0.0 if eval_rows else 0.125,
            "checkpoint_every_steps": 5,
            "adapter": "lora",
            "lora": {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": "all-linear"},
            "dpo_beta": None,
        }
        hyper.update(hp)
        return {
            "schema_version": "v1",
            "run_id": f"test-{name}",
            "tenant_id": "t1",
            "context_id": "ctx1",
            "method": method,
            "base_model": "tiny",
            "dataset": {
                "train_path": str(train),
                "eval_path": eval_path,
                "sha256": sha256_file(train),
                "format": "conversational" if method == "sft" else "preference",
            },
            "hyperparameters": hyper,
            "output_dir": str(tmp_path / f"{name}-out"),
        }

    return _make


class Collect:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == kind]


def train(job_data: dict[str, Any], **kwargs: Any) -> tuple[dict[str, float], Collect]:
    from studio_runtime.config import parse_job
    from studio_runtime.progress import ProgressReporter
    from studio_runtime.train.runner import run_training

    sink = Collect()
    reporter = ProgressReporter(job_data["run_id"], sink=sink, validate=True)
    metrics = run_training(parse_job(job_data), reporter, **kwargs)
    return metrics, sink
