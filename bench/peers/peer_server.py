#!/usr/bin/python3
"""Python side of `dotnet run -c Release --project bench/RecurrentCore.Peers`: PyTorch and oneDNN.

A line-oriented server: the C# driver starts one per (interpreter, thread count) and keeps it for the whole run, so
that start-up stays out of every timing and the peers' slices interleave with ours (rounds A B C ..., A B C ...).
One JSON request per line on stdin, one JSON reply per line on stdout. Weights, inputs and output gradients come from
.npy files the driver wrote (float32, PyTorch names and layouts): this script never draws random numbers, so every
engine runs on the very same values. Outputs of the agreement check go back as .npy files beside them.

Engines:
  torch   the interpreter's PyTorch (Debian 12's /usr/bin/python3: torch 1.13; /opt/peers-venv/bin/python: torch 2.14,
          whose CPU nn.LSTM runs on oneDNN's RNN primitives, forward and backward; GRU stays on ATen's per-step path).
          Step: the faster of nn.LSTMCell/GRUCell and nn.LSTM/GRU with T = 1 (both timed at load).
          Sequence: nn.LSTM/GRU under inference_mode. Train: forward + torch.autograd.backward on (output, h_n, c_n)
          with the driver's output gradients; parameter and input gradients; grads set to None before each call.
  onednn  oneDNN's RNN primitives called directly through ctypes (libdnnl.so.3.6 of /opt/peers-venv: oneDNN 3.12):
          vanilla_lstm / lbr_gru (GRU with linear_before_reset, PyTorch's GRU), f32 forward_inference, weights
          reordered once into the layout the primitive asks for (format any); step: the T = 1 primitive with two
          argument lists in ping-pong so the state is carried without copies. Inference only.

Threads: fixed per server (--threads N): OMP/OpenBLAS/MKL variables set before any library loads,
torch.set_num_threads(N), inter-op 1.

Requests:
  {"cmd": "load", "id": S, "engine": "torch"|"onednn", "dir": D, "prefix": P, "cell": "lstm"|"gru"|"rnn-tanh",
   "mode": "step"|"sequence"|"train", "input": I, "hidden": H, "batch": B, "seq": T, "steps": K}
      builds slot S, runs the check computation, writes D/P<name>.npy; replies {"ok": true, "variant": ..., "detail": ...}
  {"cmd": "warm", "id": S, "seconds": X}   runs slot S for about X s; replies {"ok": true, "per_call_ns": ...}
  {"cmd": "time", "id": S, "seconds": X}   times slot S for about X s; replies {"ok": true, "samples": [ns per call]}
  {"cmd": "unload", "id": S}
  {"cmd": "quit"}
Timing: time.perf_counter_ns around groups of calls of >= 100 us, one sample = group time / group size, garbage
collector off while timing.
"""
import argparse
import ctypes
import gc
import itertools
import json
import os
import sys
import time

_ap = argparse.ArgumentParser()
_ap.add_argument("--threads", type=int, default=1)
ARGS = _ap.parse_args()
for _k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_k] = str(ARGS.threads)
os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX")

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(ARGS.threads)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:
    pass

