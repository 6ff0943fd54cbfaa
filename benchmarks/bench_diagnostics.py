#!/usr/bin/env python3
"""Diagnostics overhead benchmark: what gradient-flow recording costs per epoch.

The issue asks: "Recording off costs nothing measurable; on, <= 10 % extra per epoch".
Five ways of calling ``fit`` are timed interleaved (round robin, the starting variant
rotated every round) on two workloads (see benchmarks/README.md):

  (a) off      -- no callbacks, ``diagnostics=False``: the baseline
  (b) default  -- ``diagnostics=True`` (GradientWarnings: checks at epochs 1, 2, 4, 8)
  (c) flow     -- ``callbacks=[GradientFlow()]`` (per-epoch records)
  (d) steps    -- ``callbacks=[GradientFlow(every_step=True)]``
  (e) a no-op ``Callback()`` -- reference: the loop's hook dispatch alone

Workloads: the 784-256-256-10 ReLU epoch of bench_core.py (float32, Adam, batch 128,
random data; BLAS 1 and 2 threads) and a small 2-16-16-1 tanh net on 1000 points
(float64, Adam, batch 32, BLAS 1 thread). Medians per epoch, ratios to (a), met/MISSED
for "off: within noise" (b) and "on <= 1.10x" (c, d), judged on the paired ratio. When
a target is missed (or with --profile), a profile says where the time goes.

Usage:
    python benchmarks/bench_diagnostics.py [--quick] [--json PATH] [--only big|small]
        [--profile]

Exit status 1 if an mlplab measurement could not run, 0 otherwise (a missed target is
a figure, not a failure).
"""

from __future__ import annotations

import cProfile
import gc
import pstats
import sys
import time
import timeit
import warnings
from pathlib import Path

import numpy as np

from _common import (  # also exits when threadpoolctl is missing
    DEADLINE,
    ERRORS,
    NOTES,
    ThreadpoolController,
    base_parser,
    finish,
    freeze_gc,
    import_mlplab,
    machine_facts,
    md_table,
    median,
    print_facts_head,
    record_error,
    start,
    summary,
)

FULL = dict(
    big_n=20_000,
    big_rounds=9,  # timed blocks per variant (interleaved), after 1 untimed warm-up block
    big_epochs=1,  # epochs per block (one fit call)
    big_threads=(1, 2),  # BLAS threads: 2 = the engine's default here, 1 = quiet reference
    small_n=1000,
    small_rounds=15,
    small_epochs=16,  # one fit call of 16 epochs: the default checks run at 1, 2, 4, 8
    profile_epochs=40,
    budget_s=None,
)
QUICK = dict(  # a smoke test: the figures are indicative only
    big_n=3_200,  # 25 batches
    big_rounds=3,
    big_epochs=1,
    big_threads=(1,),  # a 2-thread epoch is 3-50x slower whenever a neighbour is busy
    small_n=1000,
    small_rounds=5,
    small_epochs=16,
    profile_epochs=10,
    budget_s=15.0,  # past this (from the start) no new timed round starts (>= 1 kept)
)

BIG_DIMS = (784, 256, 256, 10)
BIG_BATCH = 128
SMALL_DIMS = (2, 16, 16, 1)
SMALL_BATCH = 32
TARGET_ON = 1.10  # "on, <= 10 % extra per epoch"
OFF_NOISE_FLOOR = 0.02  # "off costs nothing measurable": within max(2 %, the noise of (a))
VARIANTS = ("a", "b", "c", "d", "e")
LABELS = {
    "a": "(a) off: no callbacks, diagnostics=False",
    "b": "(b) default: diagnostics=True",
    "c": "(c) GradientFlow()",
    "d": "(d) GradientFlow(every_step=True)",
    "e": "(e) reference: a no-op Callback(), diagnostics=False",
}


def check_mlplab(mlplab):
    from mlplab import GradientFlow  # noqa: F401 - the feature under test


