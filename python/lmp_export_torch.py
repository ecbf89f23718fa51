#!/usr/bin/env python3
"""lmp export-torch: a live torch.nn.Module -> lmp's model JSON (docs/model-format.md).

Run by `lmp export-torch` (which passes --known, the calculators lmp has, and reads --out);
works on torch 1.13 (Debian 12) and torch 2.x, with transformers when it is installed.

How: the model is built on the meta device (no weights allocated, no real compute); one
forward per input size runs with every module's forward wrapped (the module tree, with full
class names, and each call's inputs) and under a TorchFunctionMode (the torch functions a
composite module's own forward calls: matmul, softmax, add, ...). A module lmp has a
calculator for is a basic layer, its parameters taken from its attributes and its input's
shape; the compute a composite does outside its children becomes basic layers of its own.
A module without a calculator is a basic layer too, with its constructor attributes, and is
listed so that `lmp generate` can write one.

Shapes become exact formulas of the runtime inputs: the forward is traced over a grid of
batch sizes and a window of consecutive sizes (sequence length or image side), each integer
is fitted exactly (rational arithmetic) as a polynomial in batch_size and in one term
floor((size + c) / S) (what a chain of strided convolutions and pools gives), and every
formula is checked at a further size never used to fit it. A value no such formula matches
is an error naming the layer.
"""
import argparse
import contextlib
import importlib
import json
import os
import runpy
import sys
from fractions import Fraction

PROG = "lmp: export-torch"


class ExportError(Exception):
    pass


def fail(msg):
    raise ExportError(msg)


try:
    import torch
    from torch import nn
    from torch.overrides import TorchFunctionMode
except ImportError as e:  # lmp checks first; this is for a direct run
    print(f"{PROG}: {sys.executable} has no torch ({e}); install python3-torch or set LMP_PYTHON", file=sys.stderr)
    sys.exit(2)


# ---------------------------------------------------------------- building the model

def class_name(obj):
    t = obj if isinstance(obj, type) else type(obj)
    return t.__module__ + "." + t.__qualname__