MODULES = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn-tanh": torch.nn.RNN}
CELLS = {"lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell, "rnn-tanh": torch.nn.RNNCell}
CELL_NAMES = {"lstm": "LSTMCell", "gru": "GRUCell", "rnn-tanh": "RNNCell"}
MODULE_NAMES = {"lstm": "nn.LSTM", "gru": "nn.GRU", "rnn-tanh": "nn.RNN"}
PARAMS = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
GATES = {"lstm": 4, "gru": 3, "rnn-tanh": 1}
GROUP_NS = 100_000


def load_npy(d, name):
    return np.load(os.path.join(d, name + ".npy"))


def save(req, name, a):
    a = a.detach().contiguous().numpy() if isinstance(a, torch.Tensor) else np.ascontiguousarray(a)
    np.save(os.path.join(req["dir"], req["prefix"] + name + ".npy"), a.astype(np.float32))


# ---------------------------------------------------------------------------------------------------- torch
def build_module(req):
    cell, i, h = req["cell"], req["input"], req["hidden"]
    kw = {"nonlinearity": "tanh"} if cell == "rnn-tanh" else {}
    mod = MODULES[cell](i, h, num_layers=1, bias=True, batch_first=False, **kw)
    with torch.no_grad():
        for name in PARAMS:
            getattr(mod, name).copy_(torch.from_numpy(load_npy(req["dir"], name)))
    return mod


def build_cell(req):
    cell, i, h = req["cell"], req["input"], req["hidden"]
    kw = {"nonlinearity": "tanh"} if cell == "rnn-tanh" else {}
    c = CELLS[cell](i, h, bias=True, **kw)
    with torch.no_grad():
        for name in PARAMS:
            getattr(c, name[:-3]).copy_(torch.from_numpy(load_npy(req["dir"], name)))
    return c


class TorchSlot:
    """One loaded scenario on PyTorch: `once()` is the timed call."""

    def __init__(self, req):
        self.req = req
        self.lstm = req["cell"] == "lstm"
        self.inference = req["mode"] != "train"
        {"step": self._load_step, "sequence": self._load_sequence, "train": self._load_train}[req["mode"]]()
        self.detail = "torch %s %s, %d thread%s" % (torch.__version__, self.variant, ARGS.threads, "s" if ARGS.threads > 1 else "")

    def _load_step(self):
        req, lstm = self.req, self.lstm
        b, h = req["batch"], req["hidden"]
        xs = torch.from_numpy(load_npy(req["dir"], "x"))  # (K, B, I)
        mod, cell = build_module(req), build_cell(req)
        results, candidates = {}, {}
        with torch.inference_mode():
            state_m = [torch.zeros(1, b, h), torch.zeros(1, b, h)]

            def step_module(x):
                if lstm:
                    y, (hh, cc) = mod(x.unsqueeze(0), (state_m[0], state_m[1]))
                    state_m[0], state_m[1] = hh, cc
                else:
                    y, hh = mod(x.unsqueeze(0), state_m[0])
                    state_m[0] = hh
                return y[0]

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
                call = (lambda f: (lambda: f(x0)))(fn)
                per, group = warm(call, 0.15)
                ns = median(run_for(call, 0.25, group))
                if best_ns is None or ns < best_ns:
                    best, best_ns = name, ns
        ys, st = results[best]
        save(req, "output", ys)
        save(req, "h_n", st[0])
        if lstm:
            save(req, "c_n", st[1])
        self.variant = CELL_NAMES[req["cell"]] if best == "cell" else MODULE_NAMES[req["cell"]] + " (T=1)"
        fn = candidates[best]
        self.once = lambda: fn(x0)

    def _load_sequence(self):
        req = self.req
        x = torch.from_numpy(load_npy(req["dir"], "x"))
        mod = build_module(req)
        self.variant = MODULE_NAMES[req["cell"]]
        with torch.inference_mode():
            y, hn = mod(x)
        save(req, "output", y)
        if self.lstm:
            save(req, "h_n", hn[0])
            save(req, "c_n", hn[1])
        else:
            save(req, "h_n", hn)
        self.once = lambda: mod(x)

    def _load_train(self):
        req, lstm = self.req, self.lstm
        d = req["dir"]
        x = torch.from_numpy(load_npy(d, "x")).requires_grad_(True)
        gy, ghn = torch.from_numpy(load_npy(d, "grad_output")), torch.from_numpy(load_npy(d, "grad_h_n"))
        gcn = torch.from_numpy(load_npy(d, "grad_c_n")) if lstm else None
        mod = build_module(req)
        self.variant = MODULE_NAMES[req["cell"]] + " fwd+bwd"
        params = list(mod.parameters())

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
        save(req, "output", y)
        if lstm:
            save(req, "h_n", hn[0])
            save(req, "c_n", hn[1])
        else:
            save(req, "h_n", hn)
        save(req, "grad_input", x.grad)
        for name in PARAMS:
            save(req, "grad_" + name, getattr(mod, name).grad)
        self.once = once

    def context(self):
        return torch.inference_mode() if self.inference else torch.enable_grad()


# --------------------------------------------------------------------------------------------------- oneDNN
class _Arg(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_int), ("memory", ctypes.c_void_p)]


class _Ver(ctypes.Structure):
    _fields_ = [("major", ctypes.c_int), ("minor", ctypes.c_int), ("patch", ctypes.c_int), ("hash", ctypes.c_char_p),
                ("cpu_runtime", ctypes.c_uint), ("gpu_runtime", ctypes.c_uint)]


