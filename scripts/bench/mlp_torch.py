#!/usr/bin/python3
"""PyTorch anchor for scripts/bench/mlp.lua: the same 105-64-64-1 ReLU network, Adam 1e-3,
BCE on logits, shuffled mini-batches, trained on the same files; the fastest honest PyTorch
loop (pre-built tensors, randperm + index_select, no DataLoader).

usage: mlp_torch.py DATA_DIR BATCH EPOCHS THREADS
prints: bench lines (samples/s of the fit, test AUC)
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np
import torch
from sklearn.metrics import roc_auc_score

import mlp_data

data, batch, epochs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
torch.manual_seed(1)
Xtr, ytr = mlp_data.load(os.path.join(data, "train.bin"))
Xte, yte = mlp_data.load(os.path.join(data, "test.bin"))
X, y = torch.from_numpy(Xtr), torch.from_numpy(ytr).unsqueeze(1)
d = X.shape[1]
net = torch.nn.Sequential(torch.nn.Linear(d, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64),
                          torch.nn.ReLU(), torch.nn.Linear(64, 1))
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
lossf = torch.nn.BCEWithLogitsLoss()
n = X.shape[0]
t0 = time.perf_counter()
for ep in range(epochs):
    perm = torch.randperm(n)
    for i in range(0, n, batch):
        idx = perm[i:i + batch]
        xb, yb = X.index_select(0, idx), y.index_select(0, idx)
        opt.zero_grad(set_to_none=True)
        loss = lossf(net(xb), yb)
        loss.backward()
        opt.step()
secs = time.perf_counter() - t0
with torch.no_grad():
    p = torch.sigmoid(net(torch.from_numpy(Xte))).numpy().ravel()
auc = roc_auc_score(yte, p)
case = "batch%d" % batch
print("bench suite=mlp case=%s impl=pytorch metric=samples_per_s value=%.0f unit=samples/s threads=%d"
      % (case, n * epochs / secs, threads))
print("bench suite=mlp case=%s impl=pytorch metric=auc value=%.5f unit=auc threads=%d" % (case, auc, threads))
