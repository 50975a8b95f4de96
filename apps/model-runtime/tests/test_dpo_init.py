"""DPO from an SFT adapter (``init_adapter``): the policy starts as the SFT adapter, the reference
is the same adapter frozen, and the artifact is one LoRA adapter on the base model."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

from conftest import pair_text, preference_row, preference_rows, sft_rows, train
from studio_runtime.errors import ConfigError

LORA = {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": "all-linear"}


@pytest.fixture(scope="module")
def sft_adapter(tmp_path_factory: pytest.TempPathFactory, tiny_path: Path) -> Path:
    from conftest import sha256_file, write_jsonl

    d = tmp_path_factory.mktemp("sft-init")
    path = write_jsonl(d / "train.jsonl", sft_rows(16))
    job = {
        "schema_version": "v1",
        "run_id": "sft-for-dpo",
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
            "max_steps": 8,
            "learning_rate": 5e-3,
            "batch_size": 4,
            "gradient_accumulation_steps": 1,
            "max_seq_length": 128,
            "seed": 3,
            "eval_ratio": 0.0,
            "checkpoint_every_steps": 100,
            "adapter": "lora",
            "lora": LORA,
            "dpo_beta": None,
        },
        "output_dir": str(d / "out"),
    }
    train(job)
    return d / "out" / "artifact"


def _dpo_job(
    make_job: Any, adapter: Path, rows: list[dict[str, Any]], name: str = "dpo-init", **hp: Any
) -> dict:
    settings = {
        "max_steps": 6,
        "learning_rate": 5e-3,
        "eval_ratio": 0.0,
        "checkpoint_every_steps": 100,
        "dpo_beta": 0.5,
        "lora": LORA,
        **hp,
    }
    job = make_job("dpo", rows, name=name, **settings)
    job["init_adapter"] = str(adapter)
    return job


@torch.no_grad()
def _margins(model: Any, tok: Any, rows: list[dict[str, Any]]) -> list[float]:
    """log p(chosen | prompt) - log p(rejected | prompt) for each row."""
    model.eval()
    out = []
    for r in rows:
        question, chosen, rejected = pair_text(r)
        prompt = [{"role": "user", "content": question}]
        p_ids = tok.apply_chat_template(
            prompt, tokenize=True, add_generation_prompt=True, return_dict=True
        )["input_ids"]
        logps = []
        for answer in (chosen, rejected):
            ids = tok.apply_chat_template(
                [*prompt, {"role": "assistant", "content": answer}],
                tokenize=True,
                return_dict=True,
            )["input_ids"]
            logits = model(input_ids=torch.tensor([ids])).logits[0, :-1]
            lp = torch.log_softmax(logits.float(), -1)
            target = torch.tensor(ids[1:])
            token_lp = lp.gather(1, target[:, None])[:, 0]
            logps.append(float(token_lp[len(p_ids) - 1 :].sum()))
        out.append(logps[0] - logps[1])
    return out


def _load(tiny_path: Path, adapter: Path) -> Any:
    base = AutoModelForCausalLM.from_pretrained(str(tiny_path))
    return PeftModel.from_pretrained(base, str(adapter))


def test_dpo_from_sft_adapter_starts_at_log2_and_moves_the_margin(
    make_job: Any, sft_adapter: Path, tiny_path: Path
) -> None:
    rows = preference_rows(16)
    _, events = train(_dpo_job(make_job, sft_adapter, rows))
    steps = events.of("step")
    # Step 1's loss is computed before any update: policy == reference == the SFT adapter, so
    # every pair's loss is -log sigmoid(0) = log 2 (it would not be with the base as reference).
    assert steps[0]["loss"] == pytest.approx(math.log(2), abs=1e-3)
    assert steps[-1]["loss"] < steps[0]["loss"]

    artifact = Path(events.of("completed")[0]["artifact_dir"])
    run = json.loads((artifact / "run.json").read_text())
    assert run["init_adapter"] == str(sft_adapter) and run["method"] == "dpo"
    # One adapter on the base model, like an SFT artifact: no saved copy of the reference.
    assert (artifact / "adapter_model.safetensors").is_file()
    assert not (artifact / "ref").exists()
    cfg = json.loads((artifact / "adapter_config.json").read_text())
    assert cfg["r"] == LORA["r"] and cfg["peft_type"] == "LORA"

    tok = AutoTokenizer.from_pretrained(str(tiny_path))
    sft_margin = sum(_margins(_load(tiny_path, sft_adapter), tok, rows[:4])) / 4
    dpo_margin = sum(_margins(_load(tiny_path, artifact), tok, rows[:4])) / 4
    assert dpo_margin > sft_margin + 1.0, (sft_margin, dpo_margin)


def test_reference_is_the_frozen_sft_adapter(
    make_job: Any, sft_adapter: Path, tiny_path: Path
) -> None:
    from studio_runtime import models
    from studio_runtime.config import parse_job
    from studio_runtime.train.runner import build_dpo, common_args

    job = parse_job(_dpo_job(make_job, sft_adapter, preference_rows(8), name="ref"))
    base_path = models.resolve_base_model("tiny")
    trainer, _ = build_dpo(
        job, base_path, models.load_tokenizer(base_path), common_args(job, False)
    )
    trainer.token_counter = type("C", (), {"add": lambda self, n: None})()
    model = trainer.model
    assert set(model.peft_config) == {"default", "ref"}
    before = {n: p.detach().clone() for n, p in model.named_parameters() if ".ref." in n}
    sft = _load(tiny_path, sft_adapter)
    sft_params = dict(sft.named_parameters())
    for name, value in before.items():
        # The reference starts equal to the SFT adapter and never requires grad.
        assert torch.equal(value, sft_params[name.replace(".ref.", ".default.")]), name
    trainer.train()
    for name, param in model.named_parameters():
        if ".ref." in name:
            assert torch.equal(param.detach(), before[name]), f"reference {name} changed"
    moved = [
        n
        for n, p in model.named_parameters()
        if ".default." in n and not torch.equal(p.detach(), sft_params[n])
    ]
    assert moved, "the policy adapter did not train"


def test_weight_zero_pairs_give_no_gradient_from_an_adapter(
    make_job: Any, sft_adapter: Path
) -> None:
    from studio_runtime import models
    from studio_runtime.config import parse_job
    from studio_runtime.train.runner import build_dpo, common_args

    base_path = models.resolve_base_model("tiny")
    tok = models.load_tokenizer(base_path)

    def grads(rows: list[dict[str, Any]], name: str) -> tuple[float, dict[str, torch.Tensor]]:
        job = parse_job(_dpo_job(make_job, sft_adapter, rows, name=name))
        trainer, _ = build_dpo(job, base_path, tok, common_args(job, False))
        trainer.token_counter = type("C", (), {"add": lambda self, n: None})()
        # Move the policy off the reference so that the gradient is not the same for any pair.
        with torch.no_grad():
            for n, p in trainer.model.named_parameters():
                if ".default." in n and "lora_B" in n:
                    p.add_(torch.randn_like(p), alpha=0.05)
        ds = trainer.train_dataset
        batch = trainer._prepare_inputs(trainer.data_collator([ds[i] for i in range(len(ds))]))
        trainer.model.train()
        trainer.model.zero_grad()
        loss = trainer.compute_loss(trainer.model, batch)
        loss.backward()
        return float(loss), {
            n: p.grad.clone() for n, p in trainer.model.named_parameters() if p.grad is not None
        }

    pair = preference_rows(1)[0]
    other = preference_row("Can I share my password?", "No.", "Sure, share it.", weight=0, pid="p9")
    torch.manual_seed(11)
    loss_both, g_both = grads([pair, other], "both")  # weights [1, 0] -> [2, 0]: mean = loss_0
    torch.manual_seed(11)
    loss_one, g_one = grads([pair], "one")
    assert loss_both == pytest.approx(loss_one, rel=1e-5)
    assert g_one and set(g_one) == set(g_both)
    assert all(".ref." not in n for n in g_one)
    for n, g in g_one.items():
        assert torch.allclose(g_both[n], g, atol=1e-6, rtol=1e-4), n


def test_init_adapter_must_be_an_adapter_of_the_same_base(
    make_job: Any, sft_adapter: Path, tmp_path: Path
) -> None:
    rows = preference_rows(4)
    missing = _dpo_job(make_job, tmp_path / "nowhere", rows, name="missing")
    with pytest.raises(ConfigError, match="not an adapter folder"):
        train(missing)

    other = tmp_path / "other-base"
    shutil.copytree(sft_adapter, other)
    run = json.loads((other / "run.json").read_text())
    (other / "run.json").write_text(json.dumps({**run, "base_model": "smollm2-135m-instruct"}))
    with pytest.raises(ConfigError, match="trained on base model 'smollm2-135m-instruct'"):
        train(_dpo_job(make_job, other, rows, name="other"))

    relative = _dpo_job(make_job, sft_adapter, rows, name="relative")
    relative["init_adapter"] = "runs/sft/artifact"
    with pytest.raises(ConfigError, match="absolute path"):
        train(relative)

    sft_job = make_job("sft", sft_rows(4), name="sft-init")
    sft_job["init_adapter"] = str(sft_adapter)
    with pytest.raises(ConfigError, match="for method 'dpo'"):
        train(sft_job)