# ------------------------------------------------------------------------------ helpers
def fmt_t(s):
    if not np.isfinite(s):
        return "n/a"
    return f"{s * 1e3:.1f} ms" if s >= 1e-2 else f"{s * 1e3:.3f} ms"


def print_facts(f):
    print_facts_head(f, f"numpy {f['numpy']}")
    for lib in f["blas"]:
        print(
            f"- BLAS (threadpoolctl): {lib['internal_api']} {lib['version']}, "
            f"{lib['num_threads']} threads by default"
        )
    print()


# --------------------------------------------------------------------- the measurement
def make_fitters(mlplab, build, X, y, fit_kw, epochs, threads, set_threads):
    """One network per variant and thread count (same seed: all train bit-identically),
    one fit call of ``epochs`` epochs per block. Returns {(variant, threads): (enter, run)}."""
    from mlplab import Callback, GradientFlow

    extra = {
        "a": dict(diagnostics=False),
        "b": dict(),  # diagnostics=True is fit's default
        "c": dict(callbacks=[GradientFlow()], diagnostics=False),
        "d": dict(callbacks=[GradientFlow(every_step=True)], diagnostics=False),
        "e": dict(callbacks=[Callback()], diagnostics=False),
    }
    fitters = {}
    for t in threads:
        for key in VARIANTS:
            net = build()
            kw = {**fit_kw, **extra[key], "epochs": epochs}

            def run(net=net, kw=kw):
                net.fit(X, y, **kw)

            fitters[(key, t)] = (lambda t=t: set_threads(t), run)
    return fitters


def run_interleaved(fitters, rounds, epochs):
    """Round robin with rotation; returns {name: [s per epoch per round]} (paired rounds).
    ``enter`` (thread settings) runs untimed before each block."""
    times = {k: [] for k in fitters}
    live = list(fitters)
    for k in list(live):  # one untimed warm-up block each
        try:
            fitters[k][0]()
            fitters[k][1]()
        except Exception as exc:  # noqa: BLE001
            record_error(f"{LABELS[k[0]]} (warm-up)", exc)
            live.remove(k)
    for r in range(rounds):
        if r >= 1 and DEADLINE[0] is not None and time.perf_counter() > DEADLINE[0]:
            note = "--quick time budget reached: some tables have fewer rounds than configured"
            if note not in NOTES:
                NOTES.append(note)
            break
        k0 = r % max(1, len(live))
        for k in live[k0:] + live[:k0]:
            enter, run = fitters[k]
            enter()
            gc.collect()
            gc.disable()
            try:
                t0 = time.perf_counter()
                run()
                t1 = time.perf_counter()
            except Exception as exc:  # noqa: BLE001
                record_error(LABELS[k[0]], exc)
                live.remove(k)
                continue
            finally:
                gc.enable()
            times[k].append((t1 - t0) / epochs)
    return times


def judge(times):
    """Ratios to (a) (of the medians and, per round, paired) and the verdicts."""
    base = times.get("a", [])
    med_a = median(base)
    noise_a = (np.percentile(base, 75) - np.percentile(base, 25)) / med_a if base else np.nan
    off_tol = max(OFF_NOISE_FLOOR, float(noise_a) if np.isfinite(noise_a) else 0.0)
    out = {}
    for k in VARIANTS:
        xs = times.get(k, [])
        s = summary(xs)
        r = s["median"] / med_a if xs and med_a > 0 else float("nan")
        paired = [x / b for x, b in zip(xs, base, strict=False)] if k != "a" else []
        rp = median(paired) if paired else float("nan")
        if k in ("a", "e") or not xs:
            verdict = {"a": "baseline", "e": "reference (hook dispatch)"}.get(k, "n/a")
        elif k == "b":
            ok = rp <= 1.0 + off_tol
            verdict = f"{'met' if ok else 'MISSED'} (off: ≤ {1 + off_tol:.2f}x, i.e. noise)"
        else:
            ok = rp <= TARGET_ON
            verdict = f"{'met' if ok else 'MISSED'} (on: ≤ {TARGET_ON:.2f}x)"
        out[k] = {
            "s_per_epoch": s,
            "ratio_of_medians": r,
            "paired_ratio_median": rp,
            "paired_ratios": paired,
            "verdict": verdict,
            "met": verdict.startswith("met") if k in "bcd" else None,
        }
    return out, off_tol


