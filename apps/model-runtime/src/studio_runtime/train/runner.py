"""Runs one training job end to end: data, model, trainer, checkpoints, artifact, progress."""

from __future__ import annotations

import importlib.metadata
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from datasets import Dataset
from peft import LoraConfig, PeftModel, TaskType
from transformers import PreTrainedModel, PreTrainedTokenizerBase, set_seed
from transformers.trainer_callback import PrinterCallback, ProgressCallback
from transformers.trainer_utils import get_last_checkpoint
from trl import RewardConfig, SFTConfig, SFTTrainer

from .. import models
from ..config import Hyperparameters, TrainingJob
from ..data import (
    load_conversations,
    load_preferences,
    preference_texts,
    sha256_file,
    split_eval,
    tokenize_conversation,
)
from ..errors import ConfigError, DatasetError, ModelError
from ..progress import ProgressReporter
from .callbacks import CountTokensMixin, TokenCounter
from .callbacks import ProgressCallback as StudioProgress
from .checkpoint_eval import CheckpointEvaluator, held_out_slice
from .pair_weights import WEIGHT_COLUMN, normalise_weights

log = logging.getLogger(__name__)

#: DPO's beta when the job leaves ``dpo_beta`` null.
DEFAULT_DPO_BETA = 0.1
#: Weight of the chosen answers' NLL in the DPO loss when the job leaves ``dpo_sft_weight`` null.
DEFAULT_DPO_SFT_WEIGHT = 0.0

LIBRARIES = ("torch", "transformers", "peft", "trl", "accelerate", "datasets", "gguf")


class StudioSFTTrainer(CountTokensMixin, SFTTrainer):
    pass


def library_versions() -> dict[str, str]:
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def lora_config(hp: Hyperparameters, task: TaskType) -> LoraConfig | None:
    if hp.adapter == "full":
        return None
    assert hp.lora is not None
    return LoraConfig(
        r=hp.lora.r,
        lora_alpha=hp.lora.alpha,
        lora_dropout=hp.lora.dropout,
        target_modules=hp.lora.target_modules,
        task_type=task,
        bias="none",
    )


def common_args(job: TrainingJob, has_eval: bool) -> dict[str, Any]:
    hp = job.hyperparameters
    return {
        "output_dir": str(Path(job.output_dir) / "checkpoints"),
        "num_train_epochs": hp.epochs,
        "max_steps": hp.max_steps if hp.max_steps is not None else -1,
        "per_device_train_batch_size": hp.batch_size,
        "per_device_eval_batch_size": hp.batch_size,
        "gradient_accumulation_steps": hp.gradient_accumulation_steps,
        "learning_rate": hp.learning_rate,
        "seed": hp.seed,
        "data_seed": hp.seed,
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": hp.checkpoint_every_steps,
        "save_total_limit": 2,
        "eval_strategy": "steps" if has_eval else "no",
        "eval_steps": hp.checkpoint_every_steps if has_eval else None,
        "report_to": "none",
        "disable_tqdm": True,
        "use_cpu": not torch.cuda.is_available(),
        "bf16": models.bf16_mixed_precision(),
        # TRL turns activation checkpointing on by default; it saves GPU memory at the cost of a
        # second forward pass. On the CPU memory is not what limits these models, time is.
        "gradient_checkpointing": torch.cuda.is_available(),
        "dataloader_num_workers": 0,
    }


def _load_eval(job: TrainingJob, loader: Callable[[str], list[Any]], train: list[Any]) -> tuple:
    if job.dataset.eval_path is not None:
        return train, loader(job.dataset.eval_path)
    return split_eval(train, job.hyperparameters.eval_ratio, job.hyperparameters.seed)


def _check_dataset(job: TrainingJob) -> str:
    path = Path(job.dataset.train_path)
    if not path.exists():
        raise DatasetError(f"dataset file {path} does not exist")
    digest = sha256_file(path)
    if digest != job.dataset.sha256:
        raise DatasetError(
            f"dataset {path} has sha256 {digest}, but the job says {job.dataset.sha256}"
        )
    return digest


def _strip_trainer_printers(trainer: Any) -> None:
    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)


