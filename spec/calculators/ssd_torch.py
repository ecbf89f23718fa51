"""Counts the work of transformers' Mamba2Mixer.torch_forward scan (modeling_mamba2.py, main branch), written
out here op for op, under a TorchDispatchMode, and prints one JSON object per case: 'matmul' = 2 x every
product a reduction sums (sum over a dimension longer than 1: torch_forward's broadcast-multiply-and-sum
contractions) + bmm's 2*m*k*n; 'elementwise' = every other arithmetic op's output elements times lmp's
per-element cost (softplus 3, clamp at two bounds 2, else 1). An op neither counted nor known to be free
(a view, a copy, a pad, a mask's negation) stops the script.
A = -exp(A_log) and the causal masks are made before the counting starts (once per call, not counted).
spec/calculators/transformers_ssd_torch_spec.lua compares them with lmp's Mamba2Mixer.ssd calculator."""
import json
import sys

import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten
COST = {"mul": 1, "add": 1, "sub": 1, "exp": 1, "cumsum": 1, "masked_fill": 1, "softplus": 3, "clamp": 2}
FREE = {"expand", "view", "_unsafe_view", "reshape", "permute", "transpose", "cat", "constant_pad_nd", "slice",
        "select", "unsqueeze", "clone", "_to_copy", "copy_", "index_select", "repeat_interleave", "zeros_like",
        "zeros", "empty", "new_zeros", "alias", "detach", "split", "split_with_sizes", "t", "squeeze", "unbind",
        "lift_fresh", "fill", "zero", "empty_like", "bitwise_not", "lift", "contiguous", "_reshape_alias",
        "index", "repeat", "stack", "new_empty", "as_strided", "expand_as"}