def parse_value(text):
    """--arg values: JSON when it parses (3, 1e-5, true, "x", [1, 2]), else the string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


@contextlib.contextmanager
def meta_init():
    """Parameters and buffers created inside land on the meta device (as accelerate's
    init_empty_weights does; it works on torch 1.13, which has no `with torch.device`)."""
    reg_param, reg_buffer = nn.Module.register_parameter, nn.Module.register_buffer

    def register_parameter(self, name, param):
        reg_param(self, name, param)
        if param is not None and param.device.type != "meta":
            p = self._parameters[name]
            self._parameters[name] = type(p)(p.to("meta"), requires_grad=p.requires_grad)

    def register_buffer(self, name, tensor, persistent=True):
        reg_buffer(self, name, tensor, persistent)
        if tensor is not None:
            self._buffers[name] = self._buffers[name].to("meta")

    nn.Module.register_parameter, nn.Module.register_buffer = register_parameter, register_buffer
    try:
        yield
    finally:
        nn.Module.register_parameter, nn.Module.register_buffer = reg_param, reg_buffer


def resolve_constructor(spec):
    """'torchvision.models.resnet50' or 'path/file.py:function' -> the callable."""
    if ":" in spec and spec.split(":", 1)[0].endswith(".py"):
        path, name = spec.split(":", 1)
        if not os.path.isfile(path):
            fail(f"{path}: no such file")
        scope = runpy.run_path(path, run_name="lmp_export_user")
        if name not in scope or not callable(scope[name]):
            fail(f"{path}: no function or class '{name}' in it")
        return scope[name]
    mod_name, _, attr = spec.rpartition(".")
    if not mod_name:
        fail(f"'{spec}': give a dotted path (torchvision.models.resnet50) or file.py:function")
    try:
        mod = importlib.import_module(mod_name)
    except ImportError as e:
        fail(f"'{spec}': cannot import {mod_name} ({e})")
    if not callable(getattr(mod, attr, None)):
        fail(f"'{spec}': {mod_name} has no callable '{attr}'")
    return getattr(mod, attr)


def build_model(args, kwargs):
    if args.hf:
        try:
            import transformers
        except ImportError:
            fail(f"--hf needs transformers, which {sys.executable} does not have")
        try:
            config = transformers.AutoConfig.from_pretrained(args.hf)
        except Exception as e:  # no such model, offline without a cached config, ...
            fail(f"--hf {args.hf}: AutoConfig.from_pretrained raised {type(e).__name__}: {e}")
        with meta_init():
            try:
                model = transformers.AutoModelForCausalLM.from_config(config)
            except ValueError:  # not a causal LM (BERT, T5's encoder...): the base model
                model = transformers.AutoModel.from_config(config)
        return model, args.hf
    ctor = resolve_constructor(args.module)
    try:
        with meta_init():
            model = ctor(**kwargs)
    except (NotImplementedError, RuntimeError):
        model = ctor(**kwargs).to("meta")  # an initialiser with no meta kernel: build on the CPU, then move
    if not isinstance(model, nn.Module):
        fail(f"'{args.module}' returned a {type(model).__name__}, not a torch.nn.Module")
    return model.to("meta"), args.module


# ---------------------------------------------------------------- inputs

class InputKind:
    """What the forward is fed: token ids [B, S], images [B, C, H, H] or features [B, S, D]."""

    def __init__(self, spec, model):
        spec = spec or default_input(model)
        kind, _, rest = spec.partition(":")
        if kind not in ("tokens", "image", "features"):
            fail(f"--input '{spec}': expected tokens[:S], image[:CxH] or features:D[xS]")
        nums = [int(x) for x in rest.split("x")] if rest else []
        self.kind = kind
        if kind == "tokens":
            self.var, self.size, self.depth = "seq_len", nums[0] if nums else 128, None
        elif kind == "image":
            self.var, self.depth = "image_size", nums[0] if nums else 3
            own = getattr(model, "image_size", None)  # torchvision's ViT says what it takes
            self.size = nums[1] if len(nums) > 1 else own if isinstance(own, int) else 224
        else:
            if not nums:
                fail(f"--input '{spec}': features needs its width, e.g. features:512")
            self.var, self.depth, self.size = "seq_len", nums[0], nums[1] if len(nums) > 1 else 128
        self.spec = spec

    def make(self, batch, size):
        if self.kind == "tokens":
            return torch.zeros(batch, size, dtype=torch.long, device="meta")
        if self.kind == "image":
            return torch.empty(batch, self.depth, size, size, device="meta")
        return torch.empty(batch, size, self.depth, device="meta")


def default_input(model):
    for m in model.modules():
        if isinstance(m, nn.Embedding):
            return "tokens"
        if isinstance(m, (nn.Conv2d,)):
            return "image"
    fail("cannot tell what this model takes: give --input tokens[:S], image[:CxH] or features:D[xS]")


# ---------------------------------------------------------------- tracing

# torch functions a composite's forward calls, by the name torch gives them, and the class of
# the basic layer they become (the class picks lmp's calculator)
MATMUL = {"matmul", "__matmul__", "__rmatmul__", "bmm", "mm", "baddbmm", "addmm", "mv", "einsum", "linear"}
ELEMENTWISE = {
    "torch.add": {"add", "__add__", "__radd__", "__iadd__", "add_"},
    "torch.sub": {"sub", "__sub__", "__rsub__", "__isub__", "sub_", "rsub", "subtract"},
    "torch.mul": {"mul", "__mul__", "__rmul__", "__imul__", "mul_", "multiply"},
    "torch.div": {"div", "__truediv__", "__rtruediv__", "__itruediv__", "div_", "true_divide", "divide"},
    "torch.neg": {"neg", "__neg__", "negative", "neg_"},
    "torch.cat": {"cat", "concat", "concatenate"},
    "torch.cos": {"cos", "cos_"},
    "torch.sin": {"sin", "sin_"},
    "torch.nn.modules.activation.ReLU": {"relu", "relu_"},
    "torch.nn.modules.activation.GELU": {"gelu"},
    "torch.nn.modules.activation.SiLU": {"silu", "silu_"},
    "torch.nn.modules.activation.Sigmoid": {"sigmoid", "sigmoid_"},
    "torch.nn.modules.activation.Tanh": {"tanh", "tanh_"},
    "torch.nn.modules.activation.Softmax": {"softmax"},
    "torch.nn.modules.dropout.Dropout": {"dropout"},
}
OP_CLASS = {name: cls for cls, names in ELEMENTWISE.items() for name in names}
SDPA = "torch.nn.functional.scaled_dot_product_attention"
# no arithmetic: views, shapes, copies of layout, tensor creation, dtype and device moves
FREE = {
    "view", "view_as", "reshape", "reshape_as", "transpose", "transpose_", "permute", "contiguous", "flatten",
    "unflatten", "unsqueeze", "squeeze", "expand", "expand_as", "size", "dim", "numel", "__getitem__", "chunk",
    "split", "unbind", "narrow", "select", "to", "float", "half", "bfloat16", "double", "type_as", "type",
    "detach", "clone", "t", "__len__", "__iter__", "__get__", "__set__", "__format__", "__repr__", "__bool__",
    "__index__", "__int__", "__hash__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "zeros",
    "ones", "empty", "full", "arange", "tensor", "zeros_like", "ones_like", "empty_like", "full_like", "new_zeros",
    "new_ones", "new_empty", "new_full", "new_tensor", "is_floating_point", "is_complex", "stride", "data_ptr",
    "element_size", "dtype", "device", "shape", "requires_grad_", "movedim", "swapaxes", "stack", "get_device",
    "is_contiguous", "long", "int", "bool", "masked_fill_", "fill_", "zero_", "copy_", "__setitem__", "triu",
    "tril", "repeat_interleave", "flip", "roll", "broadcast_to", "cpu", "cuda", "item", "tolist", "__array__",
    "_has_compatible_shallow_copy_type", "__contains__", "unfold", "as_strided", "_make_subclass",
}


def op_name(func):
    return getattr(func, "__name__", None) or getattr(func, "name", None) or str(func)


def tensors(seq):
    return [x for x in seq if isinstance(x, torch.Tensor)]


def numel(t):
    return int(t.numel())


def matmul_params(name, args, kwargs, out):
    """batch, m, k, n of one matrix product (2 FLOPs per multiply-add), from its operands."""
    ts = tensors(args)
    if name == "einsum":
        eq = args[0].replace(" ", "")
        ins, _, res = eq.partition("->")
        ops = ins.split(",")
        if len(ops) != 2 or "..." in eq:
            return None
        sizes = {}
        for letters, t in zip(ops, ts):
            for letter, d in zip(letters, t.shape):
                sizes[letter] = int(d)
        k = 1
        for letter in set(ops[0]) & set(ops[1]):
            if letter not in res:
                k *= sizes[letter]
        rest = 1
        for letter in set(ops[0]) | set(ops[1]):
            if letter in res or letter not in set(ops[0]) & set(ops[1]):
                rest *= sizes[letter]
        return {"batch": 1, "m": rest, "k": k, "n": 1}
    if name == "linear":
        x, w = ts[0], ts[1]
        return {"batch": 1, "m": numel(x) // int(x.shape[-1]), "k": int(w.shape[-1]), "n": int(w.shape[0])}
    if name in ("addmm", "baddbmm"):
        ts = ts[1:3]
    a, b = ts[0], ts[1]
    k = int(a.shape[-1])
    m = int(a.shape[-2]) if a.dim() >= 2 else 1
    n = int(b.shape[-1]) if b.dim() >= 2 else 1
    return {"batch": numel(out) // (m * n) if (m * n) else 0, "m": m, "k": k, "n": n}


def op_layer(name, args, kwargs, out):
    """(class, parameters) of the basic layer a torch function call becomes, or None when free."""
    if name in FREE or name.startswith("_") and not name.startswith("__"):
        return None
    outs = [out] if isinstance(out, torch.Tensor) else tensors(out) if isinstance(out, (tuple, list)) else []
    out_numel = sum(numel(t) for t in outs)
    if name in MATMUL:
        p = matmul_params(name, args, kwargs, out)
        if p is not None:
            return "torch.matmul", p
    if name == "scaled_dot_product_attention":
        q, k = tensors(args)[0], tensors(args)[1]
        mask = kwargs.get("attn_mask") is not None or kwargs.get("is_causal") or (len(args) > 3 and args[3] is not None)
        return SDPA, {"batch_size": int(q.shape[0]), "num_heads": int(q.shape[-3]) if q.dim() > 3 else 1,
                      "num_kv_heads": int(k.shape[-3]) if k.dim() > 3 else 1, "q_len": int(q.shape[-2]),
                      "key_len": int(k.shape[-2]), "head_dim": int(q.shape[-1]), "masked": bool(mask)}
    cls = OP_CLASS.get(name)
    if cls in ("torch.add", "torch.sub", "torch.mul", "torch.div"):
        p = {"numel": out_numel}
        operands = [a for a in args[:2]]
        second = operands[1] if len(operands) > 1 else kwargs.get("other")
        # always given (when equal to numel it reads the same as a full operand), so the file's
        # layers do not change with the batch (ViT's pos_embedding is broadcast at batch 2, not 1)
        small = numel(second) if isinstance(second, torch.Tensor) else 1
        if cls == "torch.div":  # torch_div.lua reads the divisor's size; 1 / x divides by x
            p["divisor_numel"] = out_numel if name == "__rtruediv__" else small
        else:
            p["broadcast_numel"] = small
        return cls, p
    if cls == "torch.nn.modules.activation.GELU":
        return cls, {"numel": out_numel, "approximate": kwargs.get("approximate", "none")}
    if cls is not None:
        return cls, {"numel": out_numel}
    return "torch." + name.strip("_"), {"numel": out_numel}  # no calculator: reported, never dropped


class Node:
    def __init__(self, name, cls, module=None):
        self.name, self.cls, self.module = name, cls, module
        self.children, self.params, self.basic = [], None, False
        self.tie = None  # the Node whose weights a repeated call shares

    def path_items(self, prefix=""):
        """(path, key, value) of every parameter, in a stable order."""
        here = prefix + self.name
        if self.params is not None:
            for k in sorted(self.params):
                yield here, k, self.params[k]
        for i, c in enumerate(self.children):
            yield from c.path_items(f"{here}/{i}:")


class Tracer(TorchFunctionMode):
    """One forward: the module tree it runs and the compute of each composite's own code."""

    def __init__(self, model, known):
        super().__init__()
        self.known = known
        self.names = {m: n for n, m in model.named_modules()}
        self.root = Node("", "")
        self.stack = [self.root]  # the composites running, innermost last
        self.inside_basic = 0  # > 0 inside a basic layer's forward: its calls are its calculator's
        self.seen = {}  # module -> first Node it ran as
        self.counts = {}  # (parent Node, name) -> calls so far

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if self.inside_basic == 0 and len(self.stack) > 1:
            name = op_name(func)
            layer = op_layer(name, args, kwargs, out)
            if layer is not None:  # add_, __iadd__ -> "add"
                self.add_child(self.stack[-1], name.strip("_").replace("i", "", name.startswith("__i")) or name, *layer)
        return out

    def add_child(self, parent, base, cls, params):
        n = self.counts.get((id(parent), base), 0) + 1
        self.counts[(id(parent), base)] = n
        node = Node(base if n == 1 else f"{base}_{n}", cls)
        node.params, node.basic = params, True
        parent.children.append(node)
        return node

    def wrap(self, module):
        orig = module.forward
        tracer = self

        def forward(*args, **kwargs):
            if tracer.inside_basic:
                return orig(*args, **kwargs)
            parent = tracer.stack[-1]
            cls = class_name(module)
            attr = tracer.names[module].rpartition(".")[2] or "model"
            # a module without a calculator runs as a composite: its own torch calls are counted
            # (a hand-written rotary embedding); it falls back to one unknown layer below when a
            # call it makes has no calculator either
            basic = cls in tracer.known
            n = tracer.counts.get((id(parent), attr), 0) + 1
            tracer.counts[(id(parent), attr)] = n
            node = Node(attr if n == 1 else f"{attr}_{n}", cls, module)
            parent.children.append(node)
            if module in tracer.seen and any(True for _ in module.parameters()):
                node.tie = tracer.seen[module]
            tracer.seen.setdefault(module, node)
            if basic:
                node.basic = True
                tracer.inside_basic += 1
                try:
                    out = orig(*args, **kwargs)
                finally:
                    tracer.inside_basic -= 1
                node.params = leaf_params(node, module, args, kwargs, out, tracer.known.get(cls))
                return out
            own = [(k, p) for k, p in module.named_parameters(recurse=False)]
            for k, p in own:  # a composite's own weights (ViT's class token): counted here
                leaf = tracer.add_child(node, k, "torch.nn.parameter.Parameter", {"numel": numel(p)})
                leaf.torch_params = numel(p)
            tracer.stack.append(node)
            try:
                out = orig(*args, **kwargs)
            finally:
                tracer.stack.pop()
            if not list(module.children()) and (not node.children or any(
                    c.cls not in tracer.known for c in node.children)):
                node.children, node.basic = [], True
                node.params = leaf_params(node, module, args, kwargs, out, None)
            return out

        module.forward = forward


