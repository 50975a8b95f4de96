from __future__ import annotations

import os

import torch
from transformers import AutoModelForCausalLM


def test_smollm2_loads_offline_from_package_and_answers_coherently():
    from studio_runtime import models

    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    assert (models.smollm2_gguf_dir() / models.SMOLLM2_GGUF).exists()
    path = models.resolve_base_model("smollm2-135m-instruct")
    tok = models.load_tokenizer(path)
    model = AutoModelForCausalLM.from_pretrained(str(path)).eval()
    enc = tok.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}],
        add_generation_prompt=True,
        return_dict=True,
        return_tensors="pt",
    )
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=20, do_sample=False)
    answer = tok.decode(out[0, enc["input_ids"].shape[1] :], skip_special_tokens=True)
    assert "Paris" in answer, answer