def print_table(res, n_batches):
    rows = []
    for k in VARIANTS:
        v = res[k]
        s = v["s_per_epoch"]
        if not s["n"]:
            rows.append([LABELS[k], "failed", "", "", "", "", "", v["verdict"]])
            continue
        extra_us = (s["median"] - res["a"]["s_per_epoch"]["median"]) / n_batches * 1e6
        rows.append(
            [
                LABELS[k],
                fmt_t(s["median"]),
                f"{fmt_t(s['p25'])}–{fmt_t(s['p75'])}",
                fmt_t(s["min"]),
                "1.00x" if k == "a" else f"{v['ratio_of_medians']:.3f}x",
                "" if k == "a" else f"{v['paired_ratio_median']:.3f}x",
                "" if k == "a" else f"{extra_us:+.1f}",
                v["verdict"],
            ]
        )
    header = [
        "variant",
        "median / epoch",
        "p25–p75",
        "min",
        "ratio vs (a)",
        "paired ratio",
        "extra µs / step",
        "target",
    ]
    print(md_table(header, rows))
    print()


def bench_workload(
    title, key, mlplab, build, X, y, fit_kw, cfg_rounds, epochs, threads, set_threads, results
):
    """Time the variants at each BLAS thread count (all interleaved); one table per count."""
    from mlplab.diagnostics import GradientWarning

    n_batches = -(-X.shape[0] // fit_kw["batch_size"])
    print(title)
    print(
        f"{cfg_rounds} interleaved rounds over every row (after 1 untimed warm-up block each), "
        f"one `fit(..., epochs={epochs})` call per block, gc disabled inside blocks; "
        f"{n_batches} batches per epoch. Paired ratio = median over rounds of "
        "(row / (a)) in the same round; extra µs / step = (row − (a)) / batches.\n"
    )
    if epochs < 8:
        print(
            f"(b): every block is a fresh fit of {epochs} epoch(s), so the default check "
            "(epochs 1, 2, 4, 8 of a fit) runs in every timed epoch: row (b) is its worst "
            "case.\n"
        )
    fitters = make_fitters(mlplab, build, X, y, fit_kw, epochs, threads, set_threads)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GradientWarning)
        times = run_interleaved(fitters, cfg_rounds, epochs)
    gw = [w for w in caught if issubclass(w.category, GradientWarning)]
    if gw:
        NOTES.append(
            f"{key}: row (b)'s checks emitted {len(gw)} GradientWarning(s) (recorded, not "
            f"shown; timed all the same); first: {str(gw[0].message)[:160]}"
        )
    out = {
        "n": X.shape[0],
        "batch": fit_kw["batch_size"],
        "n_batches": n_batches,
        "epochs_per_block": epochs,
        "by_threads": {},
    }
    res_by_t = {}
    for t in threads:
        res, off_tol = judge({k: times[(k, t)] for k in VARIANTS})
        spread = _spread(res["a"]["s_per_epoch"])
        print(f"BLAS threads: {t}\n")
        print_table(res, n_batches)
        if spread > 0.10:
            print(
                f"**WARNING**: row (a) spread (p75−p25)/median = {spread:.0%} at {t} BLAS "
                "thread(s): the machine was busy; read the min column and the paired ratio, "
                "or rerun.\n"
            )
        out["by_threads"][str(t)] = {
            "off_tolerance": off_tol,
            "variants": {LABELS[k]: res[k] for k in VARIANTS},
        }
        res_by_t[t] = res
    results[key] = out
    return res_by_t, n_batches


def _spread(s):
    return (s["p75"] - s["p25"]) / s["median"] if s["n"] and s["median"] > 0 else float("nan")


