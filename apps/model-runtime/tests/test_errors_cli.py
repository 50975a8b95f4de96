from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import sft_rows, train, write_jsonl
from studio_runtime.contracts import validate_progress_event
from studio_runtime.errors import ConfigError, DatasetError, ModelError


def test_bad_config_is_rejected_with_the_field(make_job):
    job = make_job("sft", sft_rows(4))
    job["hyperparameters"]["batch_size"] = 0
    with pytest.raises(ConfigError, match="batch_size"):
        train(job)


def test_method_and_format_must_agree(make_job):
    job = make_job("sft", sft_rows(4))
    job["dataset"]["format"] = "preference"
    with pytest.raises(ConfigError, match="conversational"):
        train(job)


def test_missing_dataset_file(make_job, tmp_path):
    job = make_job("sft", sft_rows(4))
    job["dataset"]["train_path"] = str(tmp_path / "missing.jsonl")
    with pytest.raises(DatasetError, match="does not exist"):
        train(job)


def test_malformed_line_reports_line_number(make_job, tmp_path):
    job = make_job("sft", sft_rows(4))
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(sft_rows(1)[0]) + "\n{oops\n")
    from studio_runtime.data import sha256_file

    job["dataset"]["train_path"] = str(path)
    job["dataset"]["sha256"] = sha256_file(path)
    with pytest.raises(DatasetError, match=r"bad\.jsonl:2: malformed JSON"):
        train(job)


def test_wrong_message_shape_reports_line(tmp_path):
    from studio_runtime.data import load_conversations

    path = write_jsonl(tmp_path / "x.jsonl", [*sft_rows(1), {"messages": [{"role": "bot"}]}])
    with pytest.raises(DatasetError, match=r"x\.jsonl:2: messages\[0\]"):
        load_conversations(path)


def test_sha_mismatch(make_job):
    job = make_job("sft", sft_rows(4))
    job["dataset"]["sha256"] = "0" * 64
    with pytest.raises(DatasetError, match="sha256"):
        train(job)


def test_unknown_base_model(make_job):
    job = make_job("sft", sft_rows(4))
    job["base_model"] = "gpt-17"
    with pytest.raises(ModelError, match="unknown base model 'gpt-17'"):
        train(job)


def test_qlora_without_cuda_is_a_clear_error(make_job, tiny_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA present: QLoRA may legitimately work here")
    job = make_job("sft", sft_rows(4), adapter="qlora")
    with pytest.raises(ModelError, match="QLoRA"):
        train(job)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "studio_runtime.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_stdout_is_only_schema_valid_progress(tmp_path, tiny_path):
    train_path = write_jsonl(tmp_path / "t.jsonl", sft_rows(8))
    proc = _cli(
        "train", "sft", "--base-model", "tiny", "--train", str(train_path),
        "--output-dir", str(tmp_path / "out"), "--max-steps", "2", "--batch-size", "2",
        "--eval-ratio", "0.25", "--checkpoint-every-steps", "1", "--run-id", "cli-1",
        "--lora-r", "4", "--lora-target-modules", "q_proj,v_proj",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    for e in events:
        validate_progress_event(e)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "started" and kinds[-1] == "completed"
    assert {"step", "eval", "checkpoint"} <= set(kinds)


def test_cli_failure_emits_failed_event(tmp_path):
    proc = _cli("train", "sft", "--base-model", "tiny", "--train", str(tmp_path / "nope.jsonl"),
                "--output-dir", str(tmp_path / "out"), "--run-id", "cli-2")  # fmt: skip
    assert proc.returncode == 2
    (event,) = [json.loads(line) for line in proc.stdout.splitlines()]
    validate_progress_event(event)
    assert event["event"] == "failed" and "does not exist" in event["error"]["message"]


def test_serve_takes_its_api_key_and_artifact_folder_from_flags_or_environment(
    monkeypatch, tmp_path
):
    from studio_runtime import cli
    from studio_runtime.serve import app

    seen: list[dict] = []
    monkeypatch.setattr(app, "serve", lambda **kw: seen.append(kw))
    monkeypatch.setenv("STUDIO_MODEL_SERVER_API_KEY", "key-from-env")
    monkeypatch.setenv("STUDIO_ARTIFACT_DIR", str(tmp_path))
    assert cli.main(["serve", "--base-model", "tiny"]) == 0
    assert cli.main(["serve", "--api-key", "key-from-flag", "--artifact-dir", "/srv/a"]) == 0
    monkeypatch.delenv("STUDIO_MODEL_SERVER_API_KEY")
    monkeypatch.delenv("STUDIO_ARTIFACT_DIR")
    assert cli.main(["serve"]) == 0
    assert [(kw["api_key"], kw["artifact_dir"]) for kw in seen] == [
        ("key-from-env", str(tmp_path)),
        ("key-from-flag", "/srv/a"),
        (None, None),
    ]


def test_serve_refuses_an_open_endpoint_beyond_loopback(monkeypatch, capsys):
    from studio_runtime import cli
    from studio_runtime.serve import app

    seen: list[dict] = []
    monkeypatch.setattr(app, "serve", lambda **kw: seen.append(kw))
    monkeypatch.delenv("STUDIO_MODEL_SERVER_API_KEY", raising=False)
    assert cli.main(["serve", "--host", "0.0.0.0"]) == 2
    assert "refusing to listen on 0.0.0.0 without an API key" in capsys.readouterr().err
    assert seen == []
    assert cli.main(["serve", "--host", "0.0.0.0", "--api-key", "k"]) == 0
    assert cli.main(["serve", "--host", "0.0.0.0", "--no-api-key"]) == 0
    assert cli.main(["serve", "--host", "127.0.0.1"]) == 0
    assert [kw["host"] for kw in seen] == ["0.0.0.0", "0.0.0.0", "127.0.0.1"]