def first_tensor(args, kwargs):
    for x in list(args) + list(kwargs.values()):
        if isinstance(x, torch.Tensor):
            return x
    return None


def shape_rules(x):
    """Parameters named after the input's shape, as lmp's calculators name them."""
    if x is None:
        return {}
    r = {"numel": numel(x), "batch_size": int(x.shape[0]) if x.dim() else 1}
    if x.dim() >= 1:
        r["N"] = numel(x) // int(x.shape[-1]) if int(x.shape[-1]) else 0
    if x.dim() >= 3:
        r["height"], r["width"], r["channels"] = int(x.shape[-2]), int(x.shape[-1]), int(x.shape[-3])
    return r


def mha_params(m, args, kwargs):
    q = args[0] if args else kwargs["query"]
    k = args[1] if len(args) > 1 else kwargs.get("key", q)
    batch_first = bool(getattr(m, "batch_first", False))
    bdim, ldim = (0, 1) if batch_first and q.dim() == 3 else (1, 0)
    return {"batch_size": int(q.shape[bdim]) if q.dim() == 3 else 1, "q_len": int(q.shape[ldim]),
            "key_len": int(k.shape[ldim]), "bias": m.in_proj_bias is not None, "add_bias_kv": m.bias_k is not None}


def adaptive_pool_params(m, args, kwargs):
    x = first_tensor(args, kwargs)
    size = m.output_size if isinstance(m.output_size, (tuple, list)) else (m.output_size, m.output_size)
    h = size[0] if size[0] is not None else int(x.shape[-2])
    w = size[1] if size[1] is not None else int(x.shape[-1])
    return {"output_size_h": int(h), "output_size_w": int(w)}


