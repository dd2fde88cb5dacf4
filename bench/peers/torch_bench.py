#!/usr/bin/python3
"""PyTorch side of `dotnet run -c Release --project bench/RecurrentCore.Peers`.

A line-oriented server: the C# driver starts it once, then sends one JSON request per line on stdin and reads one
JSON reply per line on stdout, so that PyTorch's timing slices interleave with ours and ONNX Runtime's (rounds of
ours, ORT, torch, ...). Weights, inputs and output gradients come from .npy files the driver wrote with
RecurrentCore.Interop (float32, PyTorch names and layouts); this script never draws random numbers. Outputs go back
as .npy files beside them (prefix torch_) for the driver's agreement check.

Requests:
  {"cmd": "load", "dir": D, "cell": "lstm"|"gru"|"rnn-tanh", "mode": "step"|"sequence"|"train",
   "input": I, "hidden": H, "batch": B, "seq": T, "steps": K}
      builds the module, runs the check computation, writes D/torch_*.npy, picks the faster step variant
      (LSTMCell-style cell vs nn.LSTM with T = 1, 0.5 s each); replies {"ok": true, "variant": ...}
  {"cmd": "warm", "seconds": S}   runs the loaded scenario for about S seconds (at least once); replies {"ok": true, "per_call_ns": ...}
  {"cmd": "time", "seconds": S}   times the loaded scenario for about S seconds; replies {"ok": true, "samples": [ns per call, ...]}
  {"cmd": "quit"}

Timing: time.perf_counter_ns around groups of calls long enough (>= 100 us) that the clock's cost vanishes;
one sample = group time / group size. Single thread: torch.set_num_threads(1); run with OPENBLAS_CORETYPE=SkylakeX.
"""
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX")

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

MODULES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn-tanh": torch.nn.RNN}
CELLS = {"lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell, "rnn-tanh": torch.nn.RNNCell}
PARAMS = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]


def load_npy(d, name):
    return torch.from_numpy(np.load(os.path.join(d, name + ".npy")))


def save_npy(d, name, t):
    np.save(os.path.join(d, "torch_" + name + ".npy"), t.detach().contiguous().numpy().astype(np.float32))


def build_module(req, d):
    cell, i, h = req["cell"], req["input"], req["hidden"]
    kw = {"nonlinearity": "tanh"} if cell == "rnn-tanh" else {}
    mod = MODULES[cell](i, h, num_layers=1, bias=True, batch_first=False, **kw)
    with torch.no_grad():
        for name in PARAMS:
            getattr(mod, name).copy_(load_npy(d, name))
    return mod


def build_cell(req, d):
    cell, i, h = req["cell"], req["input"], req["hidden"]
    kw = {"nonlinearity": "tanh"} if cell == "rnn-tanh" else {}
    c = CELLS[cell](i, h, bias=True, **kw)
    with torch.no_grad():
        for name in PARAMS:
            getattr(c, name[:-3]).copy_(load_npy(d, name))
    return c


