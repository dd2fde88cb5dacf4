#!/usr/bin/env python3
"""Two derived tables from the peer runs of bench/peers/run_all.sh.

    python3 bench/peers/summary.py peers.json peers-pinned.json [--out summary.md]

1. Pinned against unpinned (issue 10: pinned to one CPU, the step's median within 1.2x of unpinned; the step
   against RTNeural's best configuration, both pinned, >= 1.0x at H = 16, 64 and >= 1.3x at H = 256).
2. Thread scaling (issue 15: two threads >= 1.8x one thread for the batched rows, every engine that ran at both).
"""
import argparse
import json
import sys

from ab_table import fmt  # one duration format for every table (same folder: on sys.path when run as a script)


def med(s, key):
    e = s["engines"].get(key)
    return e["median_ns"] if e else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("unpinned")
    ap.add_argument("pinned")
    ap.add_argument("--out")
    a = ap.parse_args()
    with open(a.unpinned) as f:
        un = json.load(f)
    with open(a.pinned) as f:
        pin = json.load(f)
    lines = ["Pinned (taskset -c 0, every engine) against unpinned, streaming step B = 1:", "",
             "| scenario | ours unpinned | ours pinned | pinned / unpinned (#10: ≤ 1.2) | RTNeural pinned (config) | RTNeural / ours, pinned (#10: ≥ 1.0 at H ≤ 64, ≥ 1.3 at 256) |",
             "|---|---:|---:|---:|---:|---:|"]
    by_name = {s["name"]: s for s in un["scenarios"]}
    for s in pin["scenarios"]:
        if s["mode"] != "step":
            continue
        u = by_name.get(s["name"])
        o_u, o_p, r_p = med(u, "ours") if u else None, med(s, "ours"), med(s, "rtneural")
        need = 1.3 if s["hidden"] >= 256 else 1.0
        ratio = "%.2f %s" % (o_p / o_u, "✓" if o_p / o_u <= 1.2 else "✗") if o_u and o_p else "—"
        vs = "%.2f× %s" % (r_p / o_p, "✓" if r_p / o_p >= need else "✗") if r_p and o_p else "—"
        cfg = s["engines"].get("rtneural", {}).get("variant", "")
        lines.append("| %s | %s | %s | %s | %s (%s) | %s |" % (s["name"], fmt(o_u), fmt(o_p), ratio, fmt(r_p), cfg, vs))
    lines += ["", "Thread scaling, one thread against two (#15: ours ≥ 1.8× for the batched rows, bitwise identical results):", ""]
    keys = ["ours", "ort", "ort-int8", "onednn", "torch2", "torch1"]
    one = {s["shape"]: s for s in un["scenarios"] if s.get("threads", 1) == 1}
    two = [s for s in un["scenarios"] if s.get("threads", 1) == 2]
    present = [k for k in keys if any(k in s["engines"] for s in two)]
    names = {k: next(s["engines"][k]["name"] for s in two if k in s["engines"]) for k in present}
    if not two:
        lines.append("(no two-thread rows in this run)")
    else:
        lines.append("| scenario | " + " | ".join("%s 1 → 2 threads" % names[k] for k in present) + " |")
        lines.append("|---|" + "---:|" * len(present))
    for s in two:
        o = one.get(s["shape"])
        if not o:
            continue
        cells = []
        for k in present:
            m1, m2 = med(o, k), med(s, k)
            cells.append("%s → %s (%.2f×)" % (fmt(m1), fmt(m2), m1 / m2) if m1 and m2 else "—")
        lines.append("| %s | %s |" % (s["shape"], " | ".join(cells)))
    lines += ["", "Unpinned run %s (load %s → %s); pinned run %s (load %s → %s); %s, %s." % (
        un.get("utc"), un.get("load_before"), un.get("load_after"), pin.get("utc"), pin.get("load_before"),
        pin.get("load_after"), un.get("cpu"), un.get("caches"))]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
