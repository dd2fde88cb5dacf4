#!/usr/bin/env python3
"""Writes the peer plot (plain SVG, no plotting library) from the JSON of the peer benchmark.

    python3 bench/peers/plot_svg.py results.json docs/peers.svg

Top row: streaming step latency (B = 1) against H for LSTM and GRU; bottom row: sequence inference (T = 100, B = 1
and B = 16, one thread) time per time step against H for LSTM and GRU. Both axes logarithmic. Every engine of the run
(ours, RTNeural, ONNX Runtime float32 and int8, oneDNN, PyTorch), as measured in it.
"""
import json
import math
import sys

SERIES = [("ours", "ours (RecurrentCore)", "#d62728", ""),
          ("rtneural", "RTNeural (best configuration)", "#9467bd", ""),
          ("ort", "ONNX Runtime float32", "#1f77b4", ""),
          ("ort-int8", "ONNX Runtime DynamicQuantizeLSTM int8", "#17becf", ""),
          ("onednn", "oneDNN RNN primitive", "#ff7f0e", ""),
          ("torch2", "PyTorch 2", "#2ca02c", ""),
          ("torch1", "PyTorch 1.13", "#8c564b", "")]
CELL_NAMES = {"lstm": "LSTM", "gru": "GRU", "rnn-tanh": "RNN-tanh"}

W, H = 300, 230          # panel size
ML, MT, MB = 62, 34, 40  # margins inside a panel


def fmt_ns(v):
    if v < 1e3:
        return "%g ns" % v
    if v < 1e6:
        return "%g µs" % (v / 1e3)
    if v < 1e9:
        return "%g ms" % (v / 1e6)
    return "%g s" % (v / 1e9)


def panel(out, x0, y0, title, hs, lines, extra_points):
    """lines: [(label, colour, dash, [(h, ns), ...])]; extra_points: [(h, ns, label)]."""
    values = [ns for _, _, _, pts in lines for _, ns in pts] + [ns for _, ns, _ in extra_points]
    if not values:
        return
    lo = 10 ** math.floor(math.log10(min(values)))
    hi = 10 ** math.ceil(math.log10(max(values)))
    if hi / lo < 100:
        hi = lo * 100
    pw, ph = W - ML - 12, H - MT - MB
    hmin, hmax = min(hs) / 1.4, max(hs) * 1.4

    def px(h):
        return x0 + ML + pw * (math.log(h) - math.log(hmin)) / (math.log(hmax) - math.log(hmin))

    def py(ns):
        return y0 + MT + ph * (1 - (math.log(ns) - math.log(lo)) / (math.log(hi) - math.log(lo)))

    out.append('<text x="%.1f" y="%.1f" font-size="13" font-weight="bold" text-anchor="middle">%s</text>' % (x0 + ML + pw / 2, y0 + 20, title))
    out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#888"/>' % (x0 + ML, y0 + MT, pw, ph))
    d = lo
    while d <= hi * 1.0001:
        y = py(d)
        out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>' % (x0 + ML, y, x0 + ML + pw, y))
        out.append('<text x="%.1f" y="%.1f" font-size="10" text-anchor="end">%s</text>' % (x0 + ML - 4, y + 3, fmt_ns(d)))
        d *= 10
    for h in hs:
        x = px(h)
        out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>' % (x, y0 + MT, x, y0 + MT + ph))
        out.append('<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle">%d</text>' % (x, y0 + MT + ph + 13, h))
    out.append('<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle">hidden size H (= I)</text>' % (x0 + ML + pw / 2, y0 + MT + ph + 28))
    for label, colour, dash, pts in lines:
        if not pts:
            continue
        path = " ".join("%s%.1f,%.1f" % ("M" if i == 0 else "L", px(h), py(ns)) for i, (h, ns) in enumerate(pts))
        out.append('<path d="%s" fill="none" stroke="%s" stroke-width="2"%s/>' % (path, colour, ' stroke-dasharray="%s"' % dash if dash else ""))
        for h, ns in pts:
            out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s H=%d: %s</title></circle>' % (px(h), py(ns), colour, label, h, fmt_ns(round(ns, 1))))
    for h, ns, label in extra_points:
        x, y = px(h), py(ns)
        out.append('<path d="M%.1f,%.1f l5,5 l-5,5 l-5,-5 z" fill="#9467bd"><title>%s H=%d: %s</title></path>' % (x, y - 5, label, h, fmt_ns(ns)))


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with open(src) as f:
        data = json.load(f)
    scen = [s for s in data["scenarios"] if s.get("threads", 1) == 1]
    for s in scen:
        s.update(s.get("engines", {}))
    present = {key for s in scen for key in s.get("engines", {})}
    series = [x for x in SERIES if x[0] in present]
    out = []
    panels = []
    for cell in ("lstm", "gru"):
        rows = sorted((s for s in scen if s["mode"] == "step" and s["cell"] == cell), key=lambda s: s["hidden"])
        lines = [(label, colour, dash, [(s["hidden"], s[key]["median_ns"]) for s in rows if key in s]) for key, label, colour, dash in series]
        panels.append(("%s streaming step, B=1" % CELL_NAMES[cell], [s["hidden"] for s in rows], lines, []))
    for cell in ("lstm", "gru"):
        lines = []
        hs = set()
        for b, dash in ((1, ""), (16, "5,3")):
            rows = sorted((s for s in scen if s["mode"] == "sequence" and s["cell"] == cell and s["batch"] == b), key=lambda s: s["hidden"])
            hs.update(s["hidden"] for s in rows)
            for key, label, colour, _ in series:
                lines.append(("%s B=%d" % (label, b), colour, dash, [(s["hidden"], s[key]["median_ns"] / s["seq"]) for s in rows if key in s]))
        panels.append(("%s sequence T=100, per step" % CELL_NAMES[cell], sorted(hs), lines, []))
    panels = [p for p in panels if p[1]]
    cols = 2
    rows_n = (len(panels) + cols - 1) // cols
    in_grid = len(panels) % cols != 0
    width, height = cols * W, rows_n * H + (10 if in_grid else 175)
    for i, (title, hs, lines, extra) in enumerate(panels):
        panel(out, (i % cols) * W, (i // cols) * H, title, hs, lines, extra)
    # Legend, in the free cell of the last row when there is one, else at the bottom.
    lx, ly = ((len(panels) % cols) * W + 20, (rows_n - 1) * H + 50) if in_grid else (20, rows_n * H + 10)
    items = [(label, colour, "") for _, label, colour, _ in series] + [("solid: B=1, dashed: B=16 (bottom row)", "#444", "5,3")]
    for k, (label, colour, dash) in enumerate(items):
        y = ly + 18 * k
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>' % (lx, y, lx + 24, y, colour, ' stroke-dasharray="%s"' % dash if dash else ""))
        out.append('<text x="%d" y="%d" font-size="11">%s</text>' % (lx + 30, y + 4, label))
    y = ly + 18 * len(items)
    out.append('<text x="%d" y="%d" font-size="10" fill="#555">median latency, one thread, log-log axes%s</text>' % (lx, y + 8, ", pinned to CPU 0" if data.get("pinned") else ""))
    out.append('<text x="%d" y="%d" font-size="10" fill="#555">run %s, %s, load %s</text>' % (lx, y + 22, data.get("utc", ""), data.get("cpu", ""), data.get("load_before", "")))
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif">' % (width, height, width, height),
           '<rect width="100%" height="100%" fill="white"/>'] + out + ["</svg>"]
    with open(dst, "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
