#!/usr/bin/python3
"""Reference scores for EASE (core/rec/ease.c) from numpy: Steck (2019), closed form.

B = -P / diag(P) (column j divided by P_jj), diag(B) = 0, P = inv(X^T X + Lambda); the scores
of user u are X[u] @ B. Lambda = reg I for EASE; with dropout p (Steck 2020) Lambda = reg I +
p / (1 - p) diag(X^T X), and diagonal "free" (DLAE) drops the constraint: B = inv(G + Lambda) G
computed here with numpy.linalg.solve (not the C side's I - P Lambda). Computed in float64 with
numpy.linalg (LAPACK getrf: another factorisation than the C side's Cholesky).

Writes tests/data/rec_ease_ref.txt:
    case <name> <reg> <binary> <n_users> <n_items> <nnz> <diagonal> <dropout>
    t <user> <item> <value>            (nnz lines; labels are 1-based integers)
    s <user> <score item 1> ...        (every user)
Run from the repository root: /usr/bin/python3 scripts/ref/rec_ease_ref.py
"""
import numpy as np

rng = np.random.default_rng(20261202)
out = []
for name, nu, ni, dens, reg, binary, diagonal, p in [
        ("binary", 40, 15, 0.3, 5.0, 1, "zero", 0.0),
        ("valued", 30, 12, 0.35, 10.0, 0, "zero", 0.0),
        ("edlae", 40, 15, 0.3, 5.0, 1, "zero", 0.4),
        ("dlae", 35, 14, 0.3, 3.0, 1, "free", 0.6)]:
    mask = rng.random((nu, ni)) < dens
    for u in range(nu):  # every user and item has an entry
        mask[u, u % ni] = True
    vals = rng.integers(1, 6, size=(nu, ni)).astype(np.float64)
    X = np.where(mask, vals, 0.0)
    Xf = (X != 0).astype(np.float64) if binary else X
    G0 = Xf.T @ Xf
    G = G0 + np.diag(reg + p / (1 - p) * np.diag(G0))
    if diagonal == "zero":
        P = np.linalg.inv(G)
        B = -P / np.diag(P)[None, :]
        np.fill_diagonal(B, 0.0)
    else:
        B = np.linalg.solve(G, G0)
    S = Xf @ B
    out.append(f"case {name} {reg:.17g} {binary} {nu} {ni} {int(mask.sum())} {diagonal} {p:.17g}")
    for u in range(nu):
        for i in range(ni):
            if mask[u, i]:
                out.append(f"t {u + 1} {i + 1} {X[u, i]:.17g}")
    for u in range(nu):
        out.append(f"s {u + 1} " + " ".join(f"{v:.17g}" for v in S[u]))
with open("tests/data/rec_ease_ref.txt", "w") as f:
    f.write("\n".join(out) + "\n")
print("wrote tests/data/rec_ease_ref.txt")
