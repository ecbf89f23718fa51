"""PyTorch's own count of a model, independent of lmp and of its exporter: the parameters
(sum of p.numel()) and the FLOPs of the matrix products and convolutions one forward runs, as
torch's flop counter rules count them (2 FLOPs a multiply-add), taken from the aten ops a
TorchDispatchMode sees on the meta device.

usage: torch_counts.py MODULE --batch B --size X [--input tokens|image] [--arg NAME=VALUE ...]
prints {"params": ..., "matmul_flops": ...}"""
import argparse
import importlib
import json
import math
import runpy

import torch
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten


def prod(xs):
    return math.prod(int(x) for x in xs)


def mm_flops(a, b):  # [m, k] @ [k, n]
    return 2 * int(a.shape[0]) * int(a.shape[1]) * int(b.shape[1])


def bmm_flops(a, b):  # [B, m, k] @ [B, k, n]
    return 2 * int(a.shape[0]) * int(a.shape[1]) * int(a.shape[2]) * int(b.shape[2])


def conv_flops(args, out):  # every output sums in_channels / groups x kernel products
    weight = args[1]
    return 2 * out.numel() * prod(weight.shape[1:])


class Count(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.flops, self.ops = 0, {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        packet = func.overloadpacket
        flops = None
        if packet is aten.mm:
            flops = mm_flops(args[0], args[1])
        elif packet is aten.addmm:
            flops = mm_flops(args[1], args[2])
        elif packet is aten.bmm:
            flops = bmm_flops(args[0], args[1])
        elif packet is aten.baddbmm:
            flops = bmm_flops(args[1], args[2])
        elif packet is aten.convolution:
            flops = conv_flops(args, out)
        if flops is not None:
            self.flops += flops
            self.ops[str(packet)] = self.ops.get(str(packet), 0) + 1
        return out


def constructor(spec):
    if ".py:" in spec:
        path, name = spec.split(":", 1)
        return runpy.run_path(path)[name]
    mod, _, attr = spec.rpartition(".")
    return getattr(importlib.import_module(mod), attr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("module")
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--input", default="image")
    ap.add_argument("--arg", action="append", default=[])
    a = ap.parse_args()
    kwargs = {k: json.loads(v) for k, _, v in (x.partition("=") for x in a.arg)}
    model = constructor(a.module)(**kwargs).eval()
    params = sum(p.numel() for p in model.parameters())
    model = model.to("meta")
    if a.input == "tokens":
        x = torch.zeros(a.batch, a.size, dtype=torch.long, device="meta")
    else:
        x = torch.empty(a.batch, 3, a.size, a.size, device="meta")
    count = Count()
    with torch.no_grad(), count:
        model(x)
    print(json.dumps({"params": params, "matmul_flops": count.flops, "ops": count.ops}))


if __name__ == "__main__":
    main()
