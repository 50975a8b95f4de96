"""Training: supervised fine-tuning, reward models and (weighted) DPO."""
