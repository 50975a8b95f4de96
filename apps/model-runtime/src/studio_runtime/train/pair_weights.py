"""Per-pair weights of a preference dataset, shared by weighted DPO (``dpo.py``) and the weighted
reward model (``reward.py``): the ``pair_weight`` column, its normalisation over the training set,
and the trainer and collator mixins that carry it from the dataset into the loss."""

from __future__ import annotations

from typing import Any

import torch

WEIGHT_COLUMN = "pair_weight"


def normalise_weights(weights: list[float]) -> list[float]:
    """The weights divided by their mean (so mean 1); refused when every weight is 0."""
    total = sum(weights)
    if total <= 0:
        raise ValueError("all preference pairs have weight 0; nothing to train on")
    mean = total / len(weights)
    return [w / mean for w in weights]


class PairWeightColumnMixin:
    """Keeps the ``pair_weight`` column through the trainer's removal of unused columns."""

    _signature_columns: list[str] | None

    def _set_signature_columns_if_needed(self) -> None:
        super()._set_signature_columns_if_needed()  # type: ignore[misc]
        if self._signature_columns is not None and WEIGHT_COLUMN not in self._signature_columns:
            self._signature_columns = [*self._signature_columns, WEIGHT_COLUMN]


class PairWeightCollatorMixin:
    """Adds the batch's ``pair_weight`` column to a preference collator's output, as a tensor
    (1 where a row has none)."""

    def torch_call(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        out = super().torch_call(examples)  # type: ignore[misc]
        out[WEIGHT_COLUMN] = torch.tensor(
            [float(e.get(WEIGHT_COLUMN, 1.0)) for e in examples], dtype=torch.float32
        )
        return out