# ------------------------------------------------------------------------- workloads
def big_workload(mlplab, n):
    rng = np.random.default_rng(0)
    X = rng.random((n, BIG_DIMS[0]), dtype=np.float32)
    y = rng.integers(0, BIG_DIMS[-1], size=n).astype(np.int64)

    def build():
        layers = [mlplab.Dense(d, activation="relu") for d in BIG_DIMS[1:-1]]
        layers.append(mlplab.Dense(BIG_DIMS[-1]))
        return mlplab.Sequential(
            layers, n_inputs=BIG_DIMS[0], init="he_uniform", seed=0, dtype="float32"
        )

    kw = dict(
        loss="cce",
        optimizer="adam",
        learning_rate=1e-3,
        batch_size=BIG_BATCH,
        shuffle=True,
        verbose=0,
    )
    return build, X, y, kw


def small_workload(mlplab, n):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1.0, 1.0, size=(n, SMALL_DIMS[0]))
    y = np.sin(np.pi * X[:, :1]) * X[:, 1:2]

    def build():
        layers = [mlplab.Dense(d, activation="tanh") for d in SMALL_DIMS[1:-1]]
        layers.append(mlplab.Dense(SMALL_DIMS[-1]))
        return mlplab.Sequential(layers, n_inputs=SMALL_DIMS[0], seed=0)

    kw = dict(
        loss="mse",
        optimizer="adam",
        learning_rate=1e-2,
        batch_size=SMALL_BATCH,
        shuffle=True,
        verbose=0,
    )
    return build, X, y, kw


# --------------------------------------------------------------------------- profile
def _short(fn_tuple):
    filename, line, name = fn_tuple
    if filename == "~":
        return name
    p = Path(filename)
    parts = p.parts
    if "mlplab" in parts:
        filename = "mlplab/" + "/".join(parts[parts.index("mlplab") + 1 :])
    elif "numpy" in parts:
        filename = "numpy/" + "/".join(parts[parts.index("numpy") + 1 :])
    else:
        filename = p.name
    return f"{filename}:{line}({name})"