# oneDNN 3.x C API constants (oneapi/dnnl/dnnl_types.h)
F32, TAG_ANY, TNC, LDNC, LDIGO, LDGO = 3, 1, 4, 5, 6, 5
FWD_INFERENCE, L2R, CPU_ENGINE = 96, 1, 1
Q_EXEC_ARG_MD, Q_IMPL_INFO_STR = 255, 8
A_SRC_LAYER, A_SRC_ITER, A_SRC_ITER_C, A_W_LAYER, A_W_ITER, A_BIAS = 1, 2, 3, 33, 34, 41
A_DST_LAYER, A_DST_ITER, A_DST_ITER_C, A_FROM, A_TO = 17, 18, 19, 1, 17
MEMORY_ALLOCATE = ctypes.c_void_p(2 ** 64 - 1)
_DNNL = None


def dnnl():
    """libdnnl, its engine and stream, loaded once per server."""
    global _DNNL
    if _DNNL is None:
        lib = ctypes.CDLL("libdnnl.so.3.6")  # Debian's SONAME for oneDNN 3.x
        vp = ctypes.c_void_p
        lib.dnnl_primitive_desc_query_md.restype = vp
        lib.dnnl_primitive_desc_query_md.argtypes = [vp, ctypes.c_int, ctypes.c_int]
        lib.dnnl_version.restype = ctypes.POINTER(_Ver)
        engine, stream = vp(), vp()
        _ok(lib.dnnl_engine_create(ctypes.byref(engine), CPU_ENGINE, 0), "engine_create")
        _ok(lib.dnnl_stream_create(ctypes.byref(stream), engine, 1), "stream_create")
        v = lib.dnnl_version().contents
        _DNNL = (lib, engine, stream, "%d.%d.%d" % (v.major, v.minor, v.patch))
    return _DNNL


def _ok(status, what):
    if status != 0:
        raise RuntimeError("oneDNN %s failed: status %d" % (what, status))


