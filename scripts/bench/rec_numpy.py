#!/usr/bin/python3
"""Numpy anchors for scripts/bench/rec.lua: the same algorithms as churnlab's, in numpy.

  rec_numpy.py ml100k DATA_DIR FACTORS ALS_ITERS MF_EPOCHS
  rec_numpy.py synth USERS ITEMS NNZ FACTORS ALS_ITERS MF_UPDATES SEED

als: implicit ALS (Hu, Koren, Volinsky), confidence 1 + alpha * value, 3 conjugate-gradient
     steps per row warm-started from the last iterate (as the `implicit` library); the rows
     of one side run as one batched CG (each row's CG is independent, so batching is the same
     arithmetic as a loop over rows), with the sparse products done on chunks of nonzeros
     (np.add.reduceat) to keep memory bounded.
mf:  biased matrix factorisation by SGD in shuffled order, one rating at a time (the
     algorithm is sequential; numpy does each update's vector work). On the big case a
     prefix of MF_UPDATES updates is timed and the epoch time extrapolated (said in the line).
Prints machine-readable "bench ..." lines (impl=numpy).
"""
import sys
import time

import numpy as np

ALPHA, REG, CG = 5.0, 0.1, 3
CHUNK = 1 << 20  # nonzeros per chunk of the sparse products


def csr(users, items, values, n_rows):
    order = np.lexsort((items, users))
    u, i, v = users[order], items[order], values[order]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.add.at(indptr, u + 1, 1)
    return np.cumsum(indptr), i.astype(np.int64), v.astype(np.float32), u.astype(np.int64)


def weighted_rows(indptr, rows, cols, w, Y, n_rows, f):
    """out[r] = sum over row r's nonzeros k of w[k] * Y[cols[k]]."""
    out = np.zeros((n_rows, f), dtype=np.float32)
    nnz = len(cols)
    for a in range(0, nnz, CHUNK):
        b = min(nnz, a + CHUNK)
        contrib = Y[cols[a:b]] * w[a:b, None]
        r = rows[a:b]
        starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
        out[r[starts]] += np.add.reduceat(contrib, starts, axis=0)
    return out


def row_dots(rows, cols, X, Y):
    nnz = len(cols)
    d = np.empty(nnz, dtype=np.float32)
    for a in range(0, nnz, CHUNK):
        b = min(nnz, a + CHUNK)
        d[a:b] = np.einsum("ij,ij->i", X[rows[a:b]], Y[cols[a:b]])
    return d


def als_half(indptr, cols, conf1, rows, X, Y):
    n, f = X.shape
    G = (Y.T.astype(np.float64) @ Y.astype(np.float64) + REG * np.eye(f)).astype(np.float32)

    def apply(P):  # (G + sum conf1 y y^T) p, row by row
        return P @ G + weighted_rows(indptr, rows, cols, conf1 * row_dots(rows, cols, P, Y), Y, n, f)

    b = weighted_rows(indptr, rows, cols, 1 + conf1, Y, n, f)
    r = b - apply(X)
    p = r.copy()
    rs = np.einsum("ij,ij->i", r, r)
    for _ in range(CG):
        Ap = apply(p)
        pAp = np.einsum("ij,ij->i", p, Ap)
        a = np.where((rs > 1e-20) & (pAp > 0), rs / np.where(pAp > 0, pAp, 1), 0).astype(np.float32)
        X += a[:, None] * p
        r -= a[:, None] * Ap
        rsn = np.einsum("ij,ij->i", r, r)
        p = r + (rsn / np.where(rs > 0, rs, 1))[:, None] * p
        rs = rsn


def bench_als(users, items, n_users, n_items, f, iters, case):
    values = np.ones(len(users), dtype=np.float32)
    U = csr(users, items, values, n_users)
    I = csr(items, users, values, n_items)
    rng = np.random.default_rng(42)
    X = (rng.standard_normal((n_users, f)) * 0.01).astype(np.float32)
    Y = (rng.standard_normal((n_items, f)) * 0.01).astype(np.float32)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(iters):
        als_half(U[0], U[1], ALPHA * U[2], U[3], X, Y)
        als_half(I[0], I[1], ALPHA * I[2], I[3], Y, X)
    dt, dc = (time.perf_counter() - t0) / iters, (time.process_time() - c0) / iters
    print(f"bench suite=rec case={case}_als impl=numpy metric=s_per_iter value={dt:.4f} unit=s factors={f}")
    print(f"bench suite=rec case={case}_als impl=numpy metric=cpu_s_per_iter value={dc:.4f} unit=s factors={f}")
    sys.stdout.flush()