def _time_us(fn, target_s=0.01, repeat=3):
    """Best-of-``repeat`` µs per call, each repeat running about ``target_s``."""
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    number = max(1, min(20000, int(target_s / one)))
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def profile_workload(tag, mlplab, build, X, y, fit_kw, epochs, res, n_batches, fit_epochs):
    """Where the time of (c) and (b) goes: cProfile of a GradientFlow fit, then each part of
    the recording timed alone on the arrays of a real step. Returns the figures."""
    from mlplab import GradientFlow, diagnostics
    from mlplab.activations import Logistic, ReLU, Tanh
    from mlplab.diagnostics import statistics

    step_us_a = res["a"]["s_per_epoch"]["median"] / n_batches * 1e6
    steps = epochs * n_batches
    print(
        f"### Profile, {tag}: GradientFlow() over {epochs} epoch(s) ({steps} steps), "
        "and the default checks\n"
    )
    budget = 0.1 * step_us_a
    print(
        f"Baseline (a): {step_us_a:.1f} µs per training step (epoch median / batches), so "
        f"the 10 % target leaves **{budget:.1f} µs per step** for recording.\n"
    )
    net = build()
    flow = GradientFlow()
    net.fit(X, y, epochs=1, callbacks=[flow], diagnostics=False, **fit_kw)  # warm
    prof = cProfile.Profile()
    prof.enable()
    net.fit(X, y, epochs=epochs, callbacks=[flow], diagnostics=False, **fit_kw)
    prof.disable()
    raw = pstats.Stats(prof).stats  # {(file, line, name): (cc, nc, tt, ct, callers)}
    total = max(ct for (_, _, _, ct, _) in raw.values())

    def find(name):
        for fn, (_, nc, _tt, ct, _) in raw.items():
            if fn[2] == name and fn[0].endswith("diagnostics.py"):
                return nc, ct
        return 0, 0.0

    hooks = [
        ("GradientFlow.on_gradients (cumulative)", "on_gradients"),
        ("  of which layer_stats (cumulative)", "layer_stats"),
        ("  of which _units, called by layer_stats", "_units"),
        ("GradientFlow.on_batch_end (update ratio)", "on_batch_end"),
        ("GradientFlow.on_epoch_end (epoch means)", "on_epoch_end"),
    ]
    out = {"total_s": total, "steps": steps, "hooks": {}, "top": []}
    rows = []
    for label, name in hooks:
        nc, ct = find(name)
        rows.append([label, nc, f"{ct * 1e3:.1f}", f"{ct / total:.0%}", f"{ct / steps * 1e6:.1f}"])
        out["hooks"][label.strip()] = {"calls": nc, "cum_s": ct}
    print("cProfile of one `fit` (times inflated by the profiler; the shares are what count):\n")
    print(md_table(["hook", "calls", "cum ms", "share of fit", "µs / step"], rows))
    print(f"\nWhole fit under the profiler: {total * 1e3:.1f} ms.\n")
    rows = []
    for fn, (_, nc, tt, ct, _) in sorted(raw.items(), key=lambda kv: -kv[1][2])[:12]:
        rows.append([_short(fn), nc, f"{tt * 1e3:.1f}", f"{tt / total:.0%}", f"{ct * 1e3:.1f}"])
        out["top"].append({"function": _short(fn), "calls": nc, "tottime_s": tt, "cumtime_s": ct})
    print("Top functions by own time (tottime):\n")
    print(md_table(["function", "calls", "own ms", "share", "cum ms"], rows))
    print()

    # Each statistic of layer_stats alone (no profiler), on the arrays of one real step.
    bs = fit_kw["batch_size"]
    net.loss_and_grad(X[:bs], y[:bs], loss=fit_kw["loss"])
    units = statistics.weight_units(net)
    parts: dict[str, float] = {}

    def add(label, fn):
        parts[label] = parts.get(label, 0.0) + _time_us(fn)

    sq = statistics.sqnorm
    for _, dense, act in units:
        gW, gb, W, a, z, f = dense.dW, dense.db, dense.W, act.a, act.z, act.activation
        add(
            "grad_norm_W, grad_norm_b, weight_norm: 3 × sqnorm (np.dot) + sqrt",
            lambda gW=gW, gb=gb, W=W: (sq(gW) ** 0.5, sq(gb) ** 0.5, sq(W) ** 0.5),
        )
        add("act_mean: a.mean()", lambda a=a: float(a.mean()))
        add("act_std: a.std()", lambda a=a: float(a.std()))
        if f.elementwise and f.name != "identity":
            add(
                "mean_abs_fprime: np.abs(f.derivative(z, a)).mean()",
                lambda f=f, z=z, a=a: float(np.abs(f.derivative(z, a)).mean()),
            )
        if isinstance(f, Logistic):
            add(
                "saturation: np.mean((a < 0.01) | (a > 0.99))",
                lambda a=a: float(np.mean((a < 0.01) | (a > 0.99))),
            )
        elif isinstance(f, Tanh):
            add(
                "saturation: np.mean(np.abs(a) > 0.99)",
                lambda a=a: float(np.mean(np.abs(a) > 0.99)),
            )
        if isinstance(f, ReLU):
            add(
                "dead_fraction: np.mean(~(a > 0).any(axis=0))",
                lambda a=a: float(np.mean(~(a > 0).any(axis=0))),
            )
        add(
            "nonfinite: 3 × np.isfinite(.).all()",
            lambda a=a, gW=gW, gb=gb: bool(
                np.isfinite(a).all() and np.isfinite(gW).all() and np.isfinite(gb).all()
            ),
        )
        add("np.errstate(all='ignore') enter/exit", _errstate_cycle)
    add(
        "weight_units(net): the layer walk, redone on every call",
        lambda: statistics.weight_units(net),
    )
    whole = _time_us(lambda: diagnostics.layer_stats(net))
    parts["rest of layer_stats (dicts, names, isinstance, loops)"] = max(
        0.0, whole - sum(parts.values())
    )
    from mlplab.training import TrainState

    flow.on_train_begin(None, net)
    mid = TrainState(epoch=0, batch=0, n_batches=max(n_batches, 2), grad_norm=1.0)
    own = {
        "on_gradients, every step: per-layer gradient norms (2 dots per layer)": _time_us(
            lambda: flow.on_gradients(mid, net)
        ),
        f"once per epoch: layer_stats of the last batch, spread over {n_batches} steps": (
            whole / max(n_batches, 1)
        ),
    }
    print(
        f"Each part timed alone (no profiler) on the arrays of one {bs}-sample step, summed "
        f"over the {len(units)} weight layers; layer_stats as a whole: **{whole:.1f} µs** "
        "per call:\n"
    )
    rows = [
        [k, f"{v:.1f}", f"{v / whole:.0%} of layer_stats"]
        for k, v in sorted(parts.items(), key=lambda kv: -kv[1])
    ]
    rows += [[k, f"{v:.1f}", "GradientFlow, per training step"] for k, v in own.items()]
    print(md_table(["per step", "µs", "share"], rows))
    per_step = sum(own.values())
    measured = (
        (res["c"]["s_per_epoch"]["median"] - res["a"]["s_per_epoch"]["median"]) / (n_batches) * 1e6
    )
    print(
        f"\nRecording per step ≈ {per_step:.1f} µs (GradientFlow's per-step norms + its "
        "per-epoch layer_stats spread over the epoch; "
        f"measured (c) − (a): {measured:.1f} µs) against a budget of {budget:.1f} µs "
        f"({per_step / budget:.1f}x the budget).\n"
    )
    out.update(
        layer_stats_us=whole,
        parts_us=parts,
        flow_own_us=own,
        budget_us=budget,
        per_step_us=per_step,
        measured_c_minus_a_us=measured,
    )
    out["default_b"] = profile_default(net, res, n_batches, fit_epochs)
    return out