# classes whose calculator reads something the general rules below do not give
ADAPTERS = {
    "torch.nn.modules.activation.MultiheadAttention": mha_params,
    "torch.nn.modules.pooling.AdaptiveAvgPool2d": adaptive_pool_params,
    "torch.nn.modules.sparse.Embedding": lambda m, a, k: {"N": numel(first_tensor(a, k))},
    "torch.nn.modules.batchnorm.BatchNorm2d": lambda m, a, k: {"N": numel(first_tensor(a, k)) // m.num_features},
}
# bit widths come from lmp's runtime inputs, never from the export
RUNTIME = {"w_bits", "a_bits", "kv_bits"}


def attr_value(m, name):
    """A constructor attribute as a JSON scalar, or None."""
    if name == "bias" and hasattr(m, "bias") and not isinstance(getattr(m, "bias"), bool):
        return getattr(m, "bias") is not None
    if name.endswith(("_h", "_w")) and not hasattr(m, name):
        base = getattr(m, name[:-2], None)  # stride_h from stride, kernel_h from kernel_size
        base = getattr(m, name[:-2] + "_size", None) if base is None else base
        if isinstance(base, int) and not isinstance(base, bool):
            return base
        if isinstance(base, (tuple, list)) and len(base) == 2 and all(isinstance(v, int) for v in base):
            return int(base[0] if name.endswith("_h") else base[1])
        return None
    v = getattr(m, name, None)
    if isinstance(v, (tuple, list)) and len(v) == 1:
        v = v[0]
    if isinstance(v, torch.Size):
        return None
    if isinstance(v, (bool, int, float, str)):
        return v
    return None


def ctor_attrs(m):
    """An unknown module's scalar attributes, for the calculator `lmp generate` writes."""
    out = {}
    for k, v in sorted(vars(m).items()):
        if k.startswith("_") or k == "training":
            continue
        if isinstance(v, (tuple, list)) and len(v) == 1:
            v = v[0]
        if isinstance(v, (bool, int, float, str)):
            out[k] = v
        elif isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(x, int) for x in v):
            out[k + "_h"], out[k + "_w"] = int(v[0]), int(v[1])
    return out


