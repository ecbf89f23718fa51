"""Each activation's forward and backward as lmp counts them, evaluated one counted operation at a
time, against PyTorch's own function and its autograd gradient.

PyTorch's FlopCounterMode does not count elementwise work, so lmp's per-element costs are its own
convention (docs/calculators.md): one FLOP an arithmetic operation, comparison-and-select or
transcendental (exp, log, erf, tanh, sqrt), x^3 as two multiplies, scalars computed once per call
not counted. Every counted operation below is one call of `op`; the calls a function makes are
the FLOPs per element lmp charges, and its values must equal the reference's. Where transformers
is not installed (Debian's python3-torch has no transformers), the reference is torch's function
for the same math, or the forward exactly as transformers writes it.

Prints JSON: {class: {"flops": n, "backward": n, "error": e, "grad_error": e}}.
"""
import json
import math

import torch
import torch.nn.functional as F

X = torch.linspace(-15.0, 15.0, 3001, dtype=torch.float64)
G = torch.cos(3.0 * X) + 0.5  # an upstream gradient that is not constant


class Counter:
    def __init__(self):
        self.n = 0

    def __call__(self, f, *args):
        self.n += 1
        return f(*args)


def where(cond, a, b):
    return lambda: torch.where(cond, torch.as_tensor(a, dtype=X.dtype), torch.as_tensor(b, dtype=X.dtype))


def counted(fn, *args):
    op = Counter()
    out = fn(op, *args)
    return out, op.n


# ---- forwards, one op per counted FLOP ----

def sigmoid(op, z):  # exp(-z), +1, reciprocal
    e = op(lambda: torch.exp(-z))
    return op(torch.reciprocal, op(torch.add, e, 1.0))


def gelu(op, x):  # x/sqrt2, erf, +1, *x, *0.5
    c = op(torch.erf, op(torch.div, x, math.sqrt(2.0)))
    return op(torch.mul, op(torch.mul, op(torch.add, c, 1.0), x), 0.5)


def gelu_tanh(op, x):  # x^3 (2), *0.044715, +x, *sqrt(2/pi), tanh, +1, *x, *0.5
    x3 = op(torch.mul, op(torch.mul, x, x), x)
    u = op(torch.mul, op(torch.add, op(torch.mul, x3, 0.044715), x), math.sqrt(2.0 / math.pi))
    return op(torch.mul, op(torch.mul, op(torch.add, op(torch.tanh, u), 1.0), x), 0.5)


def fast_gelu(op, x):  # x*x, *0.044715, +1, x*c, *, tanh, +1, 0.5*x, *
    t = op(torch.add, op(torch.mul, op(torch.mul, x, x), 0.044715), 1.0)
    u = op(torch.mul, op(torch.mul, x, 0.7978845608), t)
    return op(torch.mul, op(torch.mul, x, 0.5), op(torch.add, op(torch.tanh, u), 1.0))


def quick_gelu(op, x):
    return op(torch.mul, x, sigmoid(op, op(torch.mul, x, 1.702)))


def clipped_gelu(op, x):
    return op(torch.clamp_max, op(torch.clamp_min, gelu(op, x), -10.0), 10.0)


MU, SIGMA = 0.707107, 0.282095


def laplace(op, x):
    z = op(torch.div, op(torch.sub, x, MU), SIGMA * math.sqrt(2.0))
    return op(torch.mul, op(torch.add, op(torch.erf, z), 1.0), 0.5)


def softplus(op, x):  # exp, +1, log
    return op(torch.log, op(torch.add, op(torch.exp, x), 1.0))


def mish(op, x):
    return op(torch.mul, x, op(torch.tanh, softplus(op, x)))


def sqrt_softplus(op, x):
    return op(torch.sqrt, softplus(op, x))


def relu2(op, x):
    r = op(torch.clamp_min, x, 0.0)
    return op(torch.mul, r, r)


def relu6(op, x):
    return op(torch.clamp_max, op(torch.clamp_min, x, 0.0), 6.0)


def hardswish(op, x):
    r = relu6(op, op(torch.add, x, 3.0))
    return op(torch.div, op(torch.mul, x, r), 6.0)


def leaky(slope):
    def f(op, x):
        return op(where(x > 0, x, op(torch.mul, x, slope)))
    return f


def silu(op, x):
    return op(torch.mul, x, sigmoid(op, x))


# XIELU with its constructor's defaults (alpha_p_init 0.8, alpha_n_init 0.8, beta 0.5, eps -1e-6):
# alpha_p = softplus(log(expm1(0.8))) = 0.8, alpha_n = beta + softplus(log(expm1(0.3))) = 0.8
AP, AN, BETA, EPS = 0.8, 0.8, 0.5, -1e-6


def xielu(op, x):
    pos = op(torch.add, op(torch.mul, op(torch.mul, x, AP), x), op(torch.mul, x, BETA))
    e = op(torch.expm1, op(torch.clamp_max, x, EPS))
    neg = op(torch.add, op(torch.mul, op(torch.sub, e, x), AN), op(torch.mul, x, BETA))
    return op(where(x > 0, pos, neg))


