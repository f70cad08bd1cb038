#!/usr/bin/python3
"""Reference for the MLP's dropout (issue 20): a few training steps of small nets computed by
PyTorch (float64 autograd, torch.optim.SGD / Adam / AdamW, torch.nn.functional.batch_norm,
gelu/tanh/relu) with GIVEN dropout masks, so that churnlab's own random stream is not needed:
tests/core/models/test_mlp_dropout.c feeds the same masks to cl_mlp_train_steps.

Dropout here is inverted dropout, as torch.nn.Dropout and Keras' Dropout in training: a kept
unit is multiplied by 1 / (1 - p), a dropped one is 0, and evaluation uses no mask. The script
checks that torch's own F.dropout is that function of its mask before using the explicit form.

Each case is a 4-input net with hidden layers {6, 5} (or {6} with batch norm), B = 8 rows a
step, 3 steps, each step on its own 8 rows. Everything churnlab needs is written: the config,
X, y, the initial flat parameters (churnlab's layout: per layer W (in x out, row-major), b,
then gamma, beta for a batch-norm layer; see core/models/mlp.c), the keep masks (step, then
hidden layer, then B x width), and torch's results: the mean loss of each step before its
update, the final flat parameters, each step's largest |gradient|, each parameter's largest
|gradient| over the steps (Adam divides by it) and, for the Adam cases, the smallest nonzero
one, the probabilities of the trained net in evaluation mode (running batch-norm statistics,
no dropout) on all the rows and each parameter's largest |d probability / d parameter| over
the rows (the test's tolerances are built from these).

Writes tests/data/mlp_dropout_ref.txt: `<case>.<key> <count> <values...>` lines (%.17g).
Run from the repository root: /usr/bin/python3 scripts/ref/mlp_dropout_ref.py
"""
import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
ACT = {"relu": 0, "tanh": 1, "gelu": 2}
OPT = {"adam": 0, "adamw": 1, "sgd": 2}
D, B, STEPS = 4, 8, 3
CASES = [  # name, activation, batch norm, optimizer, lr, p, momentum, weight decay, hidden
    ("relu_sgd", "relu", 0, "sgd", 0.1, 0.5, 0.9, 0.0, [6, 5]),
    ("tanh_adam", "tanh", 0, "adam", 0.01, 0.3, 0.0, 0.0, [6, 5]),
    ("gelu_adamw", "gelu", 0, "adamw", 0.01, 0.2, 0.0, 0.1, [6, 5]),
    ("bn_relu_sgd", "relu", 1, "sgd", 0.1, 0.25, 0.0, 0.01, [6]),
    ("relu_p0_adam", "relu", 0, "adam", 0.01, 0.0, 0.0, 0.0, [6, 5]),
]
SEEDS = {}
BETA1, BETA2, EPS, BN_EPS, BN_MOMENTUM = 0.9, 0.999, 1e-7, 1e-5, 0.1
lines = []


def put(key, vals):
    vals = np.atleast_1d(np.asarray(vals, dtype=np.float64)).ravel()
    lines.append("%s %d %s" % (key, len(vals), " ".join("%.17g" % v for v in vals)))


def f32(a):
    """Values churnlab can hold exactly (it keeps float32)."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def check_torch_dropout():
    """torch's dropout in training is a * mask / (1 - p); in evaluation the identity."""
    torch.manual_seed(0)
    a, p = torch.rand(64, 16) + 0.5, 0.3
    out = F.dropout(a, p, training=True)
    keep = (out != 0).double()
    assert torch.allclose(out, a * keep / (1 - p), rtol=1e-15, atol=0)
    assert torch.equal(F.dropout(a, p, training=False), a)


def init_params(rng, dims, bn):
    """Flat parameter list in churnlab's order; Glorot-uniform weights, small random biases
    (zero biases would hide a bias-gradient error), gamma near 1 and beta near 0."""
    params, layers = [], []
    for l in range(len(dims) - 1):
        fin, fout = dims[l], dims[l + 1]
        a = np.sqrt(6.0 / (fin + fout))
        W = torch.tensor(f32(rng.uniform(-a, a, (fin, fout))), requires_grad=True)
        b = torch.tensor(f32(rng.uniform(-0.1, 0.1, fout)), requires_grad=True)
        layer = {"W": W, "b": b}
        params += [W, b]
        if bn and l < len(dims) - 2:
            layer["g"] = torch.tensor(f32(rng.uniform(0.8, 1.2, fout)), requires_grad=True)
            layer["be"] = torch.tensor(f32(rng.uniform(-0.1, 0.1, fout)), requires_grad=True)
            layer["rm"], layer["rv"] = torch.zeros(fout), torch.ones(fout)
            params += [layer["g"], layer["be"]]
        layers.append(layer)
    return params, layers