def leaf_params(node, m, args, kwargs, out, wanted):
    x = first_tensor(args, kwargs)
    rules = shape_rules(x)
    node.torch_params = sum(numel(p) for p in m.parameters())
    if wanted is None:  # no calculator: what a generated one can read
        p = ctor_attrs(m)
        p.update({k: rules[k] for k in ("numel", "batch_size") if k in rules})
        return p
    special = ADAPTERS.get(class_name(m), lambda *a: {})(m, args, kwargs)
    params = {}
    for name, has_default in wanted.items():
        if name in RUNTIME:
            continue
        if name in special:
            v = special[name]
        else:
            v = attr_value(m, name)
            if v is None:
                v = rules.get(name)
        if v is None:
            if has_default:
                continue
            fail(f"layer {node.name} ({class_name(m)}): its calculator needs '{name}', which neither the module's "
                 "attributes nor its input's shape give; write a builder, or an adapter in python/lmp_export_torch.py")
        params[name] = v
    return params


def trace(model, known, inputs, batch, size):
    tracer = Tracer(model, known)
    originals = [(m, vars(m).get("forward")) for m in model.modules()]  # an instance's own forward, if any
    for m, _ in originals:
        tracer.wrap(m)
    top = tracer.root
    try:
        with torch.no_grad(), tracer:
            model(inputs.make(batch, size))
    finally:
        for m, own in originals:
            if own is None:
                del m.forward
            else:
                m.forward = own
    return top.children