class OneDnnSlot:
    """One loaded scenario on oneDNN's RNN primitive (inference)."""

    def __init__(self, req):
        if req["mode"] == "train":
            raise ValueError("onednn: inference only")
        if req["cell"] not in ("lstm", "gru"):
            raise ValueError("onednn: lstm and gru only")
        self.req = req
        self.lstm = req["cell"] == "lstm"
        self.inference = True
        self.L, self.engine, self.stream, version = dnnl()
        self.keep = []
        self.impl = None
        self._weights()
        b, h, i = req["batch"], req["hidden"], req["input"]
        xs = load_npy(req["dir"], "x")  # (K or T, B, I)
        if req["mode"] == "step":
            self._make_step(b, h, i)
            ys = []
            for k in range(xs.shape[0]):
                self.X[...] = xs[k].reshape(self.X.shape)
                self.call()
                ys.append(self.Y.reshape(b, h).copy())
            save(req, "output", np.stack(ys))
            hn, cn = self.state()
            save(req, "h_n", hn.reshape(1, b, h))
            if self.lstm:
                save(req, "c_n", cn.reshape(1, b, h))
            self.X[...] = xs[0].reshape(self.X.shape)  # the timed step feeds the first input, state carried
            self.variant = "RNN primitive T=1, ping-pong state"
        else:
            self._make_forward(xs, b, h)
            self.call()
            save(req, "output", self.Y)
            save(req, "h_n", self.hout.reshape(1, b, h))
            if self.lstm:
                save(req, "c_n", self.cout.reshape(1, b, h))
            self.variant = "RNN primitive"
        self.once = self.call
        self.detail = "oneDNN %s %s (%s), %d thread%s" % (version, "vanilla_lstm" if self.lstm else "lbr_gru", self.impl,
                                                           ARGS.threads, "s" if ARGS.threads > 1 else "")

    def context(self):
        import contextlib
        return contextlib.nullcontext()

    def _weights(self):
        """PyTorch (gate-major rows [G*H, In]) -> oneDNN ldigo [1, 1, In, G, H], bias ldgo. Gate orders: LSTM i,f,g,o as
        PyTorch; GRU PyTorch r,z,n -> oneDNN u(=z),r,o(=n), bias [b_u, b_r, b_o (input part), b_u' (hidden part of n)]."""
        req = self.req
        d, h = req["dir"], req["hidden"]
        g = GATES[req["cell"]]
        order = [1, 0, 2] if req["cell"] == "gru" else list(range(g))

        def ldigo(w):
            w = w.reshape(g, h, -1)[order]
            return np.ascontiguousarray(w.transpose(2, 0, 1)[None, None], np.float32)

        bi = load_npy(d, "bias_ih_l0").reshape(g, h)[order]
        bh = load_npy(d, "bias_hh_l0").reshape(g, h)[order]
        bias = np.stack([bi[0] + bh[0], bi[1] + bh[1], bi[2], bh[2]]) if req["cell"] == "gru" else bi + bh
        self.w_layer = ldigo(load_npy(d, "weight_ih_l0"))
        self.w_iter = ldigo(load_npy(d, "weight_hh_l0"))
        self.bias = np.ascontiguousarray(bias[None, None], np.float32)

    def _md(self, dims, tag):
        md = ctypes.c_void_p()
        arr = (ctypes.c_int64 * 12)(*dims)
        _ok(self.L.dnnl_memory_desc_create_with_tag(ctypes.byref(md), len(dims), arr, F32, tag), "memory_desc_create")
        self.keep.append(md)
        return md

    def _mem(self, md, arr=None):
        mem = ctypes.c_void_p()
        handle = MEMORY_ALLOCATE if arr is None else ctypes.c_void_p(arr.ctypes.data)
        _ok(self.L.dnnl_memory_create(ctypes.byref(mem), md, self.engine, handle), "memory_create")
        if arr is not None:
            self.keep.append(arr)
        self.keep.append(mem)
        return mem

    def _exec(self, prim, args):
        arr = (_Arg * len(args))(*[_Arg(k, v.value) for k, v in args])
        _ok(self.L.dnnl_primitive_execute(prim, self.stream, len(args), arr), "execute")
        _ok(self.L.dnnl_stream_wait(self.stream), "stream_wait")

    def _primitive(self, t, b):
        L, req = self.L, self.req
        h, i, g = req["hidden"], req["input"], GATES[req["cell"]]
        src, dst = self._md([t, b, i], TNC), self._md([t, b, h], TNC)
        it = self._md([1, 1, b, h], LDNC)
        wl_any, wi_any = self._md([1, 1, i, g, h], TAG_ANY), self._md([1, 1, h, g, h], TAG_ANY)
        bias = self._md(list(self.bias.shape), LDGO)
        pd = ctypes.c_void_p()
        if self.lstm:
            st = L.dnnl_lstm_forward_primitive_desc_create(ctypes.byref(pd), self.engine, FWD_INFERENCE, L2R, src, it, it,
                                                           wl_any, wi_any, None, None, bias, dst, it, it, 0, None)
        else:
            st = L.dnnl_lbr_gru_forward_primitive_desc_create(ctypes.byref(pd), self.engine, FWD_INFERENCE, L2R, src, it,
                                                              wl_any, wi_any, bias, dst, it, 0, None)
        _ok(st, "rnn primitive_desc_create")
        impl = ctypes.c_char_p()
        if L.dnnl_primitive_desc_query(pd, Q_IMPL_INFO_STR, 0, ctypes.byref(impl)) == 0:
            self.impl = impl.value.decode()
        prim = ctypes.c_void_p()
        _ok(L.dnnl_primitive_create(ctypes.byref(prim), pd), "primitive_create")
        self.keep += [pd, prim]
        packed = {}
        for arg, user, shape in ((A_W_LAYER, self.w_layer, [1, 1, i, g, h]), (A_W_ITER, self.w_iter, [1, 1, h, g, h])):
            want = ctypes.c_void_p(L.dnnl_primitive_desc_query_md(pd, Q_EXEC_ARG_MD, arg))
            umd = self._md(shape, LDIGO)
            umem, pmem = self._mem(umd, user), self._mem(want)
            rpd, rprim = ctypes.c_void_p(), ctypes.c_void_p()
            _ok(L.dnnl_reorder_primitive_desc_create(ctypes.byref(rpd), umd, self.engine, want, self.engine, None),
                "reorder_primitive_desc_create")
            _ok(L.dnnl_primitive_create(ctypes.byref(rprim), rpd), "reorder primitive_create")
            self._exec(rprim, [(A_FROM, umem), (A_TO, pmem)])
            packed[arg] = pmem
        return prim, dict(src=src, dst=dst, it=it), packed, self._mem(bias, self.bias)

    def _args(self, packed, bmem, xm, ym, hin, cin, hout, cout):
        args = [(A_SRC_LAYER, xm), (A_SRC_ITER, hin), (A_W_LAYER, packed[A_W_LAYER]), (A_W_ITER, packed[A_W_ITER]),
                (A_BIAS, bmem), (A_DST_LAYER, ym), (A_DST_ITER, hout)]
        if self.lstm:
            args += [(A_SRC_ITER_C, cin), (A_DST_ITER_C, cout)]
        arr = (_Arg * len(args))(*[_Arg(k, v.value) for k, v in args])
        self.keep.append(arr)
        return len(args), arr

    def _make_step(self, b, h, i):
        prim, md, packed, bmem = self._primitive(1, b)
        self.X, self.Y = np.zeros((1, b, i), np.float32), np.zeros((1, b, h), np.float32)
        hs = [np.zeros((1, 1, b, h), np.float32) for _ in range(2)]
        cs = [np.zeros((1, 1, b, h), np.float32) for _ in range(2)]
        xm, ym = self._mem(md["src"], self.X), self._mem(md["dst"], self.Y)
        hm, cm = [self._mem(md["it"], a) for a in hs], [self._mem(md["it"], a) for a in cs]
        calls = [(prim, self.stream) + self._args(packed, bmem, xm, ym, hm[k], cm[k], hm[1 - k], cm[1 - k]) for k in (0, 1)]
        nxt = itertools.cycle(calls).__next__
        execute, wait, stream = self.L.dnnl_primitive_execute, self.L.dnnl_stream_wait, self.stream
        count = [0]

        def call():
            execute(*nxt())
            wait(stream)
            count[0] += 1

        def state():  # after n calls the newest state is in buffer n % 2
            k = count[0] % 2
            return hs[k].copy(), cs[k].copy()

        self.call, self.state = call, state

    def _make_forward(self, xs, b, h):
        t = xs.shape[0]
        prim, md, packed, bmem = self._primitive(t, b)
        self.X = np.ascontiguousarray(xs, np.float32)
        self.Y = np.zeros((t, b, h), np.float32)
        hin, cin = np.zeros((1, 1, b, h), np.float32), np.zeros((1, 1, b, h), np.float32)
        self.hout, self.cout = np.zeros((1, 1, b, h), np.float32), np.zeros((1, 1, b, h), np.float32)
        n, arr = self._args(packed, bmem, self._mem(md["src"], self.X), self._mem(md["dst"], self.Y), self._mem(md["it"], hin),
                            self._mem(md["it"], cin), self._mem(md["it"], self.hout), self._mem(md["it"], self.cout))
        execute, wait, stream = self.L.dnnl_primitive_execute, self.L.dnnl_stream_wait, self.stream

        def call():
            execute(prim, stream, n, arr)
            wait(stream)

        self.call = call


