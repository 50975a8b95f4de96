"""Reward-model training with per-pair weights.

The same weights as weighted DPO (``dpo.py``; ``pair_weights.py``): each pair's weight
``w_i >= 0`` from the preference dataset, normalised over the training set to mean 1, scales the
pair's Bradley-Terry loss ``-log sigmoid(r_chosen - r_rejected)`` before the batch mean. With all
weights equal the loss is TRL's ``RewardTrainer`` loss; a pair of weight 0 contributes no
gradient, and the value priorities, agreement, source and verdict balance of the aggregation shape
the reward model as they shape DPO.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from trl import RewardTrainer
from trl.trainer.reward_trainer import DataCollatorForPreference

from .callbacks import CountTokensMixin
from .pair_weights import WEIGHT_COLUMN, PairWeightCollatorMixin, PairWeightColumnMixin


class WeightedRewardCollator(PairWeightCollatorMixin, DataCollatorForPreference):
    """TRL's reward collator with the ``pair_weight`` column."""


class WeightedRewardTrainer(PairWeightColumnMixin, CountTokensMixin, RewardTrainer):
    """TRL ``RewardTrainer`` whose pairwise loss is scaled per pair by ``pair_weight``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.data_collator = WeightedRewardCollator(
            pad_token_id=self.processing_class.pad_token_id,  # type: ignore[union-attr]
            pad_to_multiple_of=self.args.pad_to_multiple_of,
        )

    def compute_loss(
        self,
        model: Any,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        weights = inputs.pop(WEIGHT_COLUMN, None)
        # TRL's loss, forward pass and metrics (accuracy, margin, rewards); the loss is then
        # recomputed from the same rewards with the weights.
        base_loss, outputs = super().compute_loss(model, inputs, return_outputs=True)
        loss = base_loss
        if weights is not None:
            chosen, rejected = torch.chunk(outputs.logits.squeeze(-1), chunks=2)
            per_pair = -F.logsigmoid(chosen - rejected)
            loss = (per_pair * weights.to(per_pair.device, per_pair.dtype)).mean()
            if self.args.center_rewards_coefficient is not None:
                loss = loss + self.args.center_rewards_coefficient * torch.mean(
                    (chosen + rejected) ** 2
                )
        return (loss, outputs) if return_outputs else loss
