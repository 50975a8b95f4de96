"""Reward-model experiment on a framed context's examples: held-out pairwise accuracy, and how
the reward separates compliant from violating answers on the held-out scenarios.

    # 1. the examples and the pipeline's synthetic pairs (see dpo_experiment.py, step 1)
    # 2. train a reward model on the synthetic pairs of the train split, evaluate on held-out pairs:
    .venv/bin/python bench/reward_experiment.py --examples /tmp/dpo/examples.jsonl \
        --prefs /tmp/dpo/synthetic-prefs.jsonl --out /tmp/dpo/reward --max-steps 60

Held-out pairs are made from the held-out examples as the synthetic pairs are from the train
split: the grounded reference answer (chosen) against the example's own contradicting answer
(rejected). The training run reports ``pairwise_accuracy`` on them. Then every held-out scenario is
scored twice: its reference answer and its opposite-verdict answer. On a violating scenario the
reference advises against the violation (a compliant answer) and the opposite endorses it (a
violating answer); on a compliant scenario the opposite needlessly forbids it. The script prints
the mean reward of each, per scenario label, and the share of scenarios whose compliant answer
outscores the violating one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dpo_experiment import group_of, preference_rows, read_examples, system_prompt
from studio_runtime import models
from studio_runtime.data import sha256_file


def write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")


@torch.no_grad()
def score(artifact: Path, system: str, pairs: list[tuple[str, str]]) -> list[float]:
    from peft import PeftModel
    from transformers import AutoModelForSequenceClassification

    run = json.loads((artifact / "run.json").read_text("utf-8"))
    tok = models.load_tokenizer(artifact)
    base = AutoModelForSequenceClassification.from_pretrained(run["base_model_path"], num_labels=1)
    base.config.pad_token_id = tok.pad_token_id
    model = PeftModel.from_pretrained(base, str(artifact)).eval()
    out = []
    for question, answer in pairs:
        ids = tok.apply_chat_template(
            [
                {"role": "system", "content": system},
                {"role": "user", "content": question},
                {"role": "assistant", "content": answer},
            ],
            tokenize=True,
            return_dict=True,
        )["input_ids"]
        out.append(float(model(input_ids=torch.tensor([ids])).logits[0, 0]))
    return out


def main() -> None:
    torch.set_num_threads(int(os.environ.get("STUDIO_BENCH_THREADS", "1")))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--examples", type=Path, required=True)
    p.add_argument("--prefs", type=Path, required=True, help="synthetic-prefs.jsonl (train split)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--max-steps", type=int, default=60)
    p.add_argument("--learning-rate", type=float, default=1e-4)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--max-seq-length", type=int, default=320)
    p.add_argument("--seed", type=int, default=42)
    ns = p.parse_args()

    from studio_runtime.config import parse_job
    from studio_runtime.progress import ProgressReporter
    from studio_runtime.train.runner import run_training

    _, held = read_examples(ns.examples)
    system = system_prompt(ns.examples)
    ns.out.mkdir(parents=True, exist_ok=True)
    held_rows = preference_rows(held, system, {"qa", "violating", "compliant", "ambiguous"})
    held_path = ns.out / "held-out-pairs.jsonl"
    write_rows(held_path, held_rows)
    job = {
        "schema_version": "v1",
        "run_id": f"reward-{ns.out.name}",
        "tenant_id": "bench",
        "context_id": "bench",
        "method": "reward",
        "base_model": "smollm2-135m-instruct",
        "dataset": {
            "train_path": str(ns.prefs),
            "eval_path": str(held_path),
            "sha256": sha256_file(ns.prefs),
            "format": "preference",
        },
        "hyperparameters": {
            "epochs": 1,
            "max_steps": ns.max_steps,
            "learning_rate": ns.learning_rate,
            "batch_size": ns.batch_size,
            "gradient_accumulation_steps": 1,
            "max_seq_length": ns.max_seq_length,
            "seed": ns.seed,
            "eval_ratio": 0.0,
            "checkpoint_every_steps": 10_000,
            "adapter": "lora",
            "lora": {"r": 16, "alpha": 32, "dropout": 0.05, "target_modules": "all-linear"},
            "dpo_beta": None,
        },
        "output_dir": str(ns.out / "run"),
    }
    train_pairs = sum(1 for line in ns.prefs.read_text("utf-8").splitlines() if line.strip())
    print(
        f"{train_pairs} train pairs, {len(held_rows)} held-out pairs; lr {ns.learning_rate}, "
        f"{ns.max_steps} steps of {ns.batch_size}",
        flush=True,
    )
    with (ns.out / "progress.jsonl").open("w") as f:
        metrics = run_training(parse_job(job), ProgressReporter(job["run_id"], stream=f))
    print(json.dumps({"reward_metrics": metrics}), flush=True)

    t0 = time.perf_counter()
    scenarios = [e for e in held if e["kind"] == "scenario" and e.get("rejected")]
    texts = [(e["question"], a) for e in scenarios for a in (e["answer"], e["rejected"])]
    scores = score(ns.out / "run" / "artifact", system, texts)
    by_label: dict[str, dict[str, Any]] = {}
    rows = []
    for i, e in enumerate(scenarios):
        ref, opp = scores[2 * i], scores[2 * i + 1]
        g = by_label.setdefault(group_of(e), {"n": 0, "ref": 0.0, "opposite": 0.0, "ref_wins": 0})
        g["n"] += 1
        g["ref"] += ref
        g["opposite"] += opp
        g["ref_wins"] += int(ref > opp)
        rows.append({"id": e["id"], "label": group_of(e), "reference": ref, "opposite": opp})
    summary = {
        label: {
            "scenarios": g["n"],
            "mean_reward_reference": round(g["ref"] / g["n"], 3),
            "mean_reward_opposite": round(g["opposite"] / g["n"], 3),
            "reference_outscores_opposite": f"{g['ref_wins']}/{g['n']}",
        }
        for label, g in sorted(by_label.items())
    }
    (ns.out / "scenario-rewards.json").write_text(
        json.dumps({"summary": summary, "scenarios": rows}, indent=1), "utf-8"
    )
    print(
        json.dumps(
            {
                "pairwise_accuracy": metrics.get("pairwise_accuracy"),
                "held_out_pairs": metrics.get("pairwise_accuracy_pairs"),
                "scenarios": summary,
                "score_s": round(time.perf_counter() - t0, 1),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
