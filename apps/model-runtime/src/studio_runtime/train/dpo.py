"""DPO with per-pair weights.

Each preference pair carries a weight ``w_i >= 0`` (from value priorities). Weights are
normalised over the whole training set to mean 1 (``w_i / mean(w)``), and the per-pair sigmoid
DPO loss is multiplied by the normalised weight before averaging over the batch:

    loss = mean_i( w_i / mean(w) * -log sigmoid(beta * delta_i) )

so that with all weights equal the loss equals TRL's standard DPO loss, a pair with weight 0
contributes exactly zero gradient, and a pair with weight 2 pulls twice as hard as an average
one. With ``loss_type=["sigmoid", "sft"]`` (TRL's RPO form, ``loss_weights=[1, alpha]``) each
pair's loss also gets ``alpha`` times the chosen answer's mean token NLL, weighted the same way:
it keeps the chosen answers likely, where plain DPO can widen the margin by making both less so.
The reference log-probabilities come from the same PEFT model: its frozen ``ref`` adapter when
training starts from an adapter, else with the adapter disabled (``ref_model=None``); no second
copy of the model is held in memory.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from trl import DPOTrainer
from trl.trainer.dpo_trainer import DataCollatorForPreference
from trl.trainer.utils import use_adapter

from .callbacks import CountTokensMixin
from .pair_weights import WEIGHT_COLUMN, PairWeightCollatorMixin, PairWeightColumnMixin


class WeightedPreferenceCollator(PairWeightCollatorMixin, DataCollatorForPreference):
    """TRL's DPO collator with the ``pair_weight`` column."""


class WeightedDPOTrainer(PairWeightColumnMixin, CountTokensMixin, DPOTrainer):
    """TRL ``DPOTrainer`` whose sigmoid loss is scaled per pair by ``pair_weight``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if list(self.loss_types) not in (["sigmoid"], ["sigmoid", "sft"]):
            raise ValueError("weighted DPO supports loss_type ['sigmoid'] or ['sigmoid', 'sft']")
        if self.precompute_ref_logps:
            raise ValueError("weighted DPO computes reference log-probs on the fly")
        tok = self.processing_class
        pad_id = getattr(tok, "pad_token_id", None)
        if pad_id is None:
            pad_id = tok.tokenizer.pad_token_id  # type: ignore[union-attr]
        self.data_collator = WeightedPreferenceCollator(
            pad_token_id=pad_id,
            max_length=self.args.max_length,
            truncation_mode=self.args.truncation_mode,
            pad_to_multiple_of=self.args.pad_to_multiple_of,
        )

    def _sequence_logps(
        self, model: Any, model_kwargs: dict[str, Any], labels: torch.Tensor, seq_len: int
    ) -> torch.Tensor:
        return self._token_logps(model, model_kwargs, labels, seq_len).sum(dim=1)

    def _token_logps(
        self, model: Any, model_kwargs: dict[str, Any], labels: torch.Tensor, seq_len: int
    ) -> torch.Tensor:
        outputs = model(**model_kwargs, labels=labels, fused_lm_head=True)
        per_token_logps: torch.Tensor = outputs.log_probs[:, -seq_len:]
        return per_token_logps

    def _compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool) -> Any:
        mode = "train" if self.model.training else "eval"
        weights = inputs.pop(WEIGHT_COLUMN).to(self.accelerator.device)
        non_model = {"completion_mask", "ref_chosen_logps", "ref_rejected_logps"}
        model_kwargs = {k: v for k, v in inputs.items() if k not in non_model}
        model_kwargs["use_cache"] = False
        completion_mask = inputs["completion_mask"]
        seq_len = completion_mask.size(1) - 1
        labels = inputs["input_ids"].masked_fill(completion_mask == 0, -100)

        token_logps = self._token_logps(model, model_kwargs, labels, seq_len)
        logps = token_logps.sum(dim=1)
        chosen_logps, rejected_logps = logps.chunk(2, dim=0)
        with torch.no_grad():
            unwrapped = self.accelerator.unwrap_model(self.model)
            if self.ref_model is None:
                name = "ref" if "ref" in unwrapped.peft_config else None
                with use_adapter(unwrapped, adapter_name=name):
                    ref_logps = self._sequence_logps(self.model, model_kwargs, labels, seq_len)
            else:
                ref_logps = self._sequence_logps(self.ref_model, model_kwargs, labels, seq_len)
        ref_chosen, ref_rejected = ref_logps.chunk(2, dim=0)

        chosen_logratios = chosen_logps - ref_chosen
        rejected_logratios = rejected_logps - ref_rejected
        per_pair = -F.logsigmoid(self.beta * (chosen_logratios - rejected_logratios))
        per_pair = per_pair * self.loss_weights[0]
        if "sft" in self.loss_types:
            # RPO / TRL's "sft" loss type: the chosen answer's mean token NLL, here per pair so
            # that the pair's weight scales it too (weight 0: still no gradient).
            chosen_tokens = completion_mask[..., 1:].chunk(2, dim=0)[0].to(per_pair.dtype)
            chosen_token_logps = token_logps.chunk(2, dim=0)[0]
            nll = -(chosen_token_logps * chosen_tokens).sum(1) / chosen_tokens.sum(1).clamp(min=1)
            per_pair = per_pair + self.loss_weights[1] * nll
            metrics_nll = nll.detach()
        else:
            metrics_nll = None
        loss = (per_pair * weights.to(per_pair.dtype)).mean()

        chosen_rewards = self.beta * chosen_logratios.detach()
        rejected_rewards = self.beta * rejected_logratios.detach()
        gather = self.accelerator.gather_for_metrics
        metrics = self._metrics[mode]
        metrics["rewards/chosen"].append(gather(chosen_rewards).mean().item())
        metrics["rewards/rejected"].append(gather(rejected_rewards).mean().item())
        metrics["rewards/accuracies"].append(
            gather((chosen_rewards > rejected_rewards).float()).mean().item()
        )
        metrics["rewards/margins"].append(gather(chosen_rewards - rejected_rewards).mean().item())
        if metrics_nll is not None:
            metrics["nll_chosen"].append(gather(metrics_nll).mean().item())
        if mode == "train":
            self._total_train_tokens += int(gather(inputs["attention_mask"].sum()).sum().item())
        metrics["num_tokens"] = [self._total_train_tokens]
        return (loss, None) if return_outputs else loss