def xielu_reference(x, ap, an):  # transformers' _xielu_python, alpha_p and alpha_n already through softplus
    return torch.where(x > 0, ap * x * x + BETA * x, (torch.expm1(torch.min(x, torch.tensor(EPS, dtype=x.dtype))) - x) * an + BETA * x)


# ---- backwards: the input gradient (and a weight's), one op per counted FLOP ----

def sigmoid_b(op, y, g):  # g*y*(1 - y)
    return op(torch.mul, op(torch.mul, y, op(torch.rsub, y, 1.0)), g)


def gelu_b(op, x, g):  # cdf (4), pdf (4), x*pdf, +, *g
    cdf = op(torch.mul, op(torch.add, op(torch.erf, op(torch.div, x, math.sqrt(2.0))), 1.0), 0.5)
    pdf = op(torch.mul, op(torch.exp, op(torch.mul, op(torch.mul, x, x), -0.5)), 1.0 / math.sqrt(2.0 * math.pi))
    return op(torch.mul, op(torch.add, cdf, op(torch.mul, x, pdf)), g)


def quick_gelu_b(op, x, g):  # s + kx*s*(1 - s)
    z = op(torch.mul, x, 1.702)
    s = sigmoid(op, z)
    a = op(torch.mul, op(torch.mul, s, op(torch.rsub, s, 1.0)), z)
    return op(torch.mul, op(torch.add, a, s), g)


def clipped_gelu_b(op, x, g):  # gelu's, then the clip's two compare-and-selects on its input y = gelu(x)
    y = F.gelu(x)  # saved by autograd for the clip
    r = gelu_b(op, x, g)
    r = op(where(y >= -10.0, r, 0.0))
    return op(where(y <= 10.0, r, 0.0))


def laplace_b(op, x, g):  # exp(-z^2) / (sigma sqrt(2 pi)) * g
    z = op(torch.div, op(torch.sub, x, MU), SIGMA * math.sqrt(2.0))
    e = op(torch.exp, op(torch.neg, op(torch.mul, z, z)))
    return op(torch.mul, op(torch.mul, e, 1.0 / (SIGMA * math.sqrt(2.0 * math.pi))), g)


def mish_b(op, x, g):  # t + x*(1 - t^2)*s, s = e/(1 + e) from softplus's e
    e = op(torch.exp, x)
    ep = op(torch.add, e, 1.0)
    t = op(torch.tanh, op(torch.log, ep))
    s = op(torch.div, e, ep)
    a = op(torch.mul, op(torch.mul, op(torch.rsub, op(torch.mul, t, t), 1.0), s), x)
    return op(torch.mul, op(torch.add, a, t), g)


def sqrt_softplus_b(op, x, g):  # g*sigmoid(x)/(2y), y the output
    y = torch.sqrt(F.softplus(x))
    return op(torch.mul, op(torch.div, sigmoid(op, x), op(torch.mul, y, 2.0)), g)


def relu2_b(op, x, g):  # 2r*g where x > 0, r = relu(x) saved
    r = F.relu(x)
    return op(where(x > 0, op(torch.mul, op(torch.mul, r, 2.0), g), 0.0))


def relu6_b(op, x, g):
    return op(where(x < 6.0, op(where(x > 0, g, 0.0)), 0.0))


def hardswish_b(op, x, g):  # torch's hardswish_backward
    a = op(torch.mul, op(torch.add, op(torch.div, x, 3.0), 0.5), g)
    return op(where(x < -3.0, 0.0, op(where(x <= 3.0, a, g))))


def leaky_b(slope):
    def f(op, x, g):
        return op(torch.mul, op(where(x > 0, 1.0, slope)), g)
    return f


def prelu_b(op, x, g):  # the input's (2) and the one slope's: g*x over the negative inputs, summed (3)
    gx = leaky_b(0.25)(op, x, g)
    gw = op(lambda: torch.cumsum(op(where(x > 0, 0.0, op(torch.mul, g, x))), 0))  # a running sum: 1 an element
    return gx, gw[-1]


def xielu_b(op, x, g):  # the input's (10), alpha_p's (4), alpha_n's (5)
    pos = x > 0
    dp = op(torch.add, op(torch.mul, x, 2.0 * AP), BETA)
    e0 = op(torch.exp, op(torch.clamp_max, x, EPS))
    e = op(where(x < EPS, e0, 0.0))  # the min's gradient
    dn = op(torch.add, op(torch.mul, op(torch.sub, e, 1.0), AN), BETA)
    gx = op(torch.mul, op(where(pos, dp, dn)), g)
    gap = op(lambda: torch.cumsum(op(where(pos, op(torch.mul, op(torch.mul, x, x), g), 0.0)), 0))
    t = op(torch.mul, op(torch.sub, op(torch.sub, e0, 1.0), x), g)
    gan = op(lambda: torch.cumsum(op(where(pos, 0.0, t)), 0))
    return gx, gap[-1], gan[-1]