# ---------------------------------------------------------------- exact formulas

def solve(rows, rhs):
    """Exact solution of a square linear system (Gaussian elimination on Fractions), or None."""
    n = len(rows)
    a = [[Fraction(v) for v in r] + [Fraction(b)] for r, b in zip(rows, rhs)]
    for col in range(n):
        piv = next((r for r in range(col, n) if a[r][col] != 0), None)
        if piv is None:
            return None
        a[col], a[piv] = a[piv], a[col]
        for r in range(n):
            if r != col and a[r][col] != 0:
                f = a[r][col] / a[col][col]
                a[r] = [x - f * y for x, y in zip(a[r], a[col])]
    return [a[i][n] / a[i][i] for i in range(n)]


def find_term(series):
    """series: {size: value} over consecutive sizes. The term t = (size + c) // S whose steps
    the value's steps follow: (S, c), (1, 0) for the size itself, None for no dependence on the
    size, "none" when no such term fits."""
    sizes = sorted(series)
    steps = [x for x in sizes[1:] if series[x] != series[x - 1]]
    if not steps:
        return None
    gaps = {b - a for a, b in zip(steps, steps[1:])}
    if len(gaps) != 1:  # one step only (a stride past the window) or uneven steps: no such term
        return "none"
    s = gaps.pop()
    return (s, (-steps[0]) % s)


def term_value(term, size):
    s, c = term
    return (size + c) // s


MONOMIALS = [(i, j) for i in range(3) for j in range(3)]  # batch^i * term^j


def fit(samples, term):
    """samples: {(batch, size): value}. Coefficients of sum c_ij b^i t^j matching every sample."""
    pts = {}
    for (b, x), v in samples.items():
        t = term_value(term, x) if term else 0
        pts.setdefault((b, t), v)
        if pts[(b, t)] != v:
            return None
    bs = sorted({b for b, _ in pts})[:3]
    ts = sorted({t for _, t in pts})[:3]
    mons = [(i, j) for i, j in MONOMIALS if i < len(bs) and j < len(ts)]
    chosen = [(b, t) for b in bs for t in ts if (b, t) in pts][:len(mons)]
    if len(chosen) < len(mons):
        return None
    coef = solve([[b ** i * t ** j for i, j in mons] for b, t in chosen], [pts[p] for p in chosen])
    if coef is None:
        return None
    sol = dict(zip(mons, coef))
    for (b, t), v in pts.items():
        if sum(c * b ** i * t ** j for (i, j), c in sol.items()) != v:
            return None
    return {k: c for k, c in sol.items() if c != 0}


def evaluate(formula, b, x):
    coef, term = formula
    t = term_value(term, x) if term else 0
    return sum(c * b ** i * t ** j for (i, j), c in coef.items())


