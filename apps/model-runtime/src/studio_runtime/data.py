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


def load_preferences(path: str | Path) -> list[dict[str, Any]]:
    """Preference rows, each validated against ``runtime/preference-row.v1`` (the JSON Schema the
    TypeScript side writes the rows with): ``prompt`` (system and user messages), ``chosen`` and
    ``rejected`` (one assistant message each), ``weight >= 0``, ``values``, ``preference_id`` and
    ``clause_ids``. A bad row is a :class:`DatasetError` naming its line and fields."""
    from .contracts import preference_row_errors

    out: list[dict[str, Any]] = []
    for number, row in read_jsonl(path):
        errors = preference_row_errors(row)
        if errors:
            shown = "; ".join(errors[:5]) + ("; ..." if len(errors) > 5 else "")
            raise DatasetError(f"{path}:{number}: not a preference row ({shown})")
        out.append(
            {
                "prompt": [{"role": m["role"], "content": m["content"]} for m in row["prompt"]],
                "chosen": [{"role": "assistant", "content": row["chosen"][0]["content"]}],
                "rejected": [{"role": "assistant", "content": row["rejected"][0]["content"]}],
                "weight": float(row["weight"]),
                "values": list(row["values"]),
                "preference_id": row["preference_id"],
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
