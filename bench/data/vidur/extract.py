#!/usr/bin/env python3
"""Turns Vidur's per-operator profiles (github.com/microsoft/vidur, MIT licence,
data/profiling/compute/<gpu>/<model>/mlp.csv) into lmp's calibration CSV: one row per
operator, token count and tensor-parallel degree, as the lmp calculator that prices the
same operation, its parameters and the measured median in microseconds.

usage: extract.py VIDUR_CHECKOUT OUT_DIR
"""
import csv
import os
import sys

GPUS = {"a100": "a100-sxm-80gb", "h100": "h100-sxm"}
MODELS = {"meta-llama/Llama-2-7b-hf": "llama-2-7b", "meta-llama/Llama-2-70b-hf": "llama-2-70b"}
TOKENS = {1, 8, 32, 64, 128, 256, 512, 1024, 2048, 4096}


def rows_of(rec):
    """(label, class, parameters) of each operator Vidur timed in this record"""
    n = int(rec["num_tokens"])
    tp = int(rec["num_tensor_parallel_workers"])
    h, inter = int(rec["n_embd"]), int(rec["n_expanded_embd"])
    heads, kv = int(rec["n_head"]), int(rec["n_kv_head"])
    hd = h // heads
    qkv = (heads // tp + 2 * max(kv // tp, 1)) * hd
    gated = rec["use_gated_mlp"] == "True"

    def linear(i, o):
        return "torch.nn.modules.linear.Linear", f"in_features={i};out_features={o};bias=false;N={n}"

    yield ("attn_pre_proj",) + linear(h, qkv)
    yield ("attn_post_proj",) + linear(heads // tp * hd, h)
    yield ("mlp_up_proj",) + linear(h, (2 if gated else 1) * inter // tp)
    yield ("mlp_down_proj",) + linear(inter // tp, h)
    # vLLM's fused RMSNorm; SiluAndMul reads gate and up and writes their product (the bytes
    # of torch.mul); the residual add
    yield ("input_layernorm", "transformers.models.llama.modeling_llama.LlamaRMSNorm", f"N={n};hidden_size={h}")
    yield ("mlp_act", "torch.mul", f"numel={n * inter // tp}")
    yield ("add", "torch.add", f"numel={n * h}")


def main():
    root, out = sys.argv[1], sys.argv[2]
    for gpu, hw in GPUS.items():
        for model, short in MODELS.items():
            path = os.path.join(root, "data/profiling/compute", gpu, model, "mlp.csv")
            seen, lines = set(), []
            with open(path) as f:
                for rec in csv.DictReader(f):
                    key = (int(rec["num_tokens"]), int(rec["num_tensor_parallel_workers"]))
                    if key[0] not in TOKENS or key in seen:
                        continue  # Vidur repeats each point; the first is kept
                    seen.add(key)
                    for label, cls, params in rows_of(rec):
                        us = float(rec[f"time_stats.{label}.median"]) * 1000  # Vidur's times are in ms
                        lines.append((cls, params, f"{us:.3f}", f"{label} tokens={key[0]} tp={key[1]}"))
            lines.sort(key=lambda r: (r[3].split()[0], int(r[3].split()[2][3:]), int(r[3].split()[1][7:])))
            with open(os.path.join(out, f"{hw}_{short}.csv"), "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["class", "parameters", "measured_us", "label"])
                w.writerows(lines)


if __name__ == "__main__":
    main()