def render(formula, var):
    coef, term = formula
    if not coef:
        return 0
    if set(coef) == {(0, 0)} and coef[(0, 0)].denominator == 1:
        return int(coef[(0, 0)])
    if term is None or term == (1, 0):
        t = "${" + var + "}"
    else:
        t = "(${%s} + %d) // %d" % (var, term[1], term[0]) if term[1] else "${%s} // %d" % (var, term[0])
    parts = []
    for (i, j), c in sorted(coef.items(), key=lambda kv: (-kv[0][0] - kv[0][1], kv[0])):
        factors = ["${batch_size}"] * i + ([f"({t})" if "//" in t else t] * j)
        num, den = abs(c.numerator), c.denominator
        if num != 1 or not factors:
            factors.append(str(num))
        text = " * ".join(factors) + (f" / {den}" if den != 1 else "")
        parts.append(("- " if c < 0 else "+ ") + text)
    s = " ".join(parts)
    return s[2:] if s.startswith("+ ") else "-" + s[2:]


def fit_all(grids, var, where):
    """grids: {(batch, size): tree}. Every integer parameter -> an exact formula, or an error."""
    keys = list(grids)
    flat = {k: list(item for c in grids[k] for item in c.path_items()) for k in keys}
    ref = flat[keys[0]]
    for k in keys[1:]:
        if [(p, n) for p, n, _ in flat[k]] != [(p, n) for p, n, _ in ref]:
            fail(f"the module tree changes with the input (batch {k[0]}, {var} {k[1]} vs batch {keys[0][0]}, "
                 f"{var} {keys[0][1]}): it cannot be one model file")
    cache, out = {}, []
    for idx, (path, name, v0) in enumerate(ref):
        values = {k: flat[k][idx][2] for k in keys}
        if not isinstance(v0, int) or isinstance(v0, bool):
            if any(v != v0 for v in values.values()):
                fail(f"layer {where(path)}: '{name}' is {v0!r} at one input size and {values[keys[-1]]!r} at another")
            out.append(v0)
            continue
        sig = tuple(values[k] for k in keys)
        if sig not in cache:
            cache[sig] = fit_one(values, keys)
        formula = cache[sig]
        if formula is None:
            fail(f"layer {where(path)}: '{name}' is no polynomial in batch_size and one ({var} + c) // S "
                 f"(values {sig[:6]}...); write a builder for this model")
        out.append(formula)
    return ref, out


def fit_one(values, keys):
    base_batch = min(b for b, _ in keys)
    series = {x: v for (b, x), v in values.items() if b == base_batch}
    term = find_term(series) if len(series) > 1 else None
    if term == "none":
        return None
    coef = fit(values, term)
    return None if coef is None else (coef, term)


# ---------------------------------------------------------------- the model file

def to_layer(node, params_by_node, var):
    layer = {"name": node.name, "class": node.cls}
    if node.basic:
        layer["parameters"] = {k: (render(v, var) if isinstance(v, tuple) else v)
                               for k, v in sorted(params_by_node[id(node)].items())}
    else:
        layer["sub_layers"] = [to_layer(c, params_by_node, var) for c in node.children]
        if not layer["sub_layers"]:
            return None
    return layer


def collapse(layers):
    """Identical consecutive siblings (ResNet's blocks, ViT's encoder layers) -> one layer with repeat."""
    out = []
    for layer in layers:
        if "sub_layers" in layer:
            layer["sub_layers"] = collapse(layer["sub_layers"])
        body = {k: v for k, v in layer.items() if k not in ("name", "repeat")}
        if out and "_body" in out[-1] and out[-1]["_body"] == body:
            out[-1]["repeat"] = out[-1].get("repeat", 1) + 1
            out[-1]["_last"] = layer["name"]
            continue
        layer["_body"] = body
        out.append(layer)
    for layer in out:
        del layer["_body"]
        last = layer.pop("_last", None)
        if last is not None:
            first = layer["name"]
            i = 0
            while i < min(len(first), len(last)) and first[i] == last[i]:
                i += 1
            while i > 0 and first[i - 1].isdigit():
                i -= 1
            layer["name"] = f"{first}-{last[i:]}"
    return out


