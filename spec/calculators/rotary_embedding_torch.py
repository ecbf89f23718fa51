# LlamaRotaryEmbedding.forward as transformers 4.48 to 4.57 write it, run under a
# TorchDispatchMode that counts what FlopCounterMode counts (2 FLOPs per multiply-add of
# mm/bmm). Prints a JSON list of [batch, seq, head_dim, matmul FLOPs].
import json
import torch
from torch.utils._python_dispatch import TorchDispatchMode


class Count(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = str(func.overloadpacket)
        if name == "aten.bmm":
            b, m, k = args[0].shape
            self.flops += 2 * b * m * k * args[1].shape[-1]
        elif name == "aten.mm":
            m, k = args[0].shape
            self.flops += 2 * m * k * args[1].shape[-1]
        return func(*args, **(kwargs or {}))


def rotary(batch, seq, head_dim, base=10000.0, attention_scaling=1.0):
    inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2).float() / head_dim))
    position_ids = torch.arange(seq).unsqueeze(0).expand(batch, -1)  # as generate passes them
    with Count() as c:
        inv_freq_expanded = inv_freq[None, :, None].float().expand(position_ids.shape[0], -1, 1)
        position_ids_expanded = position_ids[:, None, :].float()
        freqs = (inv_freq_expanded.float() @ position_ids_expanded.float()).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos = emb.cos() * attention_scaling
        sin = emb.sin() * attention_scaling
        cos, sin = cos.to(torch.float16), sin.to(torch.float16)
    return c.flops


print(json.dumps([[b, s, d, rotary(b, s, d)] for b, s, d in [(1, 2048, 128), (3, 5, 128), (2, 7, 32), (4, 1, 80), (1, 9, 3)]]))
