"""Python anchors for scripts/bench/tensor.lua: numpy and PyTorch float32 matmul GFLOP/s at
64, 256, 1024 and element-wise add GB/s (bytes read + written, a new result each time, as
churnlab's a + b). Same timing rule as the churnlab benches: best of 5 batches of >= 0.1 s.
Run by tensor.lua with /usr/bin/python3 so one run has every figure."""
import sys
import time

BATCH_S, BATCHES = 0.1, 5


def best_rate(fn, work):
    fn()
    best = 0.0
    for _ in range(BATCHES):
        reps, t0 = 0, time.perf_counter()
        while True:
            fn()
            reps += 1
            t = time.perf_counter()
            if t - t0 >= BATCH_S:
                break
        best = max(best, work * reps / (t - t0))
    return best


def line(case, impl, metric, value, unit, extra=""):
    print(f"bench suite=tensor case={case} impl={impl} api=python metric={metric} "
          f"value={value:.3f} unit={unit}{extra}")


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    import numpy as np
    rng = np.random.default_rng(1)
    n_add = 4 << 20
    for impl in ("numpy", "pytorch"):
        if impl == "pytorch":
            try:
                import torch
            except ImportError:
                print("bench-note pytorch not installed: skipped")
                continue
            if threads:
                torch.set_num_threads(threads)
            mk = lambda *s: torch.rand(*s, dtype=torch.float32)
            mm = torch.mm
        else:
            mk = lambda *s: rng.random(s, dtype=np.float32)
            mm = np.matmul
        for n in (64, 256, 1024):
            a, b = mk(n, n), mk(n, n)
            line(f"mm_{n}", impl, "gflops", best_rate(lambda: mm(a, b), 2.0 * n ** 3) * 1e-9,
                 "GFLOP/s")
        a, b = mk(n_add), mk(n_add)
        line("add", impl, "bandwidth", best_rate(lambda: a + b, 3 * 4 * n_add) * 1e-9, "GB/s",
             f" bytes={4 * n_add}")


if __name__ == "__main__":
    main()
