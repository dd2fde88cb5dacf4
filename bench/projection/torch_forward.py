#!/usr/bin/env python3
"""PyTorch (one thread) inference forward T=100 B=1 of the same shapes as run.sh, median of 60 calls."""
import time, torch, statistics
torch.set_num_threads(1)
for name, m in (("proj", torch.nn.LSTM(64, 256, proj_size=128)), ("plain", torch.nn.LSTM(64, 256))):
    x = torch.randn(100, 1, 64)
    with torch.no_grad():
        for _ in range(20): m(x)
        ts = []
        for _ in range(60):
            t0 = time.perf_counter_ns(); m(x); ts.append(time.perf_counter_ns() - t0)
    print(name, "torch", torch.__version__, "forward T=100 B=1 median ns", statistics.median(ts))
