"""Datasets: JSON lines readers, validation with line numbers, hashing, splits, tokenisation."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any, TypeVar

from transformers import PreTrainedTokenizerBase

from .errors import DatasetError

Message = dict[str, str]
T = TypeVar("T")
ROLES = {"system", "user", "assistant"}


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_jsonl(path: str | Path) -> list[tuple[int, dict[str, Any]]]:
    """``(line_number, object)`` for every non-blank line; a clear error for anything else."""
    p = Path(path)
    if not p.exists():
        raise DatasetError(f"dataset file {p} does not exist")
    rows: list[tuple[int, dict[str, Any]]] = []
    with p.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{p}:{number}: malformed JSON line ({exc.msg})") from exc
            if not isinstance(obj, dict):
                raise DatasetError(f"{p}:{number}: expected a JSON object per line")
            rows.append((number, obj))
    if not rows:
        raise DatasetError(f"dataset file {p} has no examples")
    return rows


def _messages(value: Any, where: str, field: str) -> list[Message]:
    if not isinstance(value, list) or not value:
        raise DatasetError(f"{where}: '{field}' must be a non-empty list of messages")
    out: list[Message] = []
    for i, m in enumerate(value):
        if (
            not isinstance(m, dict)
            or m.get("role") not in ROLES
            or not isinstance(m.get("content"), str)
        ):
            raise DatasetError(
                f"{where}: {field}[{i}] must be {{'role': system|user|assistant, 'content': str}}"
            )
        out.append({"role": m["role"], "content": m["content"]})
    return out


def load_conversations(path: str | Path) -> list[list[Message]]:
    convs: list[list[Message]] = []
    for number, row in read_jsonl(path):
        where = f"{path}:{number}"
        msgs = _messages(row.get("messages"), where, "messages")
        if not any(m["role"] == "assistant" for m in msgs):
            raise DatasetError(f"{where}: conversation has no assistant message")
        convs.append(msgs)
    return convs


def _turns(value: Any, where: str, field: str, role: str) -> list[Message]:
    if isinstance(value, str):
        return [{"role": role, "content": value}]
    return _messages(value, where, field)


def load_preferences(path: str | Path) -> list[dict[str, Any]]:
    """Rows ``{prompt, chosen, rejected}`` as message lists plus ``weight`` (default 1)."""
    out: list[dict[str, Any]] = []
    for number, row in read_jsonl(path):
        where = f"{path}:{number}"
        for key in ("prompt", "chosen", "rejected"):
            if key not in row:
                raise DatasetError(f"{where}: missing '{key}'")
        weight = row.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise DatasetError(f"{where}: 'weight' must be a number >= 0, got {weight!r}")
        values = row.get("values", [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise DatasetError(f"{where}: 'values' must be a list of strings")
        out.append(
            {
                "prompt": _turns(row["prompt"], where, "prompt", "user"),
                "chosen": _turns(row["chosen"], where, "chosen", "assistant"),
                "rejected": _turns(row["rejected"], where, "rejected", "assistant"),
                "weight": float(weight),
            }
        )
    return out


def split_eval(rows: list[T], ratio: float, seed: int) -> tuple[list[T], list[T]]:
    """Deterministic hold-out split; at least one eval row when ``ratio > 0`` and rows allow."""
    if ratio <= 0 or len(rows) < 2:
        return rows, []
    idx = list(range(len(rows)))
    random.Random(seed).shuffle(idx)
    n_eval = max(1, round(len(rows) * ratio))
    held = set(idx[:n_eval])
    return [r for i, r in enumerate(rows) if i not in held], [rows[i] for i in sorted(held)]


def _ids(tokenizer: PreTrainedTokenizerBase, messages: list[Message], gen: bool) -> list[int]:
    out = tokenizer.apply_chat_template(
        messages, tokenize=True, add_generation_prompt=gen, return_dict=True
    )
    return list(out["input_ids"])


def tokenize_conversation(
    tokenizer: PreTrainedTokenizerBase, messages: list[Message]
) -> dict[str, list[int]]:
    """``input_ids`` and ``assistant_masks`` (1 on assistant tokens, their end-of-turn included).

    The mask is computed by rendering growing prefixes of the conversation, so it works with any
    prefix-preserving chat template (no ``{% generation %}`` markers needed).
    """
    full = _ids(tokenizer, messages, gen=False)
    mask = [0] * len(full)
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        start = len(_ids(tokenizer, messages[:i], gen=True)) if i else 0
        end = len(_ids(tokenizer, messages[: i + 1], gen=False))
        for j in range(start, min(end, len(full))):
            mask[j] = 1
    return {"input_ids": full, "assistant_masks": mask}


def preference_texts(
    tokenizer: PreTrainedTokenizerBase, row: dict[str, Any]
) -> tuple[list[int], list[int]]:
    """Token ids of prompt+chosen and prompt+rejected as full chats (reward-model input)."""
    return (
        _ids(tokenizer, row["prompt"] + row["chosen"], gen=False),
        _ids(tokenizer, row["prompt"] + row["rejected"], gen=False),
    )