def forward(layers, act, x, masks, p, train):
    """Dense -> (batch norm) -> activation -> dropout per hidden layer; logits."""
    h = x
    for l, layer in enumerate(layers):
        z = h @ layer["W"] + layer["b"]
        if l == len(layers) - 1:
            return z.view(-1)
        if "g" in layer:
            z = F.batch_norm(z, layer["rm"], layer["rv"], layer["g"], layer["be"],
                             training=train, momentum=BN_MOMENTUM, eps=BN_EPS)
        h = {"relu": torch.relu, "tanh": torch.tanh, "gelu": F.gelu}[act](z)
        if train and p > 0:
            h = h * masks[l] / (1 - p)


def optimizer(opt, params, layers, lr, mom, wd):
    """Weight decay on the weight matrices only, as churnlab (biases, gamma, beta excluded)."""
    Ws = [layer["W"] for layer in layers]
    rest = [q for q in params if all(q is not W for W in Ws)]
    groups = [{"params": Ws, "weight_decay": wd}, {"params": rest, "weight_decay": 0.0}]
    if opt == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=mom)
    cls = torch.optim.Adam if opt == "adam" else torch.optim.AdamW
    return cls(groups, lr=lr, betas=(BETA1, BETA2), eps=EPS)


def run_case(k, name, act, bn, opt, lr, p, mom, wd, hidden):
    rng = np.random.default_rng(SEEDS.get(name, 100 + k))
    dims = [D] + hidden + [1]
    X = f32(rng.uniform(-1, 1, (STEPS * B, D)))
    y = (rng.uniform(size=STEPS * B) < 0.5).astype(np.float64)
    params, layers = init_params(rng, dims, bn)
    w0 = np.concatenate([q.detach().numpy().ravel() for q in params])
    masks = [[(rng.uniform(size=(B, w)) >= p).astype(np.float64) for w in hidden]
             for _ in range(STEPS)]
    optim = optimizer(opt, params, layers, lr, mom, wd)
    losses, gmax, gmin, gscale = [], [], np.inf, 0
    for s in range(STEPS):
        rows = slice(s * B, (s + 1) * B)
        optim.zero_grad()
        logits = forward(layers, act, torch.tensor(X[rows]),
                         [torch.tensor(m) for m in masks[s]], p, True)
        loss = F.binary_cross_entropy_with_logits(logits, torch.tensor(y[rows]))
        loss.backward()
        g = np.concatenate([q.grad.numpy().ravel() for q in params])
        gmax.append(np.abs(g).max())
        gscale = np.maximum(gscale, np.abs(g))
        if opt != "sgd":
            gmin = min(gmin, np.abs(g[g != 0]).min())
        losses.append(loss.item())
        optim.step()
    prob_t = torch.sigmoid(forward(layers, act, torch.tensor(X), None, p, False))
    jac = np.zeros(len(w0))  # max over rows of |d prob / d parameter|
    for r in range(len(prob_t)):
        g = torch.autograd.grad(prob_t[r], params, retain_graph=True, allow_unused=True)
        jac = np.maximum(jac, np.abs(np.concatenate(
            [np.zeros(q.numel()) if gi is None else gi.numpy().ravel()
             for q, gi in zip(params, g)])))
    prob = prob_t.detach().numpy()
    w = np.concatenate([q.detach().numpy().ravel() for q in params])
    put(name + ".cfg", [ACT[act], bn, OPT[opt], lr, p, mom, wd, B, STEPS, D, BETA1, BETA2, EPS])
    put(name + ".hidden", hidden)
    put(name + ".X", X)
    put(name + ".y", y)
    put(name + ".w0", w0)
    put(name + ".keep", np.concatenate([m.ravel() for step in masks for m in step])
        if p > 0 else [])
    put(name + ".loss", losses)
    put(name + ".w", w)
    put(name + ".gmax", gmax)
    put(name + ".gmin", [gmin if np.isfinite(gmin) else 0.0])
    put(name + ".gscale", gscale)
    put(name + ".dprob", jac)
    put(name + ".prob", prob)
    print("%-13s loss %s  max|w - w0| %.3g  max|g| %.3g  min nonzero |g| (Adam) %.3g"
          % (name, " ".join("%.6f" % v for v in losses), np.abs(w - w0).max(), max(gmax),
             gmin))
    if opt != "sgd":
        assert gmin > 1e-5, (name, gmin)


check_torch_dropout()
for k, case in enumerate(CASES):
    run_case(k, *case)
with open("tests/data/mlp_dropout_ref.txt", "w") as fh:
    fh.write("# generated by scripts/ref/mlp_dropout_ref.py (torch %s, numpy %s); do not edit\n"
             % (torch.__version__, np.__version__))
    fh.write("\n".join(lines) + "\n")
