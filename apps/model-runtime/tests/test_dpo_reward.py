from __future__ import annotations

import gc

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

from conftest import preference_rows, train
from studio_runtime.train.dpo import WeightedDPOTrainer
from studio_runtime.train.pair_weights import WEIGHT_COLUMN, normalise_weights


def _dpo_trainer(tiny_path, tmp_path, rows, weights):
    from datasets import Dataset
    from trl import DPOConfig

    tok = AutoTokenizer.from_pretrained(str(tiny_path))
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(str(tiny_path))
    peft = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q_proj", "v_proj"])
    model = get_peft_model(model, peft)
    # Non-zero B so that the policy differs from the reference and gradients are informative.
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.05)
    ds = Dataset.from_list(
        [
            {
                "prompt": r["prompt"],
                "chosen": r["chosen"],
                "rejected": r["rejected"],
                WEIGHT_COLUMN: w,
            }
            for r, w in zip(rows, weights, strict=True)
        ]
    )
    cfg = DPOConfig(
        output_dir=str(tmp_path / "dpo"),
        per_device_train_batch_size=len(rows),
        report_to="none",
        use_cpu=True,
        max_length=64,
        beta=0.1,
    )
    trainer = WeightedDPOTrainer(
        model=model, ref_model=None, args=cfg, train_dataset=ds, processing_class=tok
    )
    trainer.token_counter = type("C", (), {"add": lambda self, n: None})()
    return trainer


def _grads(trainer):
    batch = trainer.data_collator(
        [trainer.train_dataset[i] for i in range(len(trainer.train_dataset))]
    )
    batch = trainer._prepare_inputs(batch)
    trainer.model.train()
    trainer.model.zero_grad()
    loss = trainer.compute_loss(trainer.model, batch)
    loss.backward()
    return loss.detach(), {
        n: p.grad.detach().clone()
        for n, p in trainer.model.named_parameters()
        if p.grad is not None
    }


def test_zero_weight_pair_contributes_no_gradient(tiny_path, tmp_path):
    rows = preference_rows(4)[:2]
    rows[1] = {**rows[1], "rejected": [{"role": "assistant", "content": "Completely different."}]}
    # Pair 1 alone (weight 2 after normalising [1, 0] to mean 1) ...
    t_both = _dpo_trainer(tiny_path, tmp_path, rows, normalise_weights([1.0, 0.0]))
    loss_both, g_both = _grads(t_both)
    # ... equals a batch with only pair 0 at the same effective weight, i.e. pair 1 adds nothing.
    t_single = _dpo_trainer(tiny_path, tmp_path, rows[:1], [2.0])
    loss_single, g_single = _grads(t_single)
    # Batch mean over 2 pairs vs 1 pair: scale by 2/1.
    assert float(loss_both) * 2 == pytest.approx(float(loss_single) * 1, rel=1e-5)
    for n, g in g_single.items():
        assert torch.allclose(g_both[n] * 2, g, atol=1e-6, rtol=1e-4), n
    # No second model: the reference comes from the same PEFT model with the adapter disabled.
    assert t_both.ref_model is None
    del t_both, t_single
    gc.collect()


def test_weighted_and_unweighted_gradients_differ(tiny_path, tmp_path):
    rows = preference_rows(4)[:2]
    rows[1] = {**rows[1], "rejected": [{"role": "assistant", "content": "Completely different."}]}
    _, g_equal = _grads(_dpo_trainer(tiny_path, tmp_path, rows, normalise_weights([1.0, 1.0])))
    _, g_weighted = _grads(_dpo_trainer(tiny_path, tmp_path, rows, normalise_weights([3.0, 1.0])))
    assert any(not torch.allclose(g_equal[n], g_weighted[n]) for n in g_equal)


def test_dpo_run_weighted_vs_unweighted(make_job, tiny_path):
    rows = preference_rows(8)
    weighted = [{**r, "weight": float(i % 3)} for i, r in enumerate(rows)]
    hp = {"max_steps": 3, "checkpoint_every_steps": 10, "eval_ratio": 0.0, "dpo_beta": 0.1}
    m_plain, ev_plain = train(make_job("dpo", rows, name="plain", **hp))
    m_weighted, ev_w = train(make_job("dpo", weighted, name="weighted", **hp))
    assert ev_plain.of("completed") and ev_w.of("completed")
    assert m_plain["train_loss"] != pytest.approx(m_weighted["train_loss"], rel=1e-6)


def test_reward_model_pairwise_accuracy(make_job, tiny_path):
    rows = preference_rows(32)
    hp = {
        "max_steps": 24,
        "learning_rate": 5e-3,
        "checkpoint_every_steps": 100,
        "eval_ratio": 0.25,
        "batch_size": 4,
    }
    metrics, events = train(make_job("reward", rows, name="rm", **hp))
    assert metrics["pairwise_accuracy"] >= 0.9
    assert events.of("completed")[0]["metrics"]["pairwise_accuracy"] >= 0.9


