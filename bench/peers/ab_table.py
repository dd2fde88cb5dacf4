#!/usr/bin/env python3
"""Before/after table of ours-only peer runs (bench/peers/ab.sh writes them).

    python3 bench/peers/ab_table.py --before b1.json b2.json ... --after a1.json a2.json ... [--label-before main]
        [--label-after HEAD] [--out table.md]

Each JSON is one process run of RecurrentCore.Peers --engines ours; the runs alternated before, after, before, after.
Per scenario: the median of the runs' medians (and their min-max range), after / before as a speed-up (> 1: after is
faster), and a mark where after is slower than before by more than 3 % (issue 10: "nothing else slower than today's
main by more than 3 %").
"""
import argparse
import json
import statistics
import sys


def fmt(ns):
    """A duration in ns, in the unit that reads best; "—" for a missing value (None or NaN)."""
    if ns is None or ns != ns:
        return "—"
    if ns < 1e3:
        return "%.0f ns" % ns
    if ns < 1e4:
        return "%.2f µs" % (ns / 1e3)
    if ns < 1e6:
        return "%.1f µs" % (ns / 1e3)
    if ns < 1e7:
        return "%.2f ms" % (ns / 1e6)
    return "%.1f ms" % (ns / 1e6)


def load(paths):
    runs, meta = [], None
    for p in paths:
        with open(p) as f:
            d = json.load(f)
        meta = meta or d
        runs.append({s["name"]: s["engines"]["ours"]["median_ns"] for s in d["scenarios"]})
    return runs, meta


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", nargs="+", required=True)
    ap.add_argument("--after", nargs="+", required=True)
    ap.add_argument("--label-before", default="before")
    ap.add_argument("--label-after", default="after")
    ap.add_argument("--out")
    a = ap.parse_args()
    before, mb = load(a.before)
    after, ma = load(a.after)
    names = [n for n in before[0] if all(n in r for r in before + after)]
    lines = ["| scenario | %s (median of %d runs, range) | %s (median of %d runs, range) | after / before speed-up | ≤ 3 %% slower |"
             % (a.label_before, len(before), a.label_after, len(after)), "|---|---:|---:|---:|---|"]
    slower = []
    for n in names:
        b = [r[n] for r in before]
        f = [r[n] for r in after]
        mb_, mf = statistics.median(b), statistics.median(f)
        speed = mb_ / mf
        ok = speed >= 1 / 1.03
        if not ok:
            slower.append(n)
        lines.append("| %s | %s (%s–%s) | %s (%s–%s) | %.2f× | %s |" % (n, fmt(mb_), fmt(min(b)), fmt(max(b)), fmt(mf), fmt(min(f)), fmt(max(f)),
                                                            speed, "✓" if ok else "✗"))
    lines.append("")
    lines.append("Process-level interleaving: %d runs each, alternating %s, %s, %s, %s, ...; each run %s s per scenario "
                 "(%s); machine %s, %s; load average %s (first run) to %s (last run)."
                 % (len(before), a.label_before, a.label_after, a.label_before, a.label_after, mb.get("seconds_per_engine"),
                    mb.get("command", "?"), mb.get("cpu", "?"), mb.get("caches", "?"), mb.get("load_before", "?"),
                    ma.get("load_after", "?")))
    if slower:
        lines.append("Slower by more than 3 %%: %s." % ", ".join(slower))
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