def err(a, b):  # relative to the reference's size (the weight gradients are sums of 3001 terms)
    b = torch.as_tensor(b)
    return float((torch.as_tensor(a) - b).abs().max()) / max(1.0, float(b.abs().max()))


def autograd(f, *weights):
    x = X.clone().requires_grad_()
    ws = [torch.tensor(w, dtype=X.dtype, requires_grad=True) for w in weights]
    f(x, *ws).backward(G)
    return [x.grad] + [w.grad for w in ws]


T = "transformers.activations."
N = "torch.nn.modules.activation."
TANH_REF = lambda x: F.gelu(x, approximate="tanh")  # noqa: E731
CASES = [
    # class, counted forward, reference forward, counted backward, reference autograd forward
    (T + "GELUActivation", gelu, F.gelu, gelu_b, F.gelu),
    (T + "FastGELUActivation", fast_gelu,
     lambda x: 0.5 * x * (1.0 + torch.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x))), None, None),
    (T + "NewGELUActivation", gelu_tanh, TANH_REF, None, None),
    (T + "AccurateGELUActivation", gelu_tanh,
     lambda x: 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * torch.pow(x, 3)))), None, None),
    (T + "GELUTanh", gelu_tanh, TANH_REF, None, None),
    (T + "QuickGELUActivation", quick_gelu, lambda x: x * torch.sigmoid(1.702 * x), quick_gelu_b,
     lambda x: x * torch.sigmoid(1.702 * x)),
    (T + "ClippedGELUActivation", clipped_gelu, lambda x: torch.clip(F.gelu(x), -10, 10), clipped_gelu_b,
     lambda x: torch.clip(F.gelu(x), -10, 10)),
    # Laplace is the normal CDF of N(mu, sigma^2)
    (T + "LaplaceActivation", laplace, lambda x: torch.special.ndtr((x - MU) / SIGMA), laplace_b,
     lambda x: 0.5 * (1.0 + torch.erf((x - MU).div(SIGMA * math.sqrt(2.0))))),
    (T + "LinearActivation", lambda op, x: x, lambda x: x, lambda op, x, g: g, lambda x: x * 1.0),
    (T + "MishActivation", mish, F.mish, mish_b, F.mish),
    (T + "ReLUSquaredActivation", relu2, lambda x: torch.square(F.relu(x)), relu2_b, lambda x: torch.square(F.relu(x))),
    (T + "SiLUActivation", silu, F.silu, None, None),
    (T + "SqrtSoftplusActivation", sqrt_softplus, lambda x: F.softplus(x).sqrt(), sqrt_softplus_b,
     lambda x: F.softplus(x).sqrt()),
    (N + "Hardswish", hardswish, F.hardswish, hardswish_b, F.hardswish),
    (N + "LeakyReLU", leaky(0.01), F.leaky_relu, leaky_b(0.01), F.leaky_relu),
    (N + "ReLU6", relu6, F.relu6, relu6_b, F.relu6),
    (N + "Sigmoid", sigmoid, torch.sigmoid, lambda op, x, g: sigmoid_b(op, torch.sigmoid(x), g), torch.sigmoid),
    (N + "SiLU", silu, F.silu, None, None),
    (N + "ReLU", lambda op, x: op(torch.clamp_min, x, 0.0), F.relu, None, None),
    (N + "Tanh", lambda op, x: op(torch.tanh, x), torch.tanh, None, None),
]


def main():
    out = {}
    for name, fwd, ref, bwd, ref_ag in CASES:
        y, n = counted(fwd, X)
        row = {"flops": n, "error": err(y, ref(X))}
        if bwd:
            gx, nb = counted(bwd, X, G)
            row["backward"] = nb
            row["grad_error"] = err(gx, autograd(ref_ag)[0])
        out[name] = row
    # the two with weights: PReLU (one slope, 0.25) and XIELU (alpha_p, alpha_n)
    y, n = counted(leaky(0.25), X)
    (gx, gw), nb = counted(prelu_b, X, G)
    ag = autograd(lambda x, w: F.prelu(x, w.reshape(1)), 0.25)
    out[N + "PReLU"] = {"flops": n, "error": err(y, F.prelu(X, torch.tensor([0.25], dtype=X.dtype))),
                        "backward": nb, "grad_error": max(err(gx, ag[0]), err(gw, ag[1]))}
    y, n = counted(xielu, X)
    (gx, gap, gan), nb = counted(xielu_b, X, G)
    ag = autograd(xielu_reference, AP, AN)
    ref = xielu_reference(X, torch.tensor(AP, dtype=X.dtype), torch.tensor(AN, dtype=X.dtype))
    out[T + "XIELUActivation"] = {"flops": n, "error": err(y, ref), "backward": nb,
                                  "grad_error": max(err(gx, ag[0]), err(gap, ag[1]), err(gan, ag[2]))}
    print(json.dumps(out, indent=1, sort_keys=True))


main()