def build_sft(
    job: TrainingJob, base_path: Path, tok: PreTrainedTokenizerBase, args: dict[str, Any]
) -> tuple[Any, Dataset | None]:
    hp = job.hyperparameters
    train_c, eval_c = _load_eval(
        job, load_conversations, load_conversations(job.dataset.train_path)
    )
    train_ds = Dataset.from_list([tokenize_conversation(tok, c) for c in train_c])
    eval_ds = Dataset.from_list([tokenize_conversation(tok, c) for c in eval_c]) if eval_c else None
    model = models.load_for_training(base_path, quantize_4bit=hp.adapter == "qlora")
    cfg = SFTConfig(**args, max_length=hp.max_seq_length, packing=False, dataset_num_proc=None)
    trainer = StudioSFTTrainer(
        model=model,
        args=cfg,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        processing_class=tok,
        peft_config=lora_config(hp, TaskType.CAUSAL_LM),
    )
    return trainer, eval_ds


def _pref_rows(tok: PreTrainedTokenizerBase, rows: list[dict[str, Any]]) -> Dataset:
    weights = normalise_weights([r["weight"] for r in rows])
    out = []
    for r, w in zip(rows, weights, strict=True):
        chosen, rejected = preference_texts(tok, r)
        out.append({"chosen_ids": chosen, "rejected_ids": rejected, WEIGHT_COLUMN: w})
    return Dataset.from_list(out)


def build_reward(
    job: TrainingJob, base_path: Path, tok: PreTrainedTokenizerBase, args: dict[str, Any]
) -> tuple[Any, tuple[bool, list[dict[str, Any]]]]:
    from .reward import WeightedRewardTrainer

    hp = job.hyperparameters
    train_p, eval_p = _load_eval(job, load_preferences, load_preferences(job.dataset.train_path))
    model = models.load_for_training(base_path, quantize_4bit=False, sequence_classification=True)
    model.config.pad_token_id = tok.pad_token_id
    peft = lora_config(hp, TaskType.SEQ_CLS)
    if peft is not None:
        peft.modules_to_save = ["score"]
    cfg = RewardConfig(**args, max_length=hp.max_seq_length, dataset_num_proc=None)
    trainer = WeightedRewardTrainer(
        model=model,
        args=cfg,
        train_dataset=_pref_rows(tok, train_p),
        eval_dataset=_pref_rows(tok, eval_p) if eval_p else None,
        processing_class=tok,
        peft_config=peft,
    )
    return trainer, (bool(eval_p), eval_p or train_p)