def profile_default(net, res, n_batches, epochs_per_fit):
    """Row (b) - row (a), split into its parts."""
    from mlplab.diagnostics import GradientWarnings
    from mlplab.training import TrainState

    def extra_us(k):
        return (
            (res[k]["s_per_epoch"]["median"] - res["a"]["s_per_epoch"]["median"])
            / (n_batches)
            * 1e6
        )

    gw = GradientWarnings()
    gw.on_train_begin(None, net)
    quiet = TrainState(epoch=2, batch=0, n_batches=n_batches, grad_norm=1.0)  # no check due
    hook_us = _time_us(lambda: gw.on_gradients(quiet, net))
    last = TrainState(epoch=0, batch=n_batches - 1, n_batches=n_batches, grad_norm=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_us = _time_us(lambda: gw._check(last, net))
    n_checks = sum(1 for e in (1, 2, 4, 8) if e <= epochs_per_fit)
    per_fit = check_us * n_checks / (epochs_per_fit * n_batches)
    rows = [
        ["(b) − (a), measured above", f"{extra_us('b'):.2f}"],
        ["(e) − (a): dispatch of a callback's hooks (3 calls per step)", f"{extra_us('e'):.2f}"],
        ["GradientWarnings.on_gradients when no check is due", f"{hook_us:.2f}"],
        [
            f"the checks: {n_checks} × {check_us:.0f} µs (layer_stats + findings) in this "
            f"{epochs_per_fit}-epoch fit, spread over its {epochs_per_fit * n_batches} steps",
            f"{per_fit:.2f}",
        ],
    ]
    for e in (100, 1000):
        rows.append(
            [
                f"  … the same 4 checks spread over a {e}-epoch fit",
                f"{check_us * 4 / (e * n_batches):.3f}",
            ]
        )
    print("Row (b), the default, split (µs per step):\n")
    print(md_table(["part", "µs / step"], rows))
    print(
        "\nThe checks stop after epoch 8, so their share shrinks with longer fits; the hook "
        "dispatch is paid on every step.\n"
    )
    return {
        "b_minus_a_us": extra_us("b"),
        "e_minus_a_us": extra_us("e"),
        "hook_no_check_us": hook_us,
        "check_us": check_us,
        "n_checks": n_checks,
        "checks_per_step_us": per_fit,
    }


def _errstate_cycle():
    with np.errstate(all="ignore"):
        pass


# ----------------------------------------------------------------------------- main
def main(argv=None):
    ap = base_parser(__doc__, 30, ("big", "small"), "run one of the two workloads")
    ap.add_argument(
        "--profile", action="store_true", help="profile the small net even if (c) meets the target"
    )
    args = ap.parse_args(argv)

    t_start, cfg = start(args.quick, QUICK, FULL)
    mlplab, err = import_mlplab(check_mlplab)
    if mlplab is None:
        ERRORS.append(f"mlplab not importable: {err}")
    controller = ThreadpoolController()
    limiters = []

    def set_threads(n):  # applied immediately, untimed; undone at the end
        limiters.append(controller.limit(limits=n, user_api="blas"))

    facts = machine_facts(
        mlplab,
        f"not importable ({err})",
        blas_keys=("internal_api", "version", "num_threads", "filepath"),
        with_usable=False,
    )
    freeze_gc()  # imported modules out of the collector's reach: gc.collect() costs µs

    print(f"# mlplab diagnostics overhead benchmark{' (--quick)' if args.quick else ''}\n")
    print_facts(facts)
    results = {"machine": facts, "quick": args.quick, "config": cfg}
    if mlplab is not None:
        try:
            profiles = []  # (tag, workload, res, n_batches, fit epochs) worth profiling
            if args.only in (None, "big"):
                wl = big_workload(mlplab, cfg["big_n"])
                res_t, nb = bench_workload(
                    f"## 1. {'-'.join(map(str, BIG_DIMS))} ReLU epoch: float32, CCE on logits, "
                    f"Adam(lr=1e-3), batch {BIG_BATCH}, N={cfg['big_n']} random samples "
                    "(bench_core's epoch)",
                    "big",
                    mlplab,
                    *wl,
                    cfg["big_rounds"],
                    cfg["big_epochs"],
                    cfg["big_threads"],
                    set_threads,
                    results,
                )
                t_worst = max(res_t, key=lambda t: res_t[t]["c"]["paired_ratio_median"])
                if args.profile or any(r["c"]["met"] is False for r in res_t.values()):
                    profiles.append(
                        (
                            f"big net, {t_worst} BLAS thread(s)",
                            "big",
                            t_worst,
                            wl,
                            res_t[t_worst],
                            nb,
                            cfg["big_epochs"],
                            1,
                        )
                    )
            if args.only in (None, "small"):
                wl = small_workload(mlplab, cfg["small_n"])
                res_t, nb = bench_workload(
                    f"## 2. Small net: {'-'.join(map(str, SMALL_DIMS))} tanh, float64, MSE, "
                    f"Adam(lr=1e-2), batch {SMALL_BATCH}, N={cfg['small_n']} points",
                    "small",
                    mlplab,
                    *wl,
                    cfg["small_rounds"],
                    cfg["small_epochs"],
                    (1,),
                    set_threads,
                    results,
                )
                r = res_t[1]
                if args.profile or r["c"]["met"] is False or r["b"]["met"] is False:
                    profiles.append(
                        (
                            "small net, 1 BLAS thread",
                            "small",
                            1,
                            wl,
                            r,
                            nb,
                            cfg["small_epochs"],
                            cfg["profile_epochs"],
                        )
                    )
            if profiles:
                print("## 3. Where the time goes\n")
            for tag, key, t, wl, r, nb, fit_epochs, prof_epochs in profiles:
                set_threads(t)
                results[key]["profile"] = profile_workload(
                    tag, mlplab, *wl, prof_epochs, r, nb, fit_epochs
                )
        except Exception as exc:  # noqa: BLE001
            record_error("benchmark", exc)
        finally:
            if limiters:
                limiters[0].restore_original_limits()
    return finish(results, t_start, args.json, load_at_end="line")


if __name__ == "__main__":
    sys.exit(main())
