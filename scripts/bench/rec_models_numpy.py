#!/usr/bin/python3
"""numpy anchors for scripts/bench/rec_models.lua: EASE, BPR-MF and item-kNN on the very split
churnlab made (train and test pairs passed as files of "user item" lines), evaluated by exact
precision@10 / NDCG@10 over all items with the user's training items excluded.

    /usr/bin/python3 scripts/bench/rec_models_numpy.py train.txt test.txt ease_reg bpr_factors
        bpr_epochs bpr_lr bpr_reg knn_k ease_reg ease_dropout ease_diagonal

The last three are the EASE-family model rec_models.lua chose on its validation split (case
ml100k_ease_chosen): penalty reg + p / (1 - p) diag(X^T X) (Steck 2020), with the zero
diagonal (EASE, EDLAE: B = -P / diag(P)) or without it (DLAE: B = solve(G + Lambda, G)).

item-kNN is the dense textbook computation: TF-IDF weighted 0/1 columns (idf_u = ln n_items -
ln(1 + items of u), as the `implicit` library's TFIDFRecommender), cosine of every item pair,
then two neighbourhood rules: "source" (each history item votes for its 20 most similar
items, votes scaled to sum 1: Deshpande & Karypis 2004) and "target" (a candidate takes votes
only from its own knn_k most similar items, Sarwar et al. 2001; each item's votes are then
divided by the sum of its similarities to every item, before the cut). Ties in the cut go to
the lower index (a stable argsort).

EASE is the closed form (Steck 2019) with numpy.linalg.inv. BPR is the usual vectorised
numpy/torch formulation: mini-batches of 1024 (user, positive, uniform negative) triples,
negatives resampled while they are positives, gradient ascent on ln sigmoid(x_uij) with L2,
updates accumulated with np.add.at. It is not churnlab's one-sample SGD schedule, so the two
agree on p@10 to within the spread over seeds, not to the bit. Prints "bench ..." lines.
"""
import sys
import time

import numpy as np


def read(path):
    u, i = [], []
    for line in open(path):
        a, b = line.split()
        u.append(a)
        i.append(b)
    return u, i


tr_u, tr_i = read(sys.argv[1])
te_u, te_i = read(sys.argv[2])
ease_reg = float(sys.argv[3])
f, epochs, lr, reg = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
knn_k = int(sys.argv[8])
c_reg, c_p, c_diag = float(sys.argv[9]), float(sys.argv[10]), sys.argv[11]
users = {x: k for k, x in enumerate(dict.fromkeys(tr_u + te_u))}
items = {x: k for k, x in enumerate(dict.fromkeys(tr_i + te_i))}
nu, ni = len(users), len(items)
X = np.zeros((nu, ni))
X[[users[x] for x in tr_u], [items[x] for x in tr_i]] = 1
T = np.zeros((nu, ni), dtype=bool)
T[[users[x] for x in te_u], [items[x] for x in te_i]] = True


def evaluate(S, k=10):
    S = np.where(X > 0, -np.inf, S)
    top = np.argsort(-S, axis=1, kind="stable")[:, :k]
    hits = np.take_along_axis(T, top, axis=1)
    has = T.sum(1) > 0
    p = hits.sum(1) / k
    disc = 1 / np.log2(np.arange(2, k + 2))
    dcg = (hits * disc).sum(1)
    idcg = np.array([disc[:min(n, k)].sum() for n in T.sum(1)])
    return p[has].mean(), (dcg[has] / idcg[has]).mean()


def line(case, metric, value, unit):
    print(f"bench suite=rec_models case={case} impl=numpy metric={metric} value={value:.6g} unit={unit}",
          flush=True)


t0 = time.perf_counter()
G = X.T @ X + ease_reg * np.eye(ni)
P = np.linalg.inv(G)
B = -P / np.diag(P)[None, :]
np.fill_diagonal(B, 0)
dt = time.perf_counter() - t0
p, n = evaluate(X @ B)
line("ml100k_ease", "fit_s", dt, "s")
line("ml100k_ease", "precision_at_10", p, "")
line("ml100k_ease", "ndcg_at_10", n, "")

