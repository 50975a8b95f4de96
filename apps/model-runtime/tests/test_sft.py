from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

from conftest import POLICY_QA, sft_rows, train


@pytest.fixture(scope="module")
def sft_run(tmp_path_factory, tiny_path):
    from conftest import sha256_file, write_jsonl

    d = tmp_path_factory.mktemp("sft")
    rows = sft_rows(32)
    path = write_jsonl(d / "train.jsonl", rows)
    job = {
        "schema_version": "v1",
        "run_id": "sft-accept",
        "tenant_id": "t1",
        "context_id": "c1",
        "method": "sft",
        "base_model": "tiny",
        "dataset": {
            "train_path": str(path),
            "eval_path": None,
            "sha256": sha256_file(path),
            "format": "conversational",
        },
        "hyperparameters": {
            "epochs": 1,
            "max_steps": 60,
            "learning_rate": 3e-3,
            "batch_size": 4,
            "gradient_accumulation_steps": 1,
            "max_seq_length": 128,
            "seed": 7,
            "eval_ratio": 0.125,
            "checkpoint_every_steps": 30,
            "adapter": "lora",
            "lora": {"r": 64, "alpha": 128, "dropout": 0.0, "target_modules": "all-linear"},
            "dpo_beta": None,
        },
        "output_dir": str(d / "out"),
    }
    metrics, events = train(job)
    return job, metrics, events


def _answer_nll(model, tok, q: str, a: str) -> float:
    msgs = [{"role": "user", "content": q}]
    prompt = tok.apply_chat_template(msgs, add_generation_prompt=True, return_dict=True)[
        "input_ids"
    ]
    full = tok.apply_chat_template([*msgs, {"role": "assistant", "content": a}], return_dict=True)[
        "input_ids"
    ]
    ids = torch.tensor([full])
    labels = ids.clone()
    labels[0, : len(prompt)] = -100
    with torch.no_grad():
        return float(model(input_ids=ids, labels=labels).loss)


def _greedy(model, tok, q: str) -> str:
    enc = tok.apply_chat_template(
        [{"role": "user", "content": q}],
        add_generation_prompt=True,
        return_dict=True,
        return_tensors="pt",
    )
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=16, do_sample=False)
    return str(tok.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True))


def test_sft_loss_falls_and_events(sft_run):
    _, metrics, events = sft_run
    steps = events.of("step")
    assert len(steps) == 60
    first = sum(e["loss"] for e in steps[:5]) / 5
    last = sum(e["loss"] for e in steps[-5:]) / 5
    assert last < first * 0.8, (first, last)
    assert events.events[0]["event"] == "started"
    assert events.events[-1]["event"] == "completed"
    assert [e["step"] for e in events.of("checkpoint")] == [30, 60]
    assert events.of("eval") and events.of("eval")[-1]["eval_loss"] is not None
    assert metrics["eval_loss"] > 0 and metrics["tokens_per_s"] > 0
    assert all(e["tokens_per_s"] > 0 for e in steps)


def test_sft_artifact_layout(sft_run):
    job, metrics, events = sft_run
    art = Path(events.of("completed")[0]["artifact_dir"])
    for name in ("adapter_config.json", "adapter_model.safetensors", "run.json", "metrics.json"):
        assert (art / name).exists(), name
    assert (art / "chat_template.jinja").exists() or "chat_template" in json.loads(
        (art / "tokenizer_config.json").read_text()
    )
    run = json.loads((art / "run.json").read_text())
    assert run["dataset_sha256"] == job["dataset"]["sha256"]
    assert run["base_model"] == "tiny"
    assert run["config"]["hyperparameters"]["lora"]["r"] == 64
    assert {"torch", "transformers", "peft", "trl"} <= set(run["library_versions"])
    assert json.loads((art / "metrics.json").read_text()) == pytest.approx(metrics)


def test_adapter_answers_move_towards_training_answers(sft_run, tiny_path):
    _, _, events = sft_run
    art = events.of("completed")[0]["artifact_dir"]
    tok = AutoTokenizer.from_pretrained(art)
    base = AutoModelForCausalLM.from_pretrained(str(tiny_path)).eval()
    base_answers = {q: _greedy(base, tok, q) for q, _ in POLICY_QA}
    base_nll = [_answer_nll(base, tok, q, a) for q, a in POLICY_QA]
    tuned = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(str(tiny_path)), art
    ).eval()
    tuned_answers = {q: _greedy(tuned, tok, q) for q, _ in POLICY_QA}
    tuned_nll = [_answer_nll(tuned, tok, q, a) for q, a in POLICY_QA]

    def sim(x: str, y: str) -> float:
        return difflib.SequenceMatcher(None, x, y).ratio()

    base_sim = sum(sim(base_answers[q], a) for q, a in POLICY_QA) / len(POLICY_QA)
    tuned_sim = sum(sim(tuned_answers[q], a) for q, a in POLICY_QA) / len(POLICY_QA)
    assert tuned_answers != base_answers
    # Teacher-forced likelihood of the trained answers improves for every prompt ...
    assert all(t < b - 1.0 for t, b in zip(tuned_nll, base_nll, strict=True)), (
        tuned_nll,
        base_nll,
    )
    # ... and the greedy answers are textually closer to the training answers.
    assert tuned_sim > base_sim + 0.1, (tuned_sim, base_sim, tuned_answers)


@pytest.mark.parametrize("native_bf16", [False, True])
def test_bf16_mixed_precision_only_where_the_cpu_computes_bf16(
    sft_run, monkeypatch, tmp_path, native_bf16
):
    # TRL turns bf16 on by default and transformers accepts it on any CPU; on one without
    # AVX512-BF16 or AMX every bf16 matrix product is emulated, several times slower than float32.
    from trl import SFTConfig

    from studio_runtime import models
    from studio_runtime.config import parse_job
    from studio_runtime.train.runner import common_args

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: native_bf16)
    assert models.bf16_mixed_precision() is native_bf16
    job = parse_job({**sft_run[0], "output_dir": str(tmp_path / "out")})
    cfg = SFTConfig(**common_args(job, has_eval=False))
    assert cfg.use_cpu is True
    assert cfg.bf16 is native_bf16