def test_cli_trains_a_reward_model_from_a_preference_file(tmp_path, tiny_path):
    import json
    import subprocess
    import sys

    from conftest import write_jsonl

    path = write_jsonl(tmp_path / "prefs.jsonl", preference_rows(16))
    proc = subprocess.run(
        [sys.executable, "-m", "studio_runtime.cli", "train", "reward", "--base-model", "tiny",
         "--train", str(path), "--output-dir", str(tmp_path / "rm"), "--max-steps", "12",
         "--learning-rate", "5e-3", "--eval-ratio", "0.25", "--run-id", "cli-rm",
         "--checkpoint-every-steps", "100", "--lora-r", "8"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    completed = json.loads(proc.stdout.splitlines()[-1])
    metrics = json.loads((tmp_path / "rm" / "artifact" / "metrics.json").read_text())
    assert completed["event"] == "completed" and completed["metrics"] == metrics
    # Measured on the 4 held-out pairs (25 % of 16), not on the training pairs.
    assert metrics["pairwise_accuracy_pairs"] == 4
    assert metrics["pairwise_accuracy"] >= 0.75
    run = json.loads((tmp_path / "rm" / "artifact" / "run.json").read_text())
    assert run["method"] == "reward"


def _reward_trainer(tiny_path, tmp_path, rows, weights):
    from datasets import Dataset
    from peft import TaskType
    from transformers import AutoModelForSequenceClassification
    from trl import RewardConfig

    from studio_runtime.data import preference_texts
    from studio_runtime.train.reward import WeightedRewardTrainer

    tok = AutoTokenizer.from_pretrained(str(tiny_path))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(str(tiny_path), num_labels=1)
    model.config.pad_token_id = tok.pad_token_id
    peft = LoraConfig(
        r=4,
        lora_alpha=8,
        lora_dropout=0.0,
        target_modules=["q_proj", "v_proj"],
        task_type=TaskType.SEQ_CLS,
        modules_to_save=["score"],
    )
    model = get_peft_model(model, peft)
    ds = Dataset.from_list(
        [
            dict(
                zip(("chosen_ids", "rejected_ids"), preference_texts(tok, r), strict=True),
                **{WEIGHT_COLUMN: w},
            )
            for r, w in zip(rows, weights, strict=True)
        ]
    )
    cfg = RewardConfig(
        output_dir=str(tmp_path / "rm"),
        per_device_train_batch_size=len(rows),
        report_to="none",
        use_cpu=True,
        max_length=64,
    )
    trainer = WeightedRewardTrainer(model=model, args=cfg, train_dataset=ds, processing_class=tok)
    trainer.token_counter = type("C", (), {"add": lambda self, n: None})()
    return trainer


def test_reward_zero_weight_pair_contributes_no_gradient(tiny_path, tmp_path):
    rows = preference_rows(4)[:2]
    rows[1] = {**rows[1], "rejected": [{"role": "assistant", "content": "Completely different."}]}
    loss_both, g_both = _grads(_reward_trainer(tiny_path, tmp_path, rows, [2.0, 0.0]))
    loss_single, g_single = _grads(_reward_trainer(tiny_path, tmp_path, rows[:1], [2.0]))
    # Batch mean over 2 pairs vs 1 pair: the zero-weight pair adds nothing but the divisor.
    assert float(loss_both) * 2 == pytest.approx(float(loss_single), rel=1e-5)
    for n, g in g_single.items():
        assert torch.allclose(g_both[n] * 2, g, atol=1e-6, rtol=1e-4), n
    # Equal weights of 1 give TRL's own (unweighted) reward loss.
    plain = _reward_trainer(tiny_path, tmp_path, rows, [1.0, 1.0])
    batch = plain._prepare_inputs(plain.data_collator([plain.train_dataset[i] for i in range(2)]))
    weighted_loss = plain.compute_loss(plain.model, dict(batch))
    batch.pop(WEIGHT_COLUMN)
    trl_loss = super(type(plain), plain).compute_loss(plain.model, batch)
    assert float(weighted_loss.detach()) == pytest.approx(float(trl_loss.detach()), rel=1e-5)
    gc.collect()


def test_reward_run_weighted_vs_unweighted(make_job, tiny_path):
    rows = preference_rows(8)
    weighted = [{**r, "weight": float(1 + i % 3)} for i, r in enumerate(rows)]
    hp = {"max_steps": 3, "checkpoint_every_steps": 10, "eval_ratio": 0.0}
    m_plain, ev_plain = train(make_job("reward", rows, name="rm-plain", **hp))
    m_weighted, ev_w = train(make_job("reward", weighted, name="rm-weighted", **hp))
    assert ev_plain.of("completed") and ev_w.of("completed")
    assert m_plain["train_loss"] != pytest.approx(m_weighted["train_loss"], rel=1e-6)