def bench_mf(users, items, ratings, n_users, n_items, f, updates, case):
    rng = np.random.default_rng(42)
    P = (rng.standard_normal((n_users, f)) * 0.05).astype(np.float32)
    Q = (rng.standard_normal((n_items, f)) * 0.05).astype(np.float32)
    bu = np.zeros(n_users, dtype=np.float32)
    bi = np.zeros(n_items, dtype=np.float32)
    mu = float(ratings.mean())
    lr, reg, regb = 0.007, 0.08, 0.02
    n = len(users)
    order = rng.permutation(n)
    m = min(n, updates)
    us, its, rs = users[order[:m]].tolist(), items[order[:m]].tolist(), ratings[order[:m]].tolist()
    t0, c0 = time.perf_counter(), time.process_time()
    for u, i, r in zip(us, its, rs):
        pu, qi = P[u], Q[i]
        e = r - (mu + bu[u] + bi[i] + pu.dot(qi))
        bu[u] += lr * (e - regb * bu[u])
        bi[i] += lr * (e - regb * bi[i])
        pu_old = pu.copy()
        pu += lr * (e * qi - reg * pu)
        qi += lr * (e * pu_old - reg * qi)
    dt, dc = (time.perf_counter() - t0) * n / m, (time.process_time() - c0) * n / m
    note = "" if m == n else f" extrapolated_from={m}"
    print(f"bench suite=rec case={case}_mf impl=numpy metric=s_per_epoch value={dt:.4f} unit=s factors={f}{note}")
    print(f"bench suite=rec case={case}_mf impl=numpy metric=cpu_s_per_epoch value={dc:.4f} unit=s factors={f}{note}")
    sys.stdout.flush()


def foldin(users, items, n_items, f):
    """ALS fold-in for 20 fresh interactions: one f x f solve against fixed item factors."""
    rng = np.random.default_rng(1)
    Y = (rng.standard_normal((n_items, f)) * 0.1).astype(np.float64)
    G = Y.T @ Y
    hist = rng.choice(n_items, 20, replace=False)
    reps = 300
    t0 = time.perf_counter()
    for _ in range(reps):
        Yh = Y[hist]
        A = G + REG * np.eye(f) + ALPHA * Yh.T @ Yh
        x = np.linalg.solve(A, (1 + ALPHA) * Yh.sum(0))
        s = Y @ x
        s[hist] = -np.inf
        top = np.argpartition(-s, 10)[:10]
        top[np.argsort(-s[top])]
    dt = (time.perf_counter() - t0) / reps
    print(f"bench suite=rec case=ml100k_recommend_for impl=numpy metric=ms_per_call value={dt * 1000:.4f} unit=ms factors={f}")


def main():
    if sys.argv[1] == "ml100k":
        d, f, iters, epochs = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        raw = np.loadtxt(d + "/u.data", dtype=np.int64)
        u_ids, users = np.unique(raw[:, 0], return_inverse=True)
        i_ids, items = np.unique(raw[:, 1], return_inverse=True)
        bench_als(users, items, len(u_ids), len(i_ids), f, iters, "ml100k")
        bench_mf(users, items, raw[:, 2].astype(np.float32), len(u_ids), len(i_ids), f,
                 len(users) * epochs, "ml100k")
        foldin(users, items, len(i_ids), f)
    else:
        nu, ni, nnz, f, iters, upd, seed = (int(x) for x in sys.argv[2:9])
        rng = np.random.default_rng(seed)
        # the same distribution as rec.lua: users uniform, items skewed (i = ni * u^2)
        users = rng.integers(0, nu, nnz)
        items = np.minimum((ni * rng.random(nnz) ** 2).astype(np.int64), ni - 1)
        key = np.unique(users * ni + items)  # duplicates merged, as churnlab sums them
        users, items = key // ni, key % ni
        ratings = (1 + (users * 7 + items * 13) % 5).astype(np.float32)
        bench_als(users, items, nu, ni, f, iters, "synth")
        bench_mf(users, items, ratings, nu, ni, f, upd, "synth")


if __name__ == "__main__":
    main()
