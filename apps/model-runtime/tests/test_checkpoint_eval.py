from __future__ import annotations

import json
from pathlib import Path

import pytest
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

from conftest import POLICY_QA, RUDE, preference_rows, sft_rows, train, write_jsonl
from studio_runtime.paths import repo_root
from studio_runtime.train.checkpoint_eval import held_out_slice, heldout_loss, token_f1

VECTORS = repo_root() / "libs" / "domain" / "auditing" / "src" / "lib" / "token-f1.vectors.json"


def test_token_f1_matches_the_auditors_typescript_metric():
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))
    assert len(vectors) >= 10
    for v in vectors:
        assert token_f1(v["candidate"], v["reference"]) == pytest.approx(v["tokenF1"], abs=1e-12), v


def test_held_out_slice_is_fixed_and_splits_prompt_from_reference(tmp_path):
    path = write_jsonl(tmp_path / "held.jsonl", sft_rows(12))
    a = held_out_slice(path, 5, seed=3)
    assert [i.prompt for i in a] == [i.prompt for i in held_out_slice(path, 5, seed=3)]
    assert len(a) == 5
    for item in a:
        assert item.prompt[-1]["role"] == "user"
        assert (item.prompt[-1]["content"], item.reference) in POLICY_QA
    assert len(held_out_slice(path, 50, seed=3)) == 12


def _job(make_job, tmp_path: Path, held_rows, **ce):
    held = write_jsonl(tmp_path / "held-out.jsonl", held_rows)
    settings = {"every_steps": 4, "items": 4, "max_new_tokens": 16, "early_stop": None, **ce}
    job = make_job("sft", sft_rows(32), checkpoint_eval=settings, max_steps=10, eval_ratio=0.0)
    job["dataset"]["held_out_path"] = str(held)
    return job


def test_checkpoint_evaluations_are_reported_and_in_the_metrics(make_job, tmp_path, tiny_path):
    job = _job(make_job, tmp_path, sft_rows(8))
    metrics, events = train(job)  # every event is validated against the shared schema
    evals = events.of("checkpoint_eval")
    # Before the first step, every 4 steps and at the last one.
    assert [e["step"] for e in evals] == [0, 4, 8, 10]
    assert all(
        e["items"] == 4 and e["total_steps"] == 10 and e["early_stop"] is None for e in evals
    )
    assert all(0 <= e["token_f1"] <= 1 and e["heldout_loss"] > 0 for e in evals)
    # The held-out questions are the training ones here: their reference loss falls.
    assert evals[-1]["heldout_loss"] < evals[0]["heldout_loss"]
    kinds = [(e["event"], e.get("step")) for e in events.events]
    assert kinds.index(("started", None)) < kinds.index(("checkpoint_eval", 0))
    # A step's evaluation follows the step's own event.
    assert kinds.index(("step", 4)) < kinds.index(("checkpoint_eval", 4))
    assert metrics["checkpoint_evals"] == 4
    assert metrics["checkpoint_eval_token_f1"] == pytest.approx(evals[-1]["token_f1"])
    assert metrics["checkpoint_eval_heldout_loss"] == pytest.approx(evals[-1]["heldout_loss"])
    assert "early_stopped" not in metrics and "artifact_step" not in metrics


def test_early_stop_on_regression_keeps_the_best_weights(make_job, tmp_path, tiny_path):
    # References that contradict what the model is trained to answer: their loss rises.
    held = [
        {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": RUDE}]}
        for q, _ in POLICY_QA
    ]
    job = _job(
        make_job,
        tmp_path,
        held,
        every_steps=2,
        early_stop={"metric": "heldout_loss", "patience": 2, "min_delta": 0.0},
    )
    job["hyperparameters"]["max_steps"] = 20
    metrics, events = train(job)
    evals = events.of("checkpoint_eval")
    last = evals[-1]["early_stop"]
    assert last["stopped"] is True and last["regressions"] == 2 and last["patience"] == 2
    assert not any(e["early_stop"]["stopped"] for e in evals[:-1])
    assert evals[-1]["step"] < 20
    assert metrics["early_stopped"] == 1
    assert metrics["early_stop_step"] == evals[-1]["step"]
    assert metrics["total_steps"] == evals[-1]["step"]
    best = min(evals, key=lambda e: e["heldout_loss"])
    assert last["best_step"] == best["step"] == metrics["best_checkpoint_step"]
    assert metrics["artifact_step"] == best["step"]
    # The artifact scores what the best evaluation scored, not what the last one did.
    art = Path(events.of("completed")[0]["artifact_dir"])
    tok = AutoTokenizer.from_pretrained(str(art))
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(str(tiny_path)), art)
    items = held_out_slice(job["dataset"]["held_out_path"], 4, seed=7)
    loss = heldout_loss(model.eval(), tok, items, 128)
    assert loss == pytest.approx(best["heldout_loss"], rel=1e-3)
    assert loss < evals[-1]["heldout_loss"]


