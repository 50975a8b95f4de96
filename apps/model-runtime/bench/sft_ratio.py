"""SFT tokens/s of the studio runner vs a bare TRL ``SFTTrainer`` script, same configuration.

Usage (from apps/model-runtime):
    .venv/bin/python bench/sft_ratio.py [--model smollm2-135m-instruct]
Each run is a fresh process; runs alternate in ABBA order (ours, bare, bare, ours) and the median is
reported. Both sides use LoRA r=16 on all linear layers, batch 4, 25 steps (= 100 examples),
assistant-only loss, no eval, no mid-run checkpoints, logging every step. Tokens/s is
non-padding tokens / wall time of ``trainer.train()`` on both sides.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QA = [
    ("What is the refund window?", "Refunds are accepted within 30 days of purchase."),
    ("Can I share my password?", "No. Passwords must never be shared with anyone."),
    ("Who approves expenses?", "Expenses are approved by your line manager."),
    ("How many vacation days do I get?", "You get 25 vacation days per year."),
    ("Is remote work allowed?", "Remote work is allowed up to three days a week."),
]
STEPS, BATCH, MAX_LEN, LR, SEED, R = 25, 4, 256, 1e-4, 42, 16


def dataset(path: Path) -> Path:
    with path.open("w") as f:
        for i in range(100):
            q, a = QA[i % len(QA)]
            msgs = [
                {"role": "user", "content": f"{q} (case {i})"},
                {"role": "assistant", "content": f"{a} Reference {i}."},
            ]
            f.write(json.dumps({"messages": msgs}) + "\n")
    return path


def ours(model: str, data: Path, out: Path) -> dict[str, float]:
    from studio_runtime.config import parse_job
    from studio_runtime.data import sha256_file
    from studio_runtime.progress import ProgressReporter
    from studio_runtime.train.runner import run_training

    job = {
        "schema_version": "v1", "run_id": "bench", "tenant_id": "b", "context_id": "b",
        "method": "sft", "base_model": model,
        "dataset": {"train_path": str(data), "eval_path": None, "sha256": sha256_file(data),
                    "format": "conversational"},
        "hyperparameters": {
            "epochs": 1, "max_steps": STEPS, "learning_rate": LR, "batch_size": BATCH,
            "gradient_accumulation_steps": 1, "max_seq_length": MAX_LEN, "seed": SEED,
            "eval_ratio": 0.0, "checkpoint_every_steps": 10_000, "adapter": "lora",
            "lora": {"r": R, "alpha": 2 * R, "dropout": 0.05, "target_modules": "all-linear"},
            "dpo_beta": None,
        },
        "output_dir": str(out),
    }  # fmt: skip
    m = run_training(parse_job(job), ProgressReporter("bench", stream=None))
    return {"tokens": m["train_tokens"], "seconds": m["train_runtime_s"]}


def bare(model: str, data: Path, out: Path) -> dict[str, float]:
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from studio_runtime.models import resolve_base_model

    path = str(resolve_base_model(model))
    tok = AutoTokenizer.from_pretrained(path)
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    cfg = SFTConfig(
        output_dir=str(out), max_steps=STEPS, per_device_train_batch_size=BATCH,
        learning_rate=LR, seed=SEED, data_seed=SEED, logging_steps=1, save_strategy="no",
        eval_strategy="no", report_to="none", use_cpu=True, max_length=MAX_LEN,
        assistant_only_loss=True, disable_tqdm=True,
    )  # fmt: skip
    trainer = SFTTrainer(
        model=AutoModelForCausalLM.from_pretrained(path),
        args=cfg,
        train_dataset=Dataset.from_list(rows),
        processing_class=tok,
        peft_config=LoraConfig(r=R, lora_alpha=2 * R, lora_dropout=0.05,
                               target_modules="all-linear", task_type="CAUSAL_LM"),
    )  # fmt: skip
    t0 = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - t0
    tokens = max(h.get("num_tokens", 0) for h in trainer.state.log_history)
    return {"tokens": float(tokens), "seconds": seconds}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--one", choices=["ours", "bare"])
    ap.add_argument("--data")
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads for both sides (1 is stable on a shared CPU)",
    )
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    if args.one:
        fn = ours if args.one == "ours" else bare
        with tempfile.TemporaryDirectory() as d:
            print(json.dumps(fn(args.model, Path(args.data), Path(d) / "out")))
        return
    with tempfile.TemporaryDirectory() as d:
        data = dataset(Path(d) / "sft.jsonl")
        results: dict[str, list[dict[str, float]]] = {"ours": [], "bare": []}
        for i in range(args.rounds):
            # ABBA order, so that drifting load from other processes hits both sides alike.
            for side in ("ours", "bare") if i % 2 == 0 else ("bare", "ours"):
                proc = subprocess.run(
                    [sys.executable, __file__, "--one", side, "--model", args.model,
                     "--data", str(data), "--threads", str(args.threads)],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                r["tokens_per_s"] = r["tokens"] / r["seconds"]
                results[side].append(r)
                print(side, json.dumps(r), file=sys.stderr, flush=True)
    med = {k: statistics.median(r["tokens_per_s"] for r in v) for k, v in results.items()}
    secs = statistics.median(r["seconds"] for r in results["ours"])
    print(
        json.dumps(
            {
                "model": args.model,
                "threads": args.threads,
                "ours_tokens_per_s": round(med["ours"], 1),
                "bare_trl_tokens_per_s": round(med["bare"], 1),
                "ratio": round(med["ours"] / med["bare"], 3),
                "tokens_checked_equal": [r["tokens"] for r in results["ours"]]
                == [r["tokens"] for r in results["bare"]],
                "seconds_per_100_examples": round(secs, 2),
                "runs": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
