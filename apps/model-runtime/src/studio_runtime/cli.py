"""``studio-runtime`` command line: train, worker, serve, models."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import uuid
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from .errors import RuntimeFailure

log = logging.getLogger("studio_runtime")

DEFAULT_HP: dict[str, Any] = {
    "epochs": 1,
    "max_steps": None,
    "learning_rate": 2e-4,
    "batch_size": 4,
    "gradient_accumulation_steps": 1,
    "max_seq_length": 512,
    "seed": 42,
    "eval_ratio": 0.1,
    "checkpoint_every_steps": 50,
    "adapter": "lora",
    "lora": {"r": 16, "alpha": 32, "dropout": 0.05, "target_modules": "all-linear"},
    "dpo_beta": None,
}

HP_FLAGS = {
    "epochs": float,
    "max_steps": int,
    "learning_rate": float,
    "batch_size": int,
    "gradient_accumulation_steps": int,
    "max_seq_length": int,
    "seed": int,
    "eval_ratio": float,
    "checkpoint_every_steps": int,
    "dpo_beta": float,
}


def _add_train_parser(sub: Any) -> None:
    train = sub.add_parser("train", help="train a model; progress as JSON lines on stdout")
    train.add_argument("method", choices=["sft", "reward", "dpo"])
    train.add_argument("--config", help="job JSON (the jobs/training.v1 shape)")
    train.add_argument("--run-id")
    train.add_argument("--base-model")
    train.add_argument("--train", dest="train_path", help="training JSON lines")
    train.add_argument("--eval", dest="eval_path", help="eval JSON lines")
    train.add_argument("--output-dir")
    train.add_argument(
        "--init-adapter",
        help="dpo: the SFT adapter artifact to start from (policy and frozen reference)",
    )
    train.add_argument("--adapter", choices=["lora", "qlora", "full"])
    train.add_argument("--lora-r", type=int)
    train.add_argument("--lora-alpha", type=float)
    train.add_argument("--lora-dropout", type=float)
    train.add_argument("--lora-target-modules", help="comma separated, or all-linear")
    for name, typ in HP_FLAGS.items():
        train.add_argument("--" + name.replace("_", "-"), dest=name, type=typ)
    train.add_argument(
        "--stop-after-step",
        type=int,
        help="abort right after the checkpoint at this step (used to test crash and resume)",
    )


def build_job(ns: argparse.Namespace) -> dict[str, Any]:
    from .config import load_job_file
    from .data import sha256_file
    from .errors import ConfigError

    job: dict[str, Any] = load_job_file(ns.config) if ns.config else {}
    job.setdefault("schema_version", "v1")
    job.setdefault("tenant_id", "local")
    job.setdefault("context_id", "local")
    job["method"] = ns.method if not ns.config else job.get("method", ns.method)
    if ns.config and job["method"] != ns.method:
        raise ConfigError(f"config method {job['method']!r} differs from command {ns.method!r}")
    if ns.run_id:
        job["run_id"] = ns.run_id
    job.setdefault("run_id", f"run-{uuid.uuid4().hex[:12]}")
    if ns.base_model:
        job["base_model"] = ns.base_model
    job.setdefault("base_model", "smollm2-135m-instruct")
    ds = dict(job.get("dataset") or {})
    if ns.train_path:
        ds["train_path"] = str(Path(ns.train_path).resolve())
        ds.pop("sha256", None)
    if ns.eval_path:
        ds["eval_path"] = str(Path(ns.eval_path).resolve())
    ds.setdefault("eval_path", None)
    ds.setdefault("format", "conversational" if job["method"] == "sft" else "preference")
    if "train_path" in ds and "sha256" not in ds and Path(ds["train_path"]).exists():
        ds["sha256"] = sha256_file(ds["train_path"])
    if "train_path" in ds and not Path(ds["train_path"]).exists():
        raise ConfigError(f"dataset file {ds['train_path']} does not exist")
    job["dataset"] = ds
    hp = {**DEFAULT_HP, **(job.get("hyperparameters") or {})}
    for name in HP_FLAGS:
        value = getattr(ns, name)
        if value is not None:
            hp[name] = value
    if ns.adapter:
        hp["adapter"] = ns.adapter
    lora_flags = {
        "r": ns.lora_r,
        "alpha": ns.lora_alpha,
        "dropout": ns.lora_dropout,
        "target_modules": (
            None
            if ns.lora_target_modules is None
            else (
                "all-linear"
                if ns.lora_target_modules == "all-linear"
                else ns.lora_target_modules.split(",")
            )
        ),
    }
    if any(v is not None for v in lora_flags.values()):
        base = dict(hp.get("lora") or DEFAULT_HP["lora"])
        base.update({k: v for k, v in lora_flags.items() if v is not None})
        hp["lora"] = base
    job["hyperparameters"] = hp
    if ns.output_dir:
        job["output_dir"] = str(Path(ns.output_dir).resolve())
    if ns.init_adapter:
        job["init_adapter"] = str(Path(ns.init_adapter).resolve())
    return job


def cmd_train(ns: argparse.Namespace) -> int:
    from .progress import ProgressReporter, claim_stdout_for_progress

    stream = claim_stdout_for_progress()
    run_id = ns.run_id or "unknown"
    reporter = ProgressReporter(run_id, stream=stream)
    try:
        from .config import parse_job

        job_data = build_job(ns)
        reporter.run_id = str(job_data.get("run_id", run_id))
        job = parse_job(job_data)
        from .train.runner import run_training

        run_training(job, reporter, stop_after_step=ns.stop_after_step)
        return 0
    except RuntimeFailure as exc:
        log.error("%s", exc)
        reporter.failed(exc.kind, str(exc))
        return 2
    except Exception as exc:
        from .train.callbacks import SimulatedInterruption

        if isinstance(exc, SimulatedInterruption):
            log.warning("%s", exc)
            return 3
        log.exception("training failed")
        reporter.failed(type(exc).__name__, str(exc) or repr(exc))
        return 1


def cmd_models(ns: argparse.Namespace) -> int:
    from . import models

    if ns.action == "build-tiny":
        print(models.build_tiny())
    elif ns.action == "prepare-smollm2":
        print(models.ensure_smollm2())
    return 0


def cmd_worker(ns: argparse.Namespace) -> int:
    from .contracts import QUEUE_PREFIX_VARIABLE, queue_prefix
    from .errors import ConfigError
    from .worker import run_worker

    try:
        prefix = (
            queue_prefix(ns.prefix, "--prefix")
            if ns.prefix is not None
            else queue_prefix(os.environ.get(QUEUE_PREFIX_VARIABLE))
        )
    except ConfigError as exc:
        print(f"studio-runtime worker: {exc}", file=sys.stderr)
        return 2
    return run_worker(
        redis_url=ns.redis_url,
        queue=ns.queue,
        concurrency=1,
        lock_duration_ms=ns.lock_duration_ms,
        prefix=prefix,
    )


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def cmd_serve(ns: argparse.Namespace) -> int:
    from .serve.app import serve

    if not ns.api_key and ns.host not in LOOPBACK and not ns.no_api_key:
        print(
            f"studio-runtime serve: refusing to listen on {ns.host} without an API key: set "
            "STUDIO_MODEL_SERVER_API_KEY (or --api-key), or pass --no-api-key to serve an open "
            "endpoint on purpose",
            file=sys.stderr,
        )
        return 2
    adapters = dict(a.split("=", 1) for a in ns.adapters or [])
    serve(
        host=ns.host,
        port=ns.port,
        base_model=ns.base_model,
        adapters=adapters,
        batch_window_ms=ns.batch_window_ms,
        max_batch_size=ns.max_batch_size,
        embeddings=not ns.no_embeddings,
        threads=ns.threads,
        api_key=ns.api_key or None,
        artifact_dir=ns.artifact_dir or None,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=os.environ.get("STUDIO_LOG_LEVEL", "INFO"),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    parser = argparse.ArgumentParser(prog="studio-runtime")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_train_parser(sub)

    worker = sub.add_parser("worker", help="consume the BullMQ training queue")
    worker.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
    )
    worker.add_argument("--queue", default="training")
    worker.add_argument("--lock-duration-ms", type=int, default=30_000)
    worker.add_argument(
        "--prefix",
        default=None,
        help="BullMQ key prefix of the queue (default: QUEUE_PREFIX, else bull); the same as the "
        "services that enqueue its jobs",
    )

    srv = sub.add_parser("serve", help="OpenAI-compatible HTTP server")
    srv.add_argument("--host", default="127.0.0.1")
    srv.add_argument("--port", type=int, default=8000)
    srv.add_argument("--base-model", default="smollm2-135m-instruct")
    srv.add_argument("--adapters", nargs="*", help="name=path of adapter/reward artifacts")
    srv.add_argument("--batch-window-ms", type=float, default=10.0)
    srv.add_argument("--max-batch-size", type=int, default=16)
    srv.add_argument("--no-embeddings", action="store_true")
    srv.add_argument(
        "--threads",
        type=int,
        default=int(os.environ["STUDIO_SERVE_THREADS"])
        if os.environ.get("STUDIO_SERVE_THREADS")
        else None,
        help="intra-op CPU threads (STUDIO_SERVE_THREADS; default: half the usable CPUs)",
    )

    srv.add_argument(
        "--api-key",
        default=os.environ.get("STUDIO_MODEL_SERVER_API_KEY"),
        help="key every route but /health requires as Authorization: Bearer "
        "(STUDIO_MODEL_SERVER_API_KEY; prefer the variable: arguments show in ps)",
    )
    srv.add_argument(
        "--no-api-key",
        action="store_true",
        help="serve without an API key on a non-loopback address (by default refused)",
    )
    srv.add_argument(
        "--artifact-dir",
        default=os.environ.get("STUDIO_ARTIFACT_DIR"),
        help="the only folder load_lora_adapter loads from (STUDIO_ARTIFACT_DIR; "
        "unset: the route loads nothing)",
    )

    mdl = sub.add_parser("models", help="prepare local base models")
    mdl.add_argument("action", choices=["build-tiny", "prepare-smollm2"])

    ns = parser.parse_args(argv)
    handlers = {"train": cmd_train, "models": cmd_models, "worker": cmd_worker, "serve": cmd_serve}
    return handlers[ns.command](ns)


if __name__ == "__main__":
    sys.exit(main())