def main(argv):
    ap = argparse.ArgumentParser(prog="lmp export-torch")
    ap.add_argument("module", nargs="?")
    ap.add_argument("--hf")
    ap.add_argument("--input")
    ap.add_argument("--arg", action="append", default=[])
    ap.add_argument("--known", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--window", type=int, default=96)
    args = ap.parse_args(argv)
    if bool(args.module) == bool(args.hf):
        fail("give MODULE (a dotted constructor path or file.py:function) or --hf ORG/NAME")
    kwargs = {}
    for a in args.arg:
        k, eq, v = a.partition("=")
        if not eq or not k.isidentifier():
            fail(f"--arg '{a}': expected NAME=VALUE")
        kwargs[k] = parse_value(v)
    with open(args.known) as f:
        known = json.load(f)
    model, source = build_model(args, kwargs)
    model.eval()
    inputs = InputKind(args.input, model)
    var, size = inputs.var, inputs.size

    def run(b, x):
        return trace(model, known, inputs, b, x)

    try:
        run(1, size)
    except ExportError:
        raise
    except Exception as e:
        fail(f"the forward on {inputs.spec} (batch 1, {var} {size}) raised {type(e).__name__}: {e}")
    sizes, fixed = list(range(size - args.window + 1, size + 1)), None
    try:
        run(1, size - 1)
    except ExportError:
        raise
    except Exception as e:  # the model takes one size only (torchvision's ViT): keep it
        sizes, fixed = [size], f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    grids = {(b, x): run(b, x) for b in (1, 2, 3) for x in sizes}
    tree = grids[(1, size)]

    # path_items' keys are "<name>/<i>:<child>..."; map them back to dotted names for messages
    def where(p):
        parts = []
        for seg in p.split("/"):
            parts.append(seg.split(":", 1)[-1])
        return ".".join(parts)

    ref, formulas = fit_all(grids, var, where)
    # the check: a batch and a size never used to fit
    cb, cx = 5, size + 37 if fixed is None else size
    try:
        check = [it for c in run(cb, cx) for it in c.path_items()]
    except Exception as e:
        fail(f"the check forward (batch {cb}, {var} {cx}) raised {type(e).__name__}: {e}")
    for (path, name, _), f, (_, _, got) in zip(ref, formulas, check):
        want = evaluate(f, cb, cx) if isinstance(f, tuple) else f
        if want != got:
            fail(f"layer {where(path)}: '{name}' formula {render(f, var) if isinstance(f, tuple) else f!r} gives "
                 f"{want} at batch {cb}, {var} {cx}, the forward {got}")
    # put the formulas back on the reference tree's nodes
    by_node, i = {}, 0

    def assign(nodes):
        nonlocal i
        for n in nodes:
            if n.params is not None:
                by_node[id(n)] = {}
                for k in sorted(n.params):
                    by_node[id(n)][k] = formulas[i]
                    i += 1
            assign(n.children)

    assign(tree)
    top = Node("", "")
    top.children = tree
    layers = [x for x in (to_layer(n, by_node, var) for n in tree) if x is not None]
    name_of = {}

    def dotted(nodes, prefix):
        for n in nodes:
            name_of[id(n)] = prefix + n.name
            dotted(n.children, prefix + n.name + ".")

    dotted(tree, "")

    def add_ties(node, layer):
        if node.tie is not None:
            layer["weights_tied_to"] = name_of[id(node.tie)]
        for c, cl in zip(node.children, layer.get("sub_layers", [])):
            add_ties(c, cl)

    for n, layer in zip(tree, layers):
        add_ties(n, layer)
    layers = collapse(layers) if not any_ties(top) else layers
    unknown = sorted({n.cls for n in walk_nodes(top) if n.basic and n.cls not in known})
    torch_params = sum(numel(p) for p in model.parameters())
    # one traced forward, no KV cache: lmp refuses decode and generate on it (a builder models those)
    doc = {"model_id": source, "encoder_only": True, "note": (f"exported by lmp export-torch from {source} with --input {inputs.spec}; "
                                         f"formulas fitted at batch 1-3, {var} {sizes[0]}-{sizes[-1]}, "
                                         f"checked at batch {cb}, {var} {cx}"), "layers": layers}
    summary = {"torch_params": torch_params, "unknown": unknown, "var": var, "size": size,
               "fixed": fixed, "fit": [sizes[0], sizes[-1]], "check": [cb, cx]}
    with open(args.out, "w") as f:
        json.dump({"model": doc, "summary": summary}, f, indent=1)


def walk_nodes(node):
    yield node
    for c in node.children:
        yield from walk_nodes(c)


def any_ties(node):
    return any(n.tie is not None for n in walk_nodes(node))


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except ExportError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        sys.exit(2)