def _dpo_rows(rows: list[dict[str, Any]]) -> Dataset:
    weights = normalise_weights([r["weight"] for r in rows])
    return Dataset.from_list(
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


def check_init_adapter(job: TrainingJob, base_path: Path) -> Path:
    """The adapter ``job.init_adapter`` names, if it is a causal-LM LoRA adapter of the job's base.

    The base matches when the adapter's ``run.json`` names the same base model as the job, or
    (an adapter trained elsewhere, without ``run.json``) when its ``adapter_config.json`` points
    at the same model folder. Anything else is a :class:`ConfigError` naming the mismatch.
    """
    assert job.init_adapter is not None
    path = Path(job.init_adapter)
    cfg_file = path / "adapter_config.json"
    if not cfg_file.is_file():
        raise ConfigError(f"init_adapter {path} is not an adapter folder (no adapter_config.json)")
    try:
        cfg = json.loads(cfg_file.read_text(encoding="utf-8"))
        run = (
            json.loads((path / "run.json").read_text("utf-8"))
            if (path / "run.json").is_file()
            else {}
        )
    except json.JSONDecodeError as exc:
        raise ConfigError(f"init_adapter {path}: unreadable adapter metadata ({exc})") from exc
    if cfg.get("peft_type") != "LORA" or cfg.get("task_type") not in (None, "CAUSAL_LM"):
        raise ConfigError(
            f"init_adapter {path} is a {cfg.get('peft_type')}/{cfg.get('task_type')} adapter; "
            "DPO starts from a causal-LM LoRA adapter (an SFT artifact)"
        )
    if run.get("method") == "reward":
        raise ConfigError(f"init_adapter {path} is a reward model, not a policy adapter")
    if "base_model" in run:
        same = run["base_model"] == job.base_model
        named = run["base_model"]
    else:
        named = str(cfg.get("base_model_name_or_path"))
        same = os.path.realpath(named) == os.path.realpath(base_path)
    if not same:
        raise ConfigError(
            f"init_adapter {path} was trained on base model {named!r}, but the job's base model "
            f"is {job.base_model!r}"
        )
    return path


def _dpo_loss(hp: Hyperparameters) -> dict[str, Any]:
    """Sigmoid DPO, plus the chosen answers' NLL (RPO) when ``dpo_sft_weight`` is above 0."""
    alpha = hp.dpo_sft_weight if hp.dpo_sft_weight is not None else DEFAULT_DPO_SFT_WEIGHT
    if alpha <= 0:
        return {"loss_type": ["sigmoid"]}
    return {"loss_type": ["sigmoid", "sft"], "loss_weights": [1.0, alpha]}


def build_dpo(
    job: TrainingJob, base_path: Path, tok: PreTrainedTokenizerBase, args: dict[str, Any]
) -> tuple[Any, None]:
    """Weighted DPO. From ``init_adapter``: the policy is that adapter (trainable) and TRL's
    ``DPOTrainer`` adds a frozen copy of it named ``ref`` as the reference (its behaviour for a
    ``PeftModel`` passed with ``ref_model=None``); the LoRA settings are the adapter's own.
    Without it: a fresh LoRA adapter, the reference being the base model (adapter disabled)."""
    from trl import DPOConfig

    from .dpo import WeightedDPOTrainer

    hp = job.hyperparameters
    if hp.adapter == "full":
        raise DatasetError("DPO here trains an adapter (lora/qlora); 'full' is not supported")
    init = check_init_adapter(job, base_path) if job.init_adapter is not None else None
    train_p, eval_p = _load_eval(job, load_preferences, load_preferences(job.dataset.train_path))
    model = models.load_for_training(base_path, quantize_4bit=hp.adapter == "qlora")
    if init is not None:
        model = PeftModel.from_pretrained(model, str(init), is_trainable=True)
    cfg = DPOConfig(
        **args,
        max_length=hp.max_seq_length,
        beta=hp.dpo_beta if hp.dpo_beta is not None else DEFAULT_DPO_BETA,
        precompute_ref_log_probs=False,
        **_dpo_loss(hp),
        dataset_num_proc=None,
    )
    trainer = WeightedDPOTrainer(
        model=model,
        ref_model=None,
        args=cfg,
        train_dataset=_dpo_rows(train_p),
        eval_dataset=_dpo_rows(eval_p) if eval_p else None,
        processing_class=tok,
        peft_config=lora_config(hp, TaskType.CAUSAL_LM) if init is None else None,
    )
    if init is not None and "ref" not in trainer.model.peft_config:
        raise ModelError("the reference adapter 'ref' was not created from init_adapter")
    return trainer, None


@torch.no_grad()
def pairwise_accuracy(
    model: PreTrainedModel, tok: PreTrainedTokenizerBase, rows: list[dict[str, Any]], max_len: int
) -> float:
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for r in rows:
        chosen, rejected = preference_texts(tok, r)
        scores = []
        for ids in (chosen[:max_len], rejected[:max_len]):
            out = model(input_ids=torch.tensor([ids], device=device))
            scores.append(float(out.logits[0, 0]))
        correct += int(scores[0] > scores[1])
    return correct / len(rows)


def run_training(
    job: TrainingJob,
    reporter: ProgressReporter,
    *,
    stop_after_step: int | None = None,
    cancel_check: Callable[[], bool] | None = None,
) -> dict[str, float]:
    """Train ``job``; resumes from the newest checkpoint in ``output_dir/checkpoints``."""
    hp = job.hyperparameters
    digest = _check_dataset(job)
    base_path = models.resolve_base_model(job.base_model)
    tok = models.load_tokenizer(base_path)
    set_seed(hp.seed)

    out_dir = Path(job.output_dir)
    ckpt_dir = out_dir / "checkpoints"
    resume = get_last_checkpoint(str(ckpt_dir)) if ckpt_dir.is_dir() else None
    resumed_step = int(Path(resume).name.split("-")[-1]) if resume else None

    eval_exists = job.dataset.eval_path is not None or hp.eval_ratio > 0
    args = common_args(job, has_eval=eval_exists)
    builders = {"sft": build_sft, "reward": build_reward, "dpo": build_dpo}
    trainer, extra = builders[job.method](job, base_path, tok, args)
    if trainer.eval_dataset is None and args["eval_strategy"] != "no":
        trainer.args.eval_strategy = "no"
    _strip_trainer_printers(trainer)
    counter = TokenCounter()
    trainer.token_counter = counter
    progress = StudioProgress(
        reporter,
        counter,
        method=job.method,
        base_model=job.base_model,
        resumed_from_step=resumed_step,
        stop_after_step=stop_after_step,
        cancel_check=cancel_check,
    )
    trainer.add_callback(progress)
    evaluator: CheckpointEvaluator | None = None
    if hp.checkpoint_eval is not None:
        assert job.dataset.held_out_path is not None  # parse_job checks it
        evaluator = CheckpointEvaluator(
            hp.checkpoint_eval,
            held_out_slice(job.dataset.held_out_path, hp.checkpoint_eval.items, hp.seed),
            tok,
            reporter,
            out_dir / "checkpoint-eval",
            max_seq_length=hp.max_seq_length,
            resumed_from_step=resumed_step,
        )
        # After the progress callback: the step-0 evaluation follows the "started" event.
        trainer.add_callback(evaluator)

    t0 = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=resume)
    runtime = time.perf_counter() - t0

    metrics: dict[str, float] = {
        "train_loss": float(result.training_loss),
        "train_runtime_s": runtime,
        "tokens_per_s": counter.tokens_per_s(),
        "train_tokens": float(counter.tokens),
        "total_steps": float(trainer.state.global_step),
        "epoch": float(trainer.state.epoch or 0.0),
    }
    restored = False
    if evaluator is not None:
        metrics.update(evaluator.metrics())
        best = evaluator.restore_best(trainer.model)
        if best is not None:
            # The artifact is the best evaluation's weights, not the last step's.
            metrics["artifact_step"] = float(best)
            restored = best != trainer.state.global_step
    if trainer.eval_dataset is not None:
        if restored or progress.last_eval_step != trainer.state.global_step:
            trainer.evaluate()  # the progress callback reports it
        ev = progress.last_eval
        if "eval_loss" in ev and math.isfinite(ev["eval_loss"]):
            metrics["eval_loss"] = float(ev["eval_loss"])
        for key in ("accuracy", "rewards/accuracies"):
            if key in ev:
                metrics[f"eval_{key.replace('/', '_')}"] = float(ev[key])
    if job.method == "reward":
        held_out, pairs = extra
        accuracy = pairwise_accuracy(trainer.model, tok, pairs, hp.max_seq_length)
        # ``pairwise_accuracy`` is measured on held-out pairs only (eval_path or eval_ratio);
        # without any, the accuracy on the training pairs is reported under its own name.
        metrics["pairwise_accuracy" if held_out else "train_pairwise_accuracy"] = accuracy
        metrics["pairwise_accuracy_pairs"] = float(len(pairs))

    artifact = out_dir / "artifact"
    tmp = out_dir / "artifact.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model = trainer.model
    if isinstance(model, PeftModel) and "ref" in model.peft_config:
        # The frozen reference copy of init_adapter is not part of the artifact: the artifact is
        # one LoRA adapter on the base model, served like an SFT adapter.
        model.delete_adapter("ref")
    trainer.save_model(str(tmp))
    tok.save_pretrained(str(tmp))
    run_info = {
        "run_id": job.run_id,
        "method": job.method,
        "base_model": job.base_model,
        "base_model_path": str(base_path),
        "adapter": hp.adapter,
        "is_peft_adapter": isinstance(trainer.model, PeftModel),
        "dataset_sha256": digest,
        "config": job.to_dict(),
        "library_versions": library_versions(),
        "resumed_from_step": resumed_step,
        "init_adapter": job.init_adapter,
    }
    (tmp / "run.json").write_text(json.dumps(run_info, indent=2), encoding="utf-8")
    (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    shutil.rmtree(artifact, ignore_errors=True)
    tmp.rename(artifact)
    reporter.completed(str(artifact), metrics)
    return metrics