def test_a_dpo_run_is_evaluated_too(make_job, tmp_path, tiny_path):
    held = write_jsonl(tmp_path / "held-out.jsonl", sft_rows(8))
    settings = {"every_steps": 2, "items": 3, "max_new_tokens": 8, "early_stop": None}
    job = make_job("dpo", preference_rows(8), checkpoint_eval=settings, max_steps=4, eval_ratio=0.0)
    job["dataset"]["held_out_path"] = str(held)
    metrics, events = train(job)
    assert [(e["step"], e["items"]) for e in events.of("checkpoint_eval")] == [
        (0, 3),
        (2, 3),
        (4, 3),
    ]
    assert metrics["checkpoint_evals"] == 3


def test_a_resumed_run_keeps_the_evaluations_up_to_its_checkpoint(make_job, tmp_path, tiny_path):
    from studio_runtime.train.callbacks import SimulatedInterruption

    job = _job(
        make_job,
        tmp_path,
        sft_rows(8),
        every_steps=2,
        early_stop={"metric": "heldout_loss", "patience": 100, "min_delta": 0.0},
    )
    job["hyperparameters"].update(max_steps=8, checkpoint_every_steps=4)
    with pytest.raises(SimulatedInterruption):
        train(job, stop_after_step=4)
    metrics, events = train(job)
    assert events.of("started")[0]["resumed_from_step"] == 4
    # Steps 0, 2 and 4 were evaluated before the interruption; the resumed attempt does 6 and 8.
    assert [e["step"] for e in events.of("checkpoint_eval")] == [6, 8]
    assert metrics["checkpoint_evals"] == 5
    state = json.loads((Path(job["output_dir"]) / "checkpoint-eval" / "state.json").read_text())
    assert [h["step"] for h in state["history"]] == [0, 2, 4, 6, 8]
    best = min(state["history"], key=lambda h: h["heldout_loss"])
    assert metrics["best_checkpoint_step"] == best["step"] == metrics["artifact_step"]
    assert metrics["early_stopped"] == 0


def test_checkpoint_eval_needs_held_out_questions_and_a_causal_lm(make_job, tmp_path):
    from studio_runtime.config import parse_job
    from studio_runtime.errors import ConfigError

    settings = {"every_steps": 4, "items": 4, "max_new_tokens": 16, "early_stop": None}
    job = make_job("sft", sft_rows(8), checkpoint_eval=settings)
    with pytest.raises(ConfigError, match=r"checkpoint_eval needs dataset\.held_out_path"):
        parse_job(job)
    job["dataset"]["held_out_path"] = "relative.jsonl"
    with pytest.raises(ConfigError, match="held_out_path must be an absolute path"):
        parse_job(job)
    reward = make_job("reward", [], checkpoint_eval=settings)
    reward["dataset"]["held_out_path"] = str(tmp_path / "held.jsonl")
    with pytest.raises(ConfigError, match="a reward model"):
        parse_job(reward)
    bad = make_job("sft", sft_rows(8), checkpoint_eval={**settings, "every_steps": 0})
    with pytest.raises(ConfigError, match="every_steps"):
        parse_job(bad)
    bad = make_job(
        "sft",
        sft_rows(8),
        checkpoint_eval={
            **settings,
            "early_stop": {"metric": "bleu", "patience": 1, "min_delta": 0},
        },
    )
    with pytest.raises(ConfigError, match="metric"):
        parse_job(bad)