# --------------------------------------------------------------------------------------------------- timing
def warm(fn, seconds):
    """Runs fn for about `seconds` (at least once); returns ns per call and the group size for run_for."""
    start = time.perf_counter_ns()
    end = start + int(seconds * 1e9)
    n = 0
    while n < 1 or time.perf_counter_ns() < end:
        fn()
        n += 1
    per_call = max((time.perf_counter_ns() - start) // n, 1)
    return per_call, max(1, -(-GROUP_NS // per_call))


def run_for(fn, seconds, group):
    samples = []
    gc.collect()
    gc.disable()
    try:
        end = time.perf_counter_ns() + int(seconds * 1e9)
        while not samples or time.perf_counter_ns() < end:
            t0 = time.perf_counter_ns()
            for _ in range(group):
                fn()
            samples.append((time.perf_counter_ns() - t0) / group)
    finally:
        gc.enable()
    return samples


def median(v):
    s = sorted(v)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def main():
    out = sys.stdout
    info = {"ok": True, "ready": True, "torch": torch.__version__, "numpy": np.__version__, "threads": ARGS.threads,
            "python": sys.version.split()[0]}
    try:
        info["onednn"] = dnnl()[3]
    except OSError as e:
        info["onednn_error"] = str(e)
    print(json.dumps(info), file=out, flush=True)
    slots, groups = {}, {}
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
                slots.pop(req["id"], None)
                slot = (TorchSlot if req["engine"] == "torch" else OneDnnSlot)(req)
                slots[req["id"]] = slot
                reply = {"ok": True, "variant": slot.variant, "detail": slot.detail}
            elif cmd == "unload":
                slots.pop(req["id"], None)
                groups.pop(req["id"], None)
                reply = {"ok": True}
            elif cmd in ("warm", "time"):
                slot = slots[req["id"]]
                with slot.context():
                    if cmd == "warm":
                        per_call, groups[req["id"]] = warm(slot.once, float(req["seconds"]))
                        reply = {"ok": True, "per_call_ns": per_call}
                    else:
                        group = groups.get(req["id"]) or warm(slot.once, 0)[1]
                        reply = {"ok": True, "samples": run_for(slot.once, float(req["seconds"]), group)}
            else:
                raise ValueError("unknown command " + cmd)
        except Exception as e:  # one line back to the driver, which reports it
            reply = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        print(json.dumps(reply), file=out, flush=True)


if __name__ == "__main__":
    main()
