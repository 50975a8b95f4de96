"""The training job (``jobs/training.v1``) as typed Python objects."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from .contracts import validate_training_job
from .errors import ConfigError

Method = Literal["sft", "reward", "dpo"]
AdapterKind = Literal["lora", "qlora", "full"]


@dataclass(frozen=True)
class LoraSettings:
    r: int = 16
    alpha: float = 32
    dropout: float = 0.05
    target_modules: list[str] | str = "all-linear"


@dataclass(frozen=True)
class DatasetSpec:
    train_path: str
    eval_path: str | None
    sha256: str
    format: Literal["conversational", "preference"]
    #: The dataset version's held-out conversations, answered by checkpoint evaluations.
    held_out_path: str | None = None


@dataclass(frozen=True)
class EarlyStopSettings:
    """Stop when ``metric`` is worse than the best evaluation by more than ``min_delta`` in
    ``patience`` evaluations in a row; the artifact is then the best evaluation's weights."""

    metric: Literal["token_f1", "heldout_loss"]
    patience: int
    min_delta: float


@dataclass(frozen=True)
class CheckpointEvalSettings:
    """Greedy answers to ``items`` held-out questions every ``every_steps`` steps."""

    every_steps: int
    items: int
    max_new_tokens: int
    early_stop: EarlyStopSettings | None = None


@dataclass(frozen=True)
class Hyperparameters:
    epochs: float = 1.0
    max_steps: int | None = None
    learning_rate: float = 2e-4
    batch_size: int = 4
    gradient_accumulation_steps: int = 1
    max_seq_length: int = 512
    seed: int = 42
    eval_ratio: float = 0.1
    checkpoint_every_steps: int = 50
    adapter: AdapterKind = "lora"
    lora: LoraSettings | None = field(default_factory=LoraSettings)
    dpo_beta: float | None = None
    dpo_sft_weight: float | None = None
    checkpoint_eval: CheckpointEvalSettings | None = None


@dataclass(frozen=True)
class TrainingJob:
    schema_version: str
    run_id: str
    tenant_id: str
    context_id: str
    method: Method
    base_model: str
    dataset: DatasetSpec
    hyperparameters: Hyperparameters
    output_dir: str
    #: Adapter artifact to start from (``dpo``: policy = this adapter trainable, reference = the
    #: same adapter frozen); None: a fresh LoRA adapter.
    init_adapter: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_job(data: Any) -> TrainingJob:
    """Validate ``data`` against the contract schema and check what the schema cannot."""
    validate_training_job(data)
    hp = dict(data["hyperparameters"])
    lora = hp.pop("lora")
    ce = hp.pop("checkpoint_eval", None)
    checkpoint_eval = None
    if ce is not None:
        es = ce.get("early_stop")
        checkpoint_eval = CheckpointEvalSettings(
            every_steps=ce["every_steps"],
            items=ce["items"],
            max_new_tokens=ce["max_new_tokens"],
            early_stop=EarlyStopSettings(**es) if es is not None else None,
        )
    hyper = Hyperparameters(
        **hp,
        lora=LoraSettings(**lora) if lora is not None else None,
        checkpoint_eval=checkpoint_eval,
    )
    job = TrainingJob(
        schema_version=data["schema_version"],
        run_id=data["run_id"],
        tenant_id=data["tenant_id"],
        context_id=data["context_id"],
        method=data["method"],
        base_model=data["base_model"],
        dataset=DatasetSpec(**data["dataset"]),
        hyperparameters=hyper,
        output_dir=data["output_dir"],
        init_adapter=data.get("init_adapter"),
    )
    _check_semantics(job)
    return job


def _check_semantics(job: TrainingJob) -> None:
    ds, hp = job.dataset, job.hyperparameters
    for label, p in (("dataset.train_path", ds.train_path), ("output_dir", job.output_dir)):
        if not Path(p).is_absolute():
            raise ConfigError(f"{label} must be an absolute path, got {p!r}")
    for label, opt in (
        ("dataset.eval_path", ds.eval_path),
        ("dataset.held_out_path", ds.held_out_path),
    ):
        if opt is not None and not Path(opt).is_absolute():
            raise ConfigError(f"{label} must be an absolute path, got {opt!r}")
    if hp.checkpoint_eval is not None:
        if job.method == "reward":
            raise ConfigError(
                "hyperparameters.checkpoint_eval answers held-out questions with a causal LM; "
                "a reward model (method 'reward') cannot: set it to null"
            )
        if ds.held_out_path is None:
            raise ConfigError(
                "hyperparameters.checkpoint_eval needs dataset.held_out_path (the held-out "
                "conversations to answer); set one or set checkpoint_eval to null"
            )
    expected = "conversational" if job.method == "sft" else "preference"
    if ds.format != expected:
        raise ConfigError(
            f"method {job.method!r} needs a {expected} dataset, got format {ds.format!r}"
        )
    if hp.adapter in ("lora", "qlora") and hp.lora is None:
        raise ConfigError(f"hyperparameters.lora is required when adapter is {hp.adapter!r}")
    if job.method == "reward" and hp.adapter == "qlora":
        raise ConfigError("reward models are trained with adapter 'lora' or 'full', not 'qlora'")
    if job.init_adapter is not None:
        if job.method != "dpo":
            raise ConfigError(
                f"init_adapter is for method 'dpo' (start from an SFT adapter), not {job.method!r}"
            )
        if hp.adapter == "full":
            raise ConfigError("init_adapter needs adapter 'lora' or 'qlora', not 'full'")
        if not Path(job.init_adapter).is_absolute():
            raise ConfigError(f"init_adapter must be an absolute path, got {job.init_adapter!r}")


def load_job_file(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"config file {p} does not exist")
    try:
        data: dict[str, Any] = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"config file {p} is not valid JSON: {exc}") from exc
    return data
