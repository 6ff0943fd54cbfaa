#!/usr/bin/env python3
"""Playground frame-rate benchmark: how many frames per second a session can produce.

While a session plays, the server runs a few training steps, builds a frame and sends it as
JSON, over and over (docs/playground.md). One timed frame here is exactly that work, in one
thread: ``session.step(k)`` + ``session.frame()`` + ``json.dumps(frame, allow_nan=False)``.

Workloads (mlplab.web.session.Session, float64, Adam, batch 32):

  target  -- the contract's case: 2-8-8-1 tanh on XOR, 500 points (350 train), with
             k = 1, 5, 10, 25 steps per frame. Target: >= 20 frames/s.
  others  -- a 1-8-8-1 tanh regression (sin, curve instead of heatmap) and the largest
             network the limits allow: 8 hidden ReLU layers of 32 units on 5000 spiral
             points (figures only, no target).

Each row: warm-up frames, then N timed frames; medians (p25-p75) of the parts and the
total, frames/s = 1 / median total, and the JSON size of a frame (points excluded: they
are sent only when the data change).

Usage:
    python benchmarks/bench_playground.py [--quick] [--json PATH] [--only target|others]

Exit status 1 if an mlplab measurement could not run, 0 otherwise (a missed target is a
figure, not a failure).
"""

from __future__ import annotations

import gc
import json
import sys
import time

from _common import (  # also exits when threadpoolctl is missing
    DEADLINE,
    ERRORS,
    NOTES,
    base_parser,
    finish,
    freeze_gc,
    import_mlplab,
    machine_facts,
    md_table,
    print_blas,
    print_facts_head,
    record_error,
    start,
    summary,
)

FULL = dict(frames=200, warmup=10, budget_s=None)
QUICK = dict(frames=25, warmup=3, budget_s=20.0)  # a smoke test: indicative figures

TARGET_FPS = 20.0
TARGET_STEPS = (1, 5, 10, 25)

TARGET = {
    "dataset": "xor",
    "n_samples": 500,
    "layers": [{"units": 8, "activation": "tanh"}] * 2,
    "batch_size": 32,
}
OTHERS = [
    (
        "1-8-8-1 tanh, sin, 500 points",
        {
            "dataset": "sin",
            "n_samples": 500,
            "layers": [{"units": 8, "activation": "tanh"}] * 2,
        },
        10,
    ),
    (
        "2-32×8-1 ReLU, spiral, 5000 points (the limits)",
        {
            "dataset": "spiral",
            "n_samples": 5000,
            "layers": [{"units": 32, "activation": "relu"}] * 8,
        },
        10,
    ),
]


def check_mlplab(mlplab):
    from mlplab.web.session import Session  # noqa: F401 - the feature under test


def ms(x):
    return f"{x * 1e3:.2f}"


def measure(Session, config, steps, cfg):
    """Time ``cfg['frames']`` frames of ``steps`` training steps each."""
    s = Session(config)
    s.frame(points=True)  # the first frame carries the points; later ones do not
    parts = {"step": [], "frame": [], "json": [], "total": []}
    size = 0
    for i in range(cfg["warmup"] + cfg["frames"]):
        if i > cfg["warmup"] and DEADLINE[0] is not None and time.perf_counter() > DEADLINE[0]:
            note = "--quick time budget reached: some rows have fewer timed frames"
            if note not in NOTES:
                NOTES.append(note)
            break
        gc.disable()
        try:
            t0 = time.perf_counter()
            s.step(steps)
            t1 = time.perf_counter()
            frame = s.frame()
            t2 = time.perf_counter()
            text = json.dumps(frame, allow_nan=False)
            t3 = time.perf_counter()
        finally:
            gc.enable()
        if i >= cfg["warmup"]:
            parts["step"].append(t1 - t0)
            parts["frame"].append(t2 - t1)
            parts["json"].append(t3 - t2)
            parts["total"].append(t3 - t0)
            size = len(text)
    if frame["error"]:
        NOTES.append(f"{config}: training diverged: {frame['error']}")
    out = {k: summary(v) for k, v in parts.items()}
    total = out["total"]["median"]
    return {
        "config": config,
        "steps_per_frame": steps,
        "parts_s": out,
        "fps": 1.0 / total if total > 0 else float("inf"),
        "frame_bytes": size,
        "epoch_reached": frame["epoch"],
    }


def row(name, r, target):
    p = r["parts_s"]
    t = p["total"]
    met = ""
    if target is not None:
        met = "met" if r["fps"] >= target else "MISSED"
    return [
        name,
        r["steps_per_frame"],
        ms(p["step"]["median"]),
        ms(p["frame"]["median"]),
        ms(p["json"]["median"]),
        f"{ms(t['median'])} ({ms(t['p25'])}–{ms(t['p75'])})",
        f"{r['fps']:.0f}",
        f"{r['frame_bytes'] / 1024:.0f}",
        met,
    ]


HEADER = [
    "workload",
    "steps/frame",
    "step() ms",
    "frame() ms",
    "json ms",
    "total ms (p25–p75)",
    "frames/s",
    "frame KiB",
    f"≥ {TARGET_FPS:g}/s",
]


def main(argv=None):
    ap = base_parser(__doc__, 30, ("target", "others"), "run one of the two workload groups")
    args = ap.parse_args(argv)
    t_start, cfg = start(args.quick, QUICK, FULL)
    mlplab, err = import_mlplab(check_mlplab)
    if mlplab is None:
        ERRORS.append(f"mlplab not importable: {err}")
    facts = machine_facts(mlplab, f"not importable ({err})")
    freeze_gc()

    print(f"# mlplab playground frame-rate benchmark{' (--quick)' if args.quick else ''}\n")
    print_facts_head(facts, f"numpy {facts['numpy']}")
    print_blas(facts["blas"])
    print()
    results = {"machine": facts, "quick": args.quick, "config": cfg, "rows": []}
    rows = []
    if mlplab is not None:
        from mlplab.web.session import Session

        jobs = []
        if args.only in (None, "target"):
            jobs += [("2-8-8-1 tanh, xor, 500 points", TARGET, k, TARGET_FPS) for k in TARGET_STEPS]
        if args.only in (None, "others"):
            jobs += [(name, config, k, None) for name, config, k in OTHERS]
        for name, config, k, target in jobs:
            try:
                r = measure(Session, config, k, cfg)
            except Exception as exc:  # noqa: BLE001 - recorded, the other rows still run
                record_error(f"{name}, {k} steps/frame", exc)
                continue
            r["name"], r["target_fps"] = name, target
            r["met"] = None if target is None else r["fps"] >= target
            results["rows"].append(r)
            rows.append(row(name, r, target))
    print(
        f"## 1. Frames per second: step(k) + frame() + json.dumps, "
        f"{cfg['frames']} timed frames per row (medians)\n"
    )
    print(md_table(HEADER, rows) if rows else "(no measurement)")
    print()
    judged = [r for r in results["rows"] if r["met"] is not None]
    if judged:
        worst = min(judged, key=lambda r: r["fps"])
        verdict = "met" if all(r["met"] for r in judged) else "MISSED"
        print(
            f"Target ≥ {TARGET_FPS:g} frames/s for 2-8-8-1 tanh on 500 points: {verdict} "
            f"(slowest row {worst['fps']:.0f} frames/s at {worst['steps_per_frame']} "
            "steps/frame).\n"
        )
        results["target_met"] = verdict == "met"
    return finish(results, t_start, args.json, load_at_end="wall")


if __name__ == "__main__":
    sys.exit(main())
