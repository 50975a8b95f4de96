"""Cost of one checkpoint evaluation (hyperparameters.checkpoint_eval) for a base model.

    python bench/checkpoint_eval_cost.py HELD_OUT.jsonl [--model tiny|smollm2-135m-instruct]
        [--items 8] [--max-new-tokens 112] [--repeats 3]

Loads the base model with a fresh LoRA adapter (as training does), then times the evaluation of
the held-out slice: greedy answers plus the reference loss. Prints one JSON line with the wall
time and the process's CPU time of each repeat.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from peft import LoraConfig, TaskType, get_peft_model

from studio_runtime import models
from studio_runtime.config import CheckpointEvalSettings
from studio_runtime.progress import ProgressReporter
from studio_runtime.train.checkpoint_eval import CheckpointEvaluator, held_out_slice


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("held_out")
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--items", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=112)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-seq-length", type=int, default=320)
    a = ap.parse_args()
    path = models.resolve_base_model(a.model)
    tok = models.load_tokenizer(path)
    model = models.load_for_training(path, quantize_4bit=False)
    model = get_peft_model(
        model,
        LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type=TaskType.CAUSAL_LM),
    )
    settings = CheckpointEvalSettings(
        every_steps=20, items=a.items, max_new_tokens=a.max_new_tokens
    )
    evaluator = CheckpointEvaluator(
        settings,
        held_out_slice(a.held_out, a.items, 42),
        tok,
        ProgressReporter("bench", validate=False),
        Path("/tmp/checkpoint-eval-bench"),
        max_seq_length=a.max_seq_length,
        resumed_from_step=None,
    )
    runs, cpu = [], []
    for _ in range(a.repeats):
        c0 = time.process_time()
        runs.append(evaluator.evaluate(model))
        cpu.append(time.process_time() - c0)
    print(
        json.dumps(
            {
                "model": a.model,
                "device": "cuda" if torch.cuda.is_available() else "cpu",
                "threads": torch.get_num_threads(),
                "items": a.items,
                "max_new_tokens": a.max_new_tokens,
                "seconds": [round(r["seconds"], 2) for r in runs],
                "median_s": round(statistics.median(r["seconds"] for r in runs), 2),
                # CPU time of the process: what the evaluation costs where the machine is shared.
                "cpu_s": [round(c, 2) for c in cpu],
                "token_f1": round(runs[-1]["token_f1"], 4),
                "heldout_loss": round(runs[-1]["heldout_loss"], 4),
            }
        )
    )


if __name__ == "__main__":
    main()
