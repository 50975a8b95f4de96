"""DPO-after-SFT experiment on a framed context's examples.

    # 1. the examples ({split, example} JSON lines) and clauses, from the repository root:
    node -r @swc-node/register bench/dpo/frame-examples.ts /tmp/dpo
    # 2. SFT with the pipeline's defaults (or reuse an SFT artifact):
    .venv/bin/studio-runtime train sft --base-model smollm2-135m-instruct \
        --train /tmp/dpo/sft-train.jsonl --output-dir /tmp/dpo/sft --max-steps 40 \
        --learning-rate 5e-4 --max-seq-length 320 --eval-ratio 0
    # 3. answers of the SFT adapter, then DPO from it and the DPO adapter's answers:
    .venv/bin/python bench/dpo_experiment.py answer --examples /tmp/dpo/examples.jsonl \
        --adapter /tmp/dpo/sft/artifact --out /tmp/dpo/answers-sft.json
    .venv/bin/python bench/dpo_experiment.py dpo --examples /tmp/dpo/examples.jsonl \
        --sft /tmp/dpo/sft/artifact --out /tmp/dpo/dpo-b0.1 --beta 0.1 --learning-rate 5e-5 \
        --max-steps 30 --mix violating,compliant
    # 4. scores with the auditor's functions, from the repository root:
    node -r @swc-node/register bench/dpo/score-answers.ts /tmp/dpo sft=/tmp/dpo/answers-sft.json \
        dpo=/tmp/dpo/dpo-b0.1/answers.json

Synthetic pairs: every train example with a ``rejected`` answer gives a pair (prompt = the
dataset's system prompt + the question, chosen = the grounded answer, rejected = the example's
contradicting answer). ``--mix`` picks the examples by label (``violating``, ``compliant``,
``ambiguous`` scenarios) or kind (``qa``). The script also prints, for the held-out items, the
mean log-probability margin log p(reference) - log p(rejected) under each adapter, and the minimal
margin log p(reference) - log p(reference with only its verdict reversed) with the share of items
where it is positive: finer signals than the greedy answers on a handful of items, the second one
about the verdict alone.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from studio_runtime import models
from studio_runtime.data import sha256_file

MAX_NEW_TOKENS = 112  # the audit's default answer length (apps/studio ALIGN_DEFAULTS.maxTokens)


def read_examples(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    train = [r["example"] for r in rows if r["split"] == "train"]
    held = [r["example"] for r in rows if r["split"] == "heldOut"]
    return train, held


def system_prompt(examples_path: Path) -> str:
    return (examples_path.parent / "system-prompt.txt").read_text("utf-8")


def group_of(example: dict[str, Any]) -> str:
    return example["label"] or example["kind"]


VERDICT_FLIPS = (
    (re.compile(r"^No\b"), "Yes"),
    (re.compile(r"^Yes\b"), "No"),
)
PHRASE_FLIPS = (("violates", "complies with"), ("complies with", "violates"))


def flipped_verdict(answer: str) -> str | None:
    """The answer with only its opening verdict reversed ("No, this violates ..." -> "Yes, this
    complies with ...", "Yes. Employees may ..." -> "No. Employees may ..."), the rest verbatim:
    a minimal pair whose only difference is the verdict. None when it opens with no verdict."""
    for pattern, repl in VERDICT_FLIPS:
        if pattern.match(answer):
            head, sep, tail = answer.partition(".")
            for a, b in PHRASE_FLIPS:
                if a in head:
                    head = head.replace(a, b, 1)
                    break
            return pattern.sub(repl, head, count=1) + sep + tail
    return None


def preference_rows(
    examples: list[dict[str, Any]], system: str, mix: set[str], minimal: bool = False
) -> list[dict]:
    out = []
    for e in examples:
        if e.get("rejected") is None or group_of(e) not in mix:
            continue
        rejected = e["rejected"]
        if minimal:
            rejected = flipped_verdict(e["answer"]) or rejected
        out.append(
            {
                "prompt": [
                    {"role": "system", "content": system},
                    {"role": "user", "content": e["question"]},
                ],
                "chosen": [{"role": "assistant", "content": e["answer"]}],
                "rejected": [{"role": "assistant", "content": rejected}],
                "weight": 1.0,
                "values": list(e.get("values") or []),
                "preference_id": e["id"],
                "clause_ids": list(e["clauseIds"]),
            }
        )
    return out


STANCE = re.compile(r"^\s*(yes|no)\b", re.IGNORECASE)


def balance_verdicts(rows: list[dict]) -> list[dict]:
    """Reweights the pairs so that those whose chosen answer opens with "Yes" weigh as much in all
    as those opening with "No" (pairs with neither keep their weight): DPO then cannot lower its
    loss by moving every answer's opening verdict one way."""

    def stance(r: dict) -> str | None:
        m = STANCE.match(r["chosen"][-1]["content"])
        return m.group(1).lower() if m else None

    totals = {"yes": 0.0, "no": 0.0}
    for r in rows:
        s = stance(r)
        if s:
            totals[s] += r["weight"]
    if not totals["yes"] or not totals["no"]:
        return rows
    target = (totals["yes"] + totals["no"]) / 2
    out = []
    for r in rows:
        s = stance(r)
        out.append({**r, "weight": r["weight"] * target / totals[s]} if s else r)
    print(
        f"verdict balance: chosen yes {totals['yes']:.1f}, no {totals['no']:.1f}"
        f" -> {target:.1f} each"
    )
    return out


def load_policy(adapter: Path) -> tuple[Any, Any]:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    run = json.loads((adapter / "run.json").read_text("utf-8"))
    base_path = models.resolve_base_model(run["base_model"])
    tok = models.load_tokenizer(base_path)
    base = AutoModelForCausalLM.from_pretrained(str(base_path), dtype=torch.float32)
    model = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
    model.eval()
    return model, tok


@torch.no_grad()
def answer(model: Any, tok: Any, system: str, items: list[dict], batch: int = 16) -> dict:
    tok.padding_side = "left"
    out: dict[str, str] = {}
    for i in range(0, len(items), batch):
        chunk = items[i : i + batch]
        texts = [
            tok.apply_chat_template(
                [{"role": "system", "content": system}, {"role": "user", "content": e["question"]}],
                tokenize=False,
                add_generation_prompt=True,
            )
            for e in chunk
        ]
        enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        gen = model.generate(
            **enc,
            max_new_tokens=MAX_NEW_TOKENS,
            do_sample=False,
            pad_token_id=tok.pad_token_id,
        )
        for e, ids in zip(chunk, gen[:, enc["input_ids"].shape[1] :], strict=True):
            out[e["id"]] = tok.decode(ids, skip_special_tokens=True).strip()
        print(f"answered {len(out)}/{len(items)}", file=sys.stderr, flush=True)
    return out


@torch.no_grad()
def margins(model: Any, tok: Any, system: str, items: list[dict]) -> dict[str, float]:
    """log p(reference answer) - log p(rejected answer) per item with a rejected answer."""
    out = {}
    for e in items:
        if e.get("rejected") is None:
            continue
        prompt = [{"role": "system", "content": system}, {"role": "user", "content": e["question"]}]
        n_prompt = len(
            tok.apply_chat_template(
                prompt, tokenize=True, add_generation_prompt=True, return_dict=True
            )["input_ids"]
        )
        lps = []
        for text in (e["answer"], e["rejected"]):
            ids = tok.apply_chat_template(
                [*prompt, {"role": "assistant", "content": text}],
                tokenize=True,
                return_dict=True,
            )["input_ids"]
            logits = model(input_ids=torch.tensor([ids])).logits[0, :-1].float()
            lp = torch.log_softmax(logits, -1).gather(1, torch.tensor(ids[1:])[:, None])[:, 0]
            lps.append(float(lp[n_prompt - 1 :].sum()))
        out[e["id"]] = lps[0] - lps[1]
    return out


def evaluate(adapter: Path, examples: Path, out: Path) -> dict[str, Any]:
    _, held = read_examples(examples)
    system = system_prompt(examples)
    model, tok = load_policy(adapter)
    t0 = time.perf_counter()
    answers = answer(model, tok, system, held)
    m = margins(model, tok, system, held)
    # The minimal margin: the reference against itself with only its verdict reversed, so that
    # the verdict is all that differs (items whose reference opens with no verdict have none).
    flipped = [{**e, "rejected": flipped_verdict(e["answer"])} for e in held]
    minimal = margins(model, tok, system, flipped)

    def by_group(values: dict[str, float]) -> dict[str, list[float]]:
        groups: dict[str, list[float]] = {}
        for e in held:
            if e["id"] in values:
                groups.setdefault(group_of(e), []).append(values[e["id"]])
        return dict(sorted(groups.items()))

    summary = {g: sum(v) / len(v) for g, v in by_group(m).items()}
    minimal_groups = by_group(minimal)
    result = {
        "adapter": str(adapter),
        "answers": answers,
        "margins": m,
        "mean_margin": summary,
        "minimal_margins": minimal,
        "mean_minimal_margin": {g: sum(v) / len(v) for g, v in minimal_groups.items()},
        "minimal_positive": {g: sum(x > 0 for x in v) / len(v) for g, v in minimal_groups.items()},
        "eval_s": time.perf_counter() - t0,
    }
    out.write_text(json.dumps(result, indent=1), "utf-8")
    print(json.dumps({"adapter": str(adapter), "mean_margin": summary}), flush=True)
    return result


def run_dpo(ns: argparse.Namespace) -> None:
    from studio_runtime.config import parse_job
    from studio_runtime.progress import ProgressReporter
    from studio_runtime.train.runner import run_training

    if ns.prefs is not None:
        # The synthetic pairs as the pipeline makes them (bench/dpo/frame-examples.ts:
        # syntheticPreferences + aggregatePreferences + toTrlJsonl), filtered by rejected kind.
        kinds = json.loads((ns.prefs.parent / "synthetic-kinds.json").read_text("utf-8"))
        wanted = set(ns.kinds.split(","))
        rows = [
            r
            for r in map(json.loads, ns.prefs.read_text("utf-8").splitlines())
            if kinds[r["preference_id"]]["kind"] in wanted
        ]
        if ns.unweighted:
            rows = [{**r, "weight": 1.0} for r in rows]
        ns.mix = f"synthetic {ns.kinds}{' unweighted' if ns.unweighted else ''}"
    else:
        train_ex, _ = read_examples(ns.examples)
        rows = preference_rows(
            train_ex, system_prompt(ns.examples), set(ns.mix.split(",")), ns.minimal_pairs
        )
        if ns.minimal_pairs:
            ns.mix += " minimal pairs"
    if ns.scenario_weight != 1.0:
        # A scenario's pair: by its example id (the bench's own pairs), or by the label of the
        # example a synthetic preference came from (--prefs rows carry the preference id).
        if ns.prefs is not None:
            labels = json.loads((ns.prefs.parent / "synthetic-kinds.json").read_text("utf-8"))
            scenario = {p for p, k in labels.items() if k["label"] not in (None, "qa")}
        else:
            scenario = {e["id"] for e in read_examples(ns.examples)[0] if e["kind"] == "scenario"}
        rows = [
            {**r, "weight": r["weight"] * ns.scenario_weight}
            if r["preference_id"] in scenario
            else r
            for r in rows
        ]
        ns.mix += f" scenario pairs x{ns.scenario_weight}"
    if ns.balance_verdicts:
        rows = balance_verdicts(rows)
        ns.mix += " verdict-balanced"
    out = Path(ns.out)
    out.mkdir(parents=True, exist_ok=True)
    prefs = out / "preferences.jsonl"
    prefs.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    sft_run = json.loads((ns.sft / "run.json").read_text("utf-8"))
    job = {
        "schema_version": "v1",
        "run_id": f"dpo-{out.name}",
        "tenant_id": "bench",
        "context_id": "bench",
        "method": "dpo",
        "base_model": sft_run["base_model"],
        "dataset": {
            "train_path": str(prefs),
            "eval_path": None,
            "sha256": sha256_file(prefs),
            "format": "preference",
        },
        "hyperparameters": {
            **sft_run["config"]["hyperparameters"],
            "max_steps": ns.max_steps,
            "learning_rate": ns.learning_rate,
            "batch_size": ns.batch_size,
            "gradient_accumulation_steps": 1,
            "eval_ratio": 0.0,
            "checkpoint_every_steps": 10_000,
            "dpo_beta": ns.beta,
            "dpo_sft_weight": ns.sft_weight,
            "seed": ns.seed,
        },
        "output_dir": str(out / "run"),
        "init_adapter": str(ns.sft),
    }
    print(
        f"{len(rows)} pairs ({ns.mix}); beta {ns.beta}, lr {ns.learning_rate}, "
        f"sft weight {ns.sft_weight}, {ns.max_steps} steps of {ns.batch_size}",
        flush=True,
    )
    with (out / "progress.jsonl").open("w") as f:
        reporter = ProgressReporter(job["run_id"], stream=f)
        metrics = run_training(parse_job(job), reporter)
    print(json.dumps({"dpo_metrics": metrics}), flush=True)
    evaluate(out / "run" / "artifact", ns.examples, out / "answers.json")


def main() -> None:
    # One intra-op thread: on a shared, busy CPU a team of OpenMP threads spends its time at
    # barriers (see the README's serving notes); STUDIO_BENCH_THREADS overrides.
    torch.set_num_threads(int(os.environ.get("STUDIO_BENCH_THREADS", "1")))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("answer", help="answers and margins of one adapter on the held-out items")
    a.add_argument("--examples", type=Path, required=True)
    a.add_argument("--adapter", type=Path, required=True)
    a.add_argument("--out", type=Path, required=True)
    d = sub.add_parser("dpo", help="DPO from an SFT adapter on synthetic pairs, then answers")
    d.add_argument("--examples", type=Path, required=True)
    d.add_argument("--sft", type=Path, required=True)
    d.add_argument("--out", type=Path, required=True)
    d.add_argument("--beta", type=float, default=0.1)
    d.add_argument("--sft-weight", type=float, default=0.0, help="RPO: chosen NLL weight")
    d.add_argument("--learning-rate", type=float, default=5e-5)
    d.add_argument("--max-steps", type=int, default=30)
    d.add_argument("--batch-size", type=int, default=4)
    d.add_argument("--seed", type=int, default=42)
    d.add_argument("--mix", default="violating,compliant,ambiguous,qa")
    d.add_argument("--prefs", type=Path, help="synthetic-prefs.jsonl from frame-examples.ts")
    d.add_argument("--kinds", default="violating,contradicting,ungrounded,refusing")
    d.add_argument("--unweighted", action="store_true")
    d.add_argument("--balance-verdicts", action="store_true", help="see balance_verdicts")
    d.add_argument("--scenario-weight", type=float, default=1.0, help="weight of scenario pairs")
    d.add_argument(
        "--minimal-pairs",
        action="store_true",
        help="rejected = the chosen answer with only its opening verdict reversed",
    )
    ns = p.parse_args()
    if ns.cmd == "answer":
        evaluate(ns.adapter, ns.examples, ns.out)
    else:
        run_dpo(ns)


if __name__ == "__main__":
    main()
