#!/usr/bin/env python3
"""Turns LLMCompass's real-hardware measurements (github.com/PrincetonUniversity/LLMCompass,
BSD 3-Clause, ae/figure5/*/real_hardware/*_A100.csv) into lmp's calibration CSV: each
operation as the lmp calculator that prices it, its parameters and the measured median in
microseconds (host-timed: time.time() around the op and torch.cuda.synchronize()).

usage: extract.py LLMCOMPASS_CHECKOUT OUT.csv
"""
import csv
import os
import sys


def rows(root):
    d = os.path.join(root, "ae/figure5")
    # matmul (bf16): M, N, K, "0.1900ms", "101.7124Tflops"; torch.matmul(M x K, K x N)
    with open(os.path.join(d, "ab/real_hardware/matmul_A100.csv")) as f:
        for r in csv.reader(f):
            m, n, k = (int(x) for x in r[:3])
            us = float(r[3].strip().rstrip("ms")) * 1000
            yield "torch.matmul", f"m={m};k={k};n={n}", us, f"matmul M={m} N={n} K={k}"
    # layernorm (fp16, torch.layer_norm over the last dim, no weight): M, N, M*N/latency/1e9
    with open(os.path.join(d, "de/real_hardware/layernorm_A100.csv")) as f:
        for r in csv.reader(f):
            m, n, thr = int(r[0]), int(r[1]), float(r[2])
            yield ("torch.nn.modules.normalization.LayerNorm", f"N={m};normalized_shape={n};elementwise_affine=false",
                   m * n / (thr * 1e9) * 1e6, f"layernorm M={m} N={n}")
    # softmax (fp16, dim=-1): M, N, M*N/latency/1e9
    with open(os.path.join(d, "cf/real_hardware/softmax_A100.csv")) as f:
        for r in csv.reader(f):
            m, n, thr = int(r[0]), int(r[1]), float(r[2])
            yield "torch.nn.modules.activation.Softmax", f"numel={m * n}", m * n / (thr * 1e9) * 1e6, f"softmax M={m} N={n}"
    # gelu (fp16, approximate="tanh", a 1-D tensor): M, M/latency/1e9
    with open(os.path.join(d, "g/real_hardware/gelu_A100.csv")) as f:
        for r in csv.reader(f):
            m, thr = int(r[0]), float(r[1])
            yield "torch.nn.modules.activation.GELU", f"numel={m};approximate=tanh", m / (thr * 1e9) * 1e6, f"gelu M={m}"


def main():
    root, out = sys.argv[1], sys.argv[2]
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["class", "parameters", "measured_us", "label"])
        for cls, params, us, label in rows(root):
            w.writerow([cls, params, f"{us:.3f}", label])


if __name__ == "__main__":
    main()