class Count(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.matmul = 0
        self.elementwise = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        name = func.overloadpacket.__name__.rstrip("_")
        if name == "sum":
            if args[0].numel() > out.numel():  # a contraction: the products it sums were counted as muls
                self.matmul += 2 * args[0].numel()
                self.elementwise -= args[0].numel()
        elif name == "bmm":
            b, m, k = args[0].shape
            self.matmul += 2 * b * m * k * args[1].shape[-1]
        elif name in COST:
            self.elementwise += COST[name] * out.numel()
        elif name not in FREE:
            raise SystemExit("uncounted op " + name)
        return out


def segment_sum(x, mask_lower, mask_diag):
    n = x.size(-1)
    x = x[..., None].expand(*x.size(), n)
    x = x.masked_fill(~mask_lower, 0)
    s = torch.cumsum(x, dim=-2)
    return s.masked_fill(~mask_diag, -torch.inf)


def chunked(b, t, h, p, n, g, q):
    x, dt = torch.randn(b, t, h * p), torch.randn(b, t, h)
    B, C = torch.randn(b, t, g * n), torch.randn(b, t, g * n)
    dt_bias, D, A = torch.randn(h), torch.randn(h), -torch.exp(torch.randn(h))
    pad = (q - t % q) % q
    c = (t + pad) // q
    masks = [torch.tril(torch.ones(k, k, dtype=torch.bool), diagonal=d) for k in (q, c + 1) for d in (-1, 0)]

    def chunks(v):
        v = F.pad(v, (0, 0, 0, 0, 0, pad) if v.dim() == 4 else (0, 0, 0, pad))
        return v.reshape(v.shape[0], -1, q, *v.shape[2:])

    mode = Count()
    with mode:
        dt = F.softplus(dt + dt_bias)
        dt = torch.clamp(dt, 0.0, float("inf"))
        x = x.reshape(b, t, -1, p)
        B = B.reshape(b, t, -1, n).repeat_interleave(h // g, dim=2, output_size=h)
        C = C.reshape(b, t, -1, n).repeat_interleave(h // g, dim=2, output_size=h)
        D_residual = D[..., None] * F.pad(x, (0, 0, 0, 0, 0, pad))
        x = x * dt[..., None]
        A = A * dt
        x, A, B, C = [chunks(v) for v in (x, A, B, C)]
        A = A.permute(0, 3, 1, 2)
        A_cumsum = torch.cumsum(A, dim=-1)
        L = torch.exp(segment_sum(A, masks[0], masks[1]))
        G = (C[:, :, :, None, :, :] * B[:, :, None, :, :, :]).sum(dim=-1)
        M = (G[..., None] * L.permute(0, 2, 3, 4, 1)[..., None]).sum(dim=-1)
        Y_diag = (M[..., None] * x[:, :, None]).sum(dim=3)
        decay_states = torch.exp(A_cumsum[:, :, :, -1:] - A_cumsum)
        B_decay = B * decay_states.permute(0, -2, -1, 1)[..., None]
        states = (B_decay[..., None, :] * x[..., None]).sum(dim=2)
        states = torch.cat([torch.zeros_like(states[:, :1]), states], dim=1)
        decay_chunk = torch.exp(segment_sum(F.pad(A_cumsum[:, :, :, -1], (1, 0)), masks[2], masks[3])).transpose(1, 3)
        new_states = (decay_chunk[..., None, None] * states[:, :, None, ...]).sum(dim=1)
        states = new_states[:, :-1]
        Y_off = (C[..., None, :] * states[:, :, None, ...]).sum(-1) * torch.exp(A_cumsum).permute(0, 2, 3, 1)[..., None]
        y = (Y_diag + Y_off).reshape(b, -1, h, p) + D_residual
    return mode


def step(b, h, p, n, g):
    x, dt = torch.randn(b, h * p), torch.randn(b, 1, h)
    B, C = torch.randn(b, g * n), torch.randn(b, g * n)
    dt_bias, D, A = torch.randn(h), torch.randn(h), -torch.exp(torch.randn(h))
    state = torch.randn(b, h, p, n)
    mode = Count()
    with mode:
        dt = dt[:, 0, :][:, None, ...].transpose(1, 2).expand(b, h, p)
        dt = F.softplus(dt + dt_bias[..., None].expand(h, p))
        dt = torch.clamp(dt, 0.0, float("inf"))
        A = A[..., None, None].expand(h, p, n)
        dA = torch.exp(dt[..., None] * A)
        B = B.reshape(b, g, -1)[..., None, :].expand(b, g, h // g, n).contiguous().reshape(b, -1, n)
        dB = dt[..., None] * B[..., None, :]
        dBx = dB * x.reshape(b, -1, p)[..., None]
        state = state * dA + dBx
        C = C.reshape(b, g, -1)[..., None, :].expand(b, g, h // g, n).contiguous().reshape(b, -1, n)
        y = torch.bmm(state.view(b * h, p, n), C.view(b * h, n, 1)).view(b, h, p)
        y = y + x.reshape(b, -1, p) * D[..., None].expand(h, p)
    return mode


CASES = [  # batch, seq, heads, head_dim, state, groups, chunk
    (1, 7, 4, 3, 5, 2, 4), (2, 9, 6, 2, 3, 3, 3), (1, 16, 4, 4, 2, 1, 8), (3, 1, 2, 5, 3, 1, 4),
]
rows = []
for b, t, h, p, n, g, q in CASES:
    m = chunked(b, t, h, p, n, g, q)
    rows.append({"batch_size": b, "seq_len": t, "kv_len": 0, "num_heads": h, "head_dim": p, "state_size": n,
                 "n_groups": g, "chunk_size": q, "matmul": m.matmul, "elementwise": m.elementwise})
    s = step(b, h, p, n, g)
    rows.append({"batch_size": b, "seq_len": 1, "kv_len": 5, "num_heads": h, "head_dim": p, "state_size": n,
                 "n_groups": g, "chunk_size": q, "matmul": s.matmul, "elementwise": s.elementwise})
json.dump(rows, sys.stdout)