t0 = time.perf_counter()
G0 = X.T @ X
G = G0 + np.diag(c_reg + c_p / (1 - c_p) * np.diag(G0))
if c_diag == "zero":
    P = np.linalg.inv(G)
    B = -P / np.diag(P)[None, :]
    np.fill_diagonal(B, 0)
else:
    B = np.linalg.solve(G, G0)
dt = time.perf_counter() - t0
p, n = evaluate(X @ B)
line("ml100k_ease_chosen", "fit_s", dt, "s")
line("ml100k_ease_chosen", "precision_at_10", p, "")
line("ml100k_ease_chosen", "ndcg_at_10", n, "")

def keep_top(S, k, axis):
    """Zero all but the k largest entries of each row (axis 1) or column (axis 0) of S."""
    order = np.argsort(-S, axis=axis, kind="stable")
    cut = order[k:, :] if axis == 0 else order[:, k:]
    K = S.copy()
    np.put_along_axis(K, cut, 0, axis=axis)
    return K


def scale_rows(S):
    tot = np.abs(S).sum(1, keepdims=True)
    return S / np.where(tot > 0, tot, 1)


t0 = time.perf_counter()
idf = np.log(ni) - np.log1p(X.sum(1))
W = X * idf[:, None]
D = W.T @ W
norm = np.sqrt(np.diag(D))
C = D / np.maximum(np.outer(norm, norm), 1e-300)
np.fill_diagonal(C, -np.inf)  # never its own neighbour
C = np.where(D > 0, C, -np.inf)  # only items seen together (as churnlab's sparse walk)
src = scale_rows(np.maximum(keep_top(C, 20, 1), 0))
dt_src = time.perf_counter() - t0
t0 = time.perf_counter()
mass = np.where(np.isfinite(C), C, 0).sum(1, keepdims=True)
tgt = np.maximum(keep_top(C, knn_k, 0), 0) / np.where(mass > 0, mass, 1)
dt_tgt = time.perf_counter() - t0 + dt_src
for case, S, dt in (("ml100k_itemknn_source20", src, dt_src), ("ml100k_itemknn", tgt, dt_tgt)):
    p, n = evaluate(X @ S)
    line(case, "fit_s", dt, "s")
    line(case, "precision_at_10", p, "")
    line(case, "ndcg_at_10", n, "")

pos_u, pos_i = np.nonzero(X)
seen = X > 0
for seed in (1, 2, 3):
    rng = np.random.default_rng(seed)
    U = rng.normal(0, 0.1, (nu, f))
    V = rng.normal(0, 0.1, (ni, f))
    b = np.zeros(ni)
    t0 = time.perf_counter()
    for e in range(epochs):
        perm = rng.permutation(len(pos_u))
        for s in range(0, len(perm), 1024):
            idx = perm[s:s + 1024]
            u, i = pos_u[idx], pos_i[idx]
            j = rng.integers(0, ni, len(idx))
            bad = seen[u, j]
            while bad.any():
                j[bad] = rng.integers(0, ni, bad.sum())
                bad = seen[u, j]
            x = (U[u] * (V[i] - V[j])).sum(1) + b[i] - b[j]
            g = 1 / (1 + np.exp(x))
            gu = g[:, None] * (V[i] - V[j]) - reg * U[u]
            gi = g[:, None] * U[u] - reg * V[i]
            gj = -g[:, None] * U[u] - reg * V[j]
            np.add.at(U, u, lr * gu)
            np.add.at(V, i, lr * gi)
            np.add.at(V, j, lr * gj)
            np.add.at(b, i, lr * (g - reg * b[i]))
            np.add.at(b, j, lr * (-g - reg * b[j]))
    dt = time.perf_counter() - t0
    p, n = evaluate(U @ V.T + b[None, :])
    line(f"ml100k_bpr_seed{seed}", "fit_s", dt, "s")
    line(f"ml100k_bpr_seed{seed}", "precision_at_10", p, "")
    line(f"ml100k_bpr_seed{seed}", "ndcg_at_10", n, "")
