from __future__ import annotations

import pytest

from conftest import sft_rows, train
from studio_runtime.train.callbacks import SimulatedInterruption


def test_resume_from_checkpoint_matches_uninterrupted_run(make_job, tiny_path):
    hp = {"max_steps": 8, "checkpoint_every_steps": 4, "lora": None, "adapter": "lora"}
    hp["lora"] = {"r": 4, "alpha": 8, "dropout": 0.1, "target_modules": ["q_proj", "v_proj"]}
    full_metrics, full_events = train(make_job("sft", sft_rows(16), name="full", **hp))

    job = make_job("sft", sft_rows(16), name="resumed", **hp)
    with pytest.raises(SimulatedInterruption):
        train(job, stop_after_step=4)
    metrics, events = train(job)

    started = events.of("started")[0]
    assert started["resumed_from_step"] == 4
    assert [e["step"] for e in events.of("step")] == [5, 6, 7, 8]
    assert metrics["total_steps"] == full_metrics["total_steps"] == 8
    full_losses = [e["loss"] for e in full_events.of("step")][4:]
    assert [e["loss"] for e in events.of("step")] == pytest.approx(full_losses, rel=1e-4)
    assert metrics["eval_loss"] == pytest.approx(full_metrics["eval_loss"], rel=1e-4)


def test_same_seed_same_result(make_job, tiny_path):
    hp = {"max_steps": 3, "checkpoint_every_steps": 10, "eval_ratio": 0.0}
    a, _ = train(make_job("sft", sft_rows(12), name="a", **hp))
    b, _ = train(make_job("sft", sft_rows(12), name="b", **hp))
    assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-6)