class Scenario:
    """One loaded scenario: `once()` is the timed call."""

    def __init__(self, req):
        d = req["dir"]
        self.req = req
        self.lstm = req["cell"] == "lstm"
        self.variant = "n/a"
        self.group = 1
        mode = req["mode"]
        b, h = req["batch"], req["hidden"]
        if mode == "step":
            self._load_step(d, b, h)
        elif mode == "sequence":
            self._load_sequence(d)
        elif mode == "train":
            self._load_train(d)
        else:
            raise ValueError("unknown mode " + mode)

    # Streaming step: K steps from zero state for the check, then steps on xs[0] with the state carried.
    def _load_step(self, d, b, h):
        xs = load_npy(d, "x")  # (K, B, I)
        mod, cell = build_module(self.req, d), build_cell(self.req, d)
        lstm = self.lstm
        results = {}
        candidates = {}
        with torch.inference_mode():
            # nn.LSTM / nn.GRU / nn.RNN with T = 1: the state is (1, B, H).
            state_m = [torch.zeros(1, b, h), torch.zeros(1, b, h)]

            def step_module(x):
                if lstm:
                    y, (hh, cc) = mod(x.unsqueeze(0), (state_m[0], state_m[1]))
                    state_m[0], state_m[1] = hh, cc
                else:
                    y, hh = mod(x.unsqueeze(0), state_m[0])
                    state_m[0] = hh
                return y[0]

            # LSTMCell / GRUCell / RNNCell: the state is (B, H).
            state_c = [torch.zeros(b, h), torch.zeros(b, h)]

            def step_cell(x):
                if lstm:
                    hh, cc = cell(x, (state_c[0], state_c[1]))
                    state_c[0], state_c[1] = hh, cc
                else:
                    hh = cell(x, state_c[0])
                    state_c[0] = hh
                return hh

            for name, fn, state in (("module_T1", step_module, state_m), ("cell", step_cell, state_c)):
                ys = torch.stack([fn(xs[k]) for k in range(xs.shape[0])])
                results[name] = (ys, [s.reshape(1, b, h) for s in state])
                candidates[name] = fn

            x0 = xs[0].clone()
            best, best_ns = None, None
            for name, fn in candidates.items():
                fn_x = (lambda f: (lambda: f(x0)))(fn)
                warm(fn_x, 0.2)
                med = median(run_for(fn_x, 0.3))
                if best_ns is None or med < best_ns:
                    best, best_ns = name, med

        ys, st = results[best]
        save_npy(d, "output", ys)
        save_npy(d, "h_n", st[0])
        if lstm:
            save_npy(d, "c_n", st[1])
        names = {"lstm": "LSTMCell", "gru": "GRUCell", "rnn-tanh": "RNNCell"}
        mods = {"lstm": "nn.LSTM", "gru": "nn.GRU", "rnn-tanh": "nn.RNN"}
        self.variant = names[self.req["cell"]] if best == "cell" else mods[self.req["cell"]] + " (T=1)"
        fn = candidates[best]
        self._inference = True
        self.once = lambda: fn(x0)

    def _load_sequence(self, d):
        x = load_npy(d, "x")  # (T, B, I)
        mod = build_module(self.req, d)
        self.variant = {"lstm": "nn.LSTM", "gru": "nn.GRU", "rnn-tanh": "nn.RNN"}[self.req["cell"]]
        with torch.inference_mode():
            out = mod(x)
        y, hn = out
        save_npy(d, "output", y)
        if self.lstm:
            save_npy(d, "h_n", hn[0])
            save_npy(d, "c_n", hn[1])
        else:
            save_npy(d, "h_n", hn)
        self._inference = True
        self.once = lambda: mod(x)

    def _load_train(self, d):
        x = load_npy(d, "x").requires_grad_(True)
        gy, ghn = load_npy(d, "grad_output"), load_npy(d, "grad_h_n")
        gcn = load_npy(d, "grad_c_n") if self.lstm else None
        mod = build_module(self.req, d)
        self.variant = {"lstm": "nn.LSTM", "gru": "nn.GRU", "rnn-tanh": "nn.RNN"}[self.req["cell"]] + " fwd+bwd"
        params = list(mod.parameters())
        lstm = self.lstm

        def once():
            for p in params:
                p.grad = None
            x.grad = None
            y, hn = mod(x)
            if lstm:
                torch.autograd.backward([y, hn[0], hn[1]], [gy, ghn, gcn])
            else:
                torch.autograd.backward([y, hn], [gy, ghn])
            return y, hn

        y, hn = once()
        save_npy(d, "output", y)
        if lstm:
            save_npy(d, "h_n", hn[0])
            save_npy(d, "c_n", hn[1])
        else:
            save_npy(d, "h_n", hn)
        save_npy(d, "grad_input", x.grad)
        for name in PARAMS:
            save_npy(d, "grad_" + name, getattr(mod, name).grad)
        self._inference = False
        self.once = once

    def time(self, seconds):
        if self._inference:
            with torch.inference_mode():
                return run_for(self.once, seconds, self.group)
        return run_for(self.once, seconds, self.group)

    def warm(self, seconds):
        if self._inference:
            with torch.inference_mode():
                per_call, self.group = warm(self.once, seconds)
        else:
            per_call, self.group = warm(self.once, seconds)
        return per_call


def warm(fn, seconds):
    """Runs fn for about `seconds` (at least once); returns ns per call and the group size for run_for (>= 100 us)."""
    start = time.perf_counter_ns()
    end = start + int(seconds * 1e9)
    n = 0
    while n < 1 or time.perf_counter_ns() < end:
        fn()
        n += 1
    per_call = max((time.perf_counter_ns() - start) // n, 1)
    return per_call, max(1, -(-100_000 // per_call))


def run_for(fn, seconds, group=None):
    if group is None:
        group = warm(fn, 0)[1]
    samples = []
    end = time.perf_counter_ns() + int(seconds * 1e9)
    while not samples or time.perf_counter_ns() < end:
        t0 = time.perf_counter_ns()
        for _ in range(group):
            fn()
        samples.append((time.perf_counter_ns() - t0) / group)
    return samples


def median(v):
    s = sorted(v)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def main():
    out = sys.stdout
    print(json.dumps({"ok": True, "ready": True, "torch": torch.__version__, "numpy": np.__version__,
                      "threads": torch.get_num_threads()}), file=out, flush=True)
    scenario = None
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            cmd = req["cmd"]
            if cmd == "quit":
                break
            if cmd == "load":
                scenario = None
                scenario = Scenario(req)
                reply = {"ok": True, "variant": scenario.variant}
            elif cmd == "warm":
                if scenario is None:
                    raise RuntimeError("no scenario loaded")
                reply = {"ok": True, "per_call_ns": scenario.warm(float(req["seconds"]))}
            elif cmd == "time":
                if scenario is None:
                    raise RuntimeError("no scenario loaded")
                reply = {"ok": True, "samples": scenario.time(float(req["seconds"]))}
            else:
                raise ValueError("unknown command " + cmd)
        except Exception as e:  # one line back to the driver, which reports it
            reply = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        print(json.dumps(reply), file=out, flush=True)


if __name__ == "__main__":
    main()
