#!/usr/bin/python3
"""Reference neighbour lists for cl.rec.itemknn's weighting option (tests/lua/rec_knn.lua).

    /usr/bin/python3 scripts/ref/rec_itemknn_ref.py > tests/data/rec_itemknn_ref.txt

A small random user x item matrix (seeded; real values, so similarities do not tie) is
weighted as the BM25/TF-IDF item-item recommenders of the `implicit` library weight their
item x user matrix (items are documents, users terms):
    idf_u  = ln(n_items) - ln(1 + number of items of user u)
    tfidf  : sqrt(v) * idf_u
    bm25   : v (k1 + 1) / (k1 (1 - b + b len_i / mean_i len_i) + v) * idf_u, len_i = sum of item i's values
then the item-item similarity is computed densely in float64 (cosine: dot / (|i| |j|) + shrink
in the denominator; dot: dot / (1 + shrink)), each item keeps its k most similar other items
that co-occur with it (ties to the lower index), and with normalize the kept similarities are
divided by the sum of their absolute values (neighbours = "source").
With neighbours = "target" the cut is per candidate instead: candidate t keeps the k items most
similar to it (ties to the lower index); item i's list is then every t that kept i, with
similarity S[i, t], and normalize divides that list by the sum of |S[i, j]| over every j that
co-occurs with i (the whole row, before the cut).
Output lines:
    r <user> <item> <value>                      the matrix
    case <weighting> <similarity> <k> <normalize> <shrink> <k1> <b> <neighbours>
    n <item> <neighbour> <similarity> ...        the item's list, best first (ties: lower index)
"""
import numpy as np

rng = np.random.default_rng(20261203)
nu, ni = 40, 15
X = np.zeros((nu, ni))
for u in range(nu):
    items = rng.choice(ni, size=rng.integers(2, 8), replace=False)
    X[u, items] = np.round(rng.uniform(0.5, 5.0, len(items)), 2)


def weight(X, how, k1, b):
    if how == "none":
        return X.copy()
    n_u = (X > 0).sum(1)
    idf = np.log(ni) - np.log1p(n_u)
    W = np.zeros_like(X)
    nz = X > 0
    if how == "tfidf":
        W[nz] = (np.sqrt(X) * idf[:, None])[nz]
    else:
        length = X.sum(0)
        norm = 1 - b + b * length / length.mean()
        W[nz] = (X * (k1 + 1) / (k1 * norm[None, :] + X) * idf[:, None])[nz]
    return W


for u in range(nu):
    for i in range(ni):
        if X[u, i] > 0:
            print(f"r {u + 1} {i + 1} {X[u, i]:.2f}")

cases = [("tfidf", "cosine", 4, 1, 0, 100, 0.8, "source"),
         ("bm25", "cosine", 4, 0, 2, 100, 0.8, "source"),
         ("bm25", "dot", 5, 1, 0, 1.2, 0.75, "source"),
         ("tfidf", "dot", 3, 0, 0, 100, 0.8, "source"),
         ("none", "cosine", 4, 1, 0, 100, 0.8, "source"),
         ("tfidf", "cosine", 4, 1, 0, 100, 0.8, "target"),
         ("none", "cosine", 3, 0, 2, 100, 0.8, "target"),
         ("bm25", "dot", 5, 1, 0, 1.2, 0.75, "target")]


def source_lists(S, co, k, normalize):
    out = []
    for i in range(ni):
        cand = [j for j in range(ni) if j != i and co[i, j]]
        cand.sort(key=lambda j: (-S[i, j], j))
        keep = cand[:k]
        s = np.array([S[i, j] for j in keep])
        if normalize and np.abs(s).sum() > 0:
            s = s / np.abs(s).sum()
        out.append(list(zip(keep, s)))
    return out


def target_lists(S, co, k, normalize):
    votes = [[] for _ in range(ni)]
    for t in range(ni):
        cand = [i for i in range(ni) if i != t and co[i, t]]
        cand.sort(key=lambda i: (-S[i, t], i))
        for i in cand[:k]:
            votes[i].append((t, S[i, t]))
    out = []
    for i in range(ni):
        tot = sum(abs(S[i, j]) for j in range(ni) if j != i and co[i, j])
        lst = [(t, v / tot if normalize and tot > 0 else v) for t, v in votes[i]]
        lst.sort(key=lambda tv: (-tv[1], tv[0]))
        out.append(lst)
    return out


for how, sim, k, normalize, shrink, k1, b, nbrs in cases:
    W = weight(X, how, k1, b)
    D = W.T @ W
    co = (X > 0).astype(float).T @ (X > 0).astype(float) > 0  # pairs seen together
    if sim == "cosine":
        n = np.sqrt((W * W).sum(0))
        S = D / (np.outer(n, n) + shrink)
    else:
        S = D / (1 + shrink)
    print(f"case {how} {sim} {k} {normalize} {shrink} {k1} {b} {nbrs}")
    lists = (source_lists if nbrs == "source" else target_lists)(S, co, k, normalize)
    for i, lst in enumerate(lists):
        print("n", i + 1, " ".join(f"{j + 1} {v:.9g}" for j, v in lst))
