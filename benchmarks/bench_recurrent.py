#!/usr/bin/env python3
"""Recurrent-layer benchmark: one BPTT training step, mlplab side by side with PyTorch.

For each cell (Elman SimpleRNN, LSTM, GRU): one full training step -- forward through
T = 50 steps, MSE loss on a Dense(1) read-out of the last hidden state, backpropagation
through time, Adam update -- on a batch of 32 sequences of 16 features, 64 hidden units,
float32.  mlplab and PyTorch (torch.nn.RNN/LSTM/GRU + Linear + MSELoss + torch.optim.Adam)
run interleaved, at the machine's default thread count and at 1 thread; median ms per step
and the ratio mlplab / PyTorch (target <= 1.0).  A same-weights check copies mlplab's
weights into the torch modules (float64) and compares the loss and every gradient.  With
``--profile`` (and in a full run whenever a ratio misses the target) a section 3 says where
mlplab's step spends its time.

Usage:
    python benchmarks/bench_recurrent.py [--quick] [--json PATH] [--only rnn|lstm|gru]
        [--profile]

The exit status is 0 when every mlplab measurement ran, 1 otherwise.  The timing machinery
(thread settings, interleaved rounds) is bench_core's.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
import time

import numpy as np

from _common import (  # also exits when threadpoolctl is missing
    ERRORS,
    NOTES,
    base_parser,
    finish,
    freeze_gc,
    import_mlplab,
    md_table,
    median,
    record_error,
    start,
    summary,
    usable_cores,
)
from bench_core import (
    Threads,
    Variant,
    core_machine_facts,
    fmt,
    fmt_ratio,
    import_torch,
    print_facts,
    ratio,
    run_interleaved,
)

# ----------------------------------------------------------------------------------------
# configuration
# ----------------------------------------------------------------------------------------
# steps and warmup are multiples of fit_batches (the fit variant runs whole epochs)
# quick: 1 thread only (on a busy 2-core machine a 2-thread torch step can take seconds)
FULL = dict(
    rounds=15, steps=20, warmup=8, fit_batches=4, profile_steps=200, budget_s=None,
    default_threads=True,
)  # fmt: skip
QUICK = dict(
    rounds=3, steps=2, warmup=2, fit_batches=2, profile_steps=10, budget_s=20.0,
    default_threads=False,
)  # fmt: skip

CELLS = ("rnn", "lstm", "gru")
N_FEATURES, UNITS, STEPS, BATCH = 16, 64, 50, 32
LR = 1e-3
TARGET_RATIO = 1.0
DATA_SEED = 0
MLPLAB_LAYER = {"rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
TORCH_LAYER = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
NAMES = ("mlplab loss_and_grad + Adam.step", "mlplab fit (per step)", "PyTorch")


def check_mlplab(mlplab):
    mlplab.LSTM  # noqa: B018 - the recurrent layers may not be written yet


def data(n=BATCH, T=STEPS, F=N_FEATURES, dtype=np.float32, seed=DATA_SEED):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, T, F)).astype(dtype)
    y = rng.standard_normal((n, 1)).astype(dtype)
    return X, y


# ----------------------------------------------------------------------------------------
# the competitors
# ----------------------------------------------------------------------------------------
def mlplab_net(mlplab, cell, F=N_FEATURES, U=UNITS, dtype="float32", seed=0):
    layer = getattr(mlplab, MLPLAB_LAYER[cell])(U)
    return mlplab.Sequential([layer, mlplab.Dense(1)], n_inputs=F, seed=seed, dtype=dtype)


def mlplab_variants(mlplab, cell, cfg):
    X, y = data()
    out = []
    net = mlplab_net(mlplab, cell)
    opt = mlplab.optimizers.Adam(learning_rate=LR)
    theta, loss_and_grad, step = net.theta, net.loss_and_grad, opt.step

    def run_step(n):
        for _ in range(n):
            _loss, grad = loss_and_grad(X, y, loss="mse")
            step(theta, grad)

    out.append(Variant(NAMES[0], run_step))

    # the training loop: an epoch of fit_batches batches of 32 (no shuffling), per step;
    # fit limits BLAS to 1 thread for products this small (training.small_net_threads)
    nb = cfg["fit_batches"]
    Xf, yf = data(n=BATCH * nb, seed=DATA_SEED + 1)
    net2 = mlplab_net(mlplab, cell)
    opt2 = mlplab.optimizers.Adam(learning_rate=LR)

    def run_fit(n):
        epochs, rest = divmod(n, nb)
        assert epochs >= 1 and rest == 0, (n, nb)
        net2.fit(Xf, yf, loss="mse", optimizer=opt2, epochs=epochs, batch_size=BATCH,
                 shuffle=False, diagnostics=False)  # fmt: skip

    out.append(Variant(NAMES[1], run_fit))
    return out


def torch_model(torch, cell, F=N_FEATURES, U=UNITS, dtype=None):
    nn = torch.nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = getattr(nn, TORCH_LAYER[cell])(F, U, batch_first=True)
            self.out = nn.Linear(U, 1)

        def forward(self, x):
            h, _ = self.rnn(x)
            return self.out(h[:, -1])

    model = Model()
    return model.to(dtype) if dtype is not None else model


def torch_kernel(torch, cell):
    """The aten op that does the recurrence in one training step (profiled once, untimed)."""
    from torch.profiler import profile

    model = torch_model(torch, cell)
    X, y = (torch.from_numpy(a) for a in data(n=4, T=3))
    with profile() as prof:
        torch.nn.MSELoss()(model(X), y).backward()
    names = {e.key for e in prof.key_averages()}
    fused = sorted(k for k in names if "rnn" in k.lower() or "lstm" in k.lower() or "gru" in k)
    return ", ".join(fused) or "?"


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def blas_context(facts, torch):
    """Notes on the kernels each side runs (the ratio is partly a BLAS comparison)."""
    avx512 = "avx512f" in cpu_flags()
    facts["cpu_avx512f"] = avx512
    if torch is not None:
        try:
            facts["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
        except Exception:  # noqa: BLE001
            pass
    archs = {lib["architecture"] for lib in facts["blas"] if lib["internal_api"] == "openblas"}
    avx2_only = {"Haswell", "Zen", "SandyBridge", "Nehalem", "Prescott"}
    if avx512 and archs and archs <= avx2_only:
        NOTES.append(
            f"the CPU has AVX-512 but numpy's OpenBLAS runs its {'/'.join(sorted(archs))} (AVX2) "
            f"kernels, while torch uses {facts.get('torch_cpu_capability', '?')}: on a Zen 5 "
            "EPYC, OPENBLAS_CORETYPE=SkylakeX (set before numpy is imported) measured 185-210 "
            "instead of ~93 GFLOP/s for this benchmark's sgemm shapes"
        )


def torch_variant(torch, cell):
    torch.manual_seed(0)
    model = torch_model(torch, cell)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    crit = torch.nn.MSELoss()
    Xn, yn = data()
    X, y = torch.from_numpy(Xn), torch.from_numpy(yn)
    zero_grad, step = opt.zero_grad, opt.step

    def run(n):
        for _ in range(n):
            zero_grad(set_to_none=True)
            loss = crit(model(X), y)
            loss.backward()
            step()

    return Variant("PyTorch", run)


# ----------------------------------------------------------------------------------------
# same weights, same loss and gradients (float64)
# ----------------------------------------------------------------------------------------
def equivalence(mlplab, torch, cell, n=4, T=7, F=3, U=5):
    """docs/recurrent.md's mapping: W = weight_ih.T, W_h = weight_hh.T, b = b_ih + b_hh
    (GRU: b = b_ih, b_h = b_hh). Returns the loss difference and the largest gradient one."""
    X, y = data(n, T, F, np.float64, seed=3)
    net = mlplab_net(mlplab, cell, F, U, "float64", seed=1)
    p = dict(net.named_parameters())
    loss_m, grad = net.loss_and_grad(X, y, loss="mse")
    g = dict(net.named_gradients())
    model = torch_model(torch, cell, F, U, torch.float64)
    rnn, lin = model.rnn, model.out
    t = torch.from_numpy
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(t(p["0.W"].T.copy()))
        rnn.weight_hh_l0.copy_(t(p["0.W_h"].T.copy()))
        if cell == "gru":
            rnn.bias_ih_l0.copy_(t(p["0.b"].copy()))
            rnn.bias_hh_l0.copy_(t(p["0.b_h"].copy()))
        else:
            rnn.bias_ih_l0.copy_(t(p["0.b"].copy()))
            rnn.bias_hh_l0.zero_()
        lin.weight.copy_(t(p["1.W"].T.copy()))
        lin.bias.copy_(t(p["1.b"].copy()))
    loss_t = torch.nn.MSELoss()(model(t(X)), t(y))
    loss_t.backward()
    pairs = [
        ("0.W", rnn.weight_ih_l0.grad.numpy().T),
        ("0.W_h", rnn.weight_hh_l0.grad.numpy().T),
        ("1.W", lin.weight.grad.numpy().T),
        ("1.b", lin.bias.grad.numpy()),
    ]
    if cell == "gru":
        pairs += [("0.b", rnn.bias_ih_l0.grad.numpy()), ("0.b_h", rnn.bias_hh_l0.grad.numpy())]
    else:  # b = b_ih + b_hh: both torch gradients equal dL/db
        pairs.append(("0.b", rnn.bias_ih_l0.grad.numpy()))
    diffs = {name: float(np.max(np.abs(g[name] - tg))) for name, tg in pairs}
    return {
        "mlplab_loss": float(loss_m),
        "torch_loss": float(loss_t.item()),
        "abs_loss_diff": abs(float(loss_m) - float(loss_t.item())),
        "max_abs_grad_diff": max(diffs.values()),
        "grad_diff_by_param": diffs,
        "max_abs_grad": float(np.max(np.abs(grad))),
    }


# ----------------------------------------------------------------------------------------
# 1. the training step
# ----------------------------------------------------------------------------------------
def bench_steps(cfg, mlplab, torch, threads, cells, results):
    default = usable_cores() or 1
    thread_rows = [default, 1] if default > 1 and cfg["default_threads"] else [1]
    print(f"## 1. Training step: T={STEPS}, batch {BATCH}, {N_FEATURES} features, "
          f"{UNITS} units, float32, Adam(lr={LR:g})")  # fmt: skip
    print(
        f"{cfg['rounds']} interleaved rounds x {cfg['steps']} steps per variant "
        f"(+{cfg['warmup']} warm-up steps); numpy BLAS (threadpoolctl) and torch "
        "(set_num_threads) set to the row's thread count before every block; median (p25-p75) "
        "of the per-block ms/step; paired = median over rounds of mlplab / PyTorch in the same "
        "round (neighbours in time share the machine's noise). `fit` limits BLAS to 1 thread "
        "for products this small, so its rows run single-threaded whatever the row says.\n"
    )
    out = {
        "shape": {"batch": BATCH, "T": STEPS, "features": N_FEATURES, "units": UNITS},
        "dtype": "float32",
        "rounds": cfg["rounds"],
        "steps_per_block": cfg["steps"],
        "cells": {},
    }
    rows = []
    for cell in cells:
        out["cells"][cell] = {}
        for nt in thread_rows:
            variants = []
            if mlplab is not None:
                try:
                    variants += mlplab_variants(mlplab, cell, cfg)
                except Exception as exc:  # noqa: BLE001
                    record_error(f"{cell}: building the mlplab net", exc)
            if torch is not None:
                variants.append(torch_variant(torch, cell))
            for v in variants:
                v.enter = lambda nt=nt: threads.set(blas=nt, torch_threads=nt)
            run_interleaved(
                variants,
                cfg["rounds"],
                cfg["steps"],
                cfg["warmup"],
                is_mlplab=lambda v: v.name.startswith("mlplab"),
            )
            by_name = {v.name: v for v in variants}
            tv = by_name.get("PyTorch")
            torch_med = median(tv.times_ns) / 1e6 if tv and tv.times_ns else float("nan")
            res = {}
            for name in NAMES:
                v = by_name.get(name)
                label = [MLPLAB_LAYER[cell], str(nt), name]
                if v is None or not v.times_ns:
                    why = "n/a"
                    if name == "PyTorch" and torch is None:
                        why = "torch not installed"
                    elif name.startswith("mlplab") and mlplab is None:
                        why = "mlplab not importable"
                    elif v is not None:
                        why = f"failed: {v.error}"
                    rows.append(label + [why, "", "", "", ""])
                    res[name] = {"status": why}
                    continue
                s = summary([t / 1e6 for t in v.times_ns])
                is_m = name.startswith("mlplab")
                r = ratio(s["median"], torch_med) if is_m else float("nan")
                paired = float("nan")
                if is_m and tv is not None and tv.times_ns:
                    paired = median([a / b for a, b in zip(v.times_ns, tv.times_ns, strict=False)])
                target = ""
                if is_m and np.isfinite(r):
                    target = ("met" if r <= TARGET_RATIO else "MISSED") + f" (≤ {TARGET_RATIO:g})"
                rows.append(
                    label
                    + [
                        fmt(s["median"], 3),
                        f"{fmt(s['p25'], 3)}–{fmt(s['p75'], 3)}",
                        fmt_ratio(r) if is_m else ("1.00x" if np.isfinite(torch_med) else ""),
                        fmt_ratio(paired) if is_m else "",
                        target,
                    ]
                )
                res[name] = {"ms_per_step": s, "ratio_to_torch": r, "paired_ratio": paired}
            out["cells"][cell][f"{nt}_threads"] = res
    header = ["cell", "threads", "implementation", "median ms/step", "p25–p75 ms", "vs PyTorch"]
    print(md_table(header + ["paired", "target"], rows))
    if torch is not None:
        kernels = {}
        for cell in cells:
            try:
                kernels[cell] = torch_kernel(torch, cell)
            except Exception as exc:  # noqa: BLE001
                kernels[cell] = f"? ({type(exc).__name__})"
        out["torch_kernels"] = kernels
        print(
            "\nPyTorch's recurrence ops (torch.profiler): "
            + "; ".join(f"{MLPLAB_LAYER[c]}: {k}" for c, k in kernels.items())
            + " (`mkldnn_rnn_layer` = oneDNN's fused kernel for the whole sequence; without it, "
            "torch's generic loop: aten mm/addmm and pointwise calls at every time step)."
        )
    print()
    results["steps"] = out
    return out


def missed(steps):
    return [
        (cell, key)
        for cell, by_threads in steps["cells"].items()
        for key, res in by_threads.items()
        if res.get(NAMES[0], {}).get("ratio_to_torch", 0) > TARGET_RATIO
    ]


# ----------------------------------------------------------------------------------------
# 2. same-weights check
# ----------------------------------------------------------------------------------------
def bench_equivalence(mlplab, torch, cells, results):
    print("## 2. Same weights, same loss and gradients (float64, n=4, T=7, F=3, U=5)\n")
    if mlplab is None or torch is None:
        print("needs both mlplab and torch.\n")
        return
    rows, out = [], {}
    for cell in cells:
        try:
            eq = equivalence(mlplab, torch, cell)
        except Exception as exc:  # noqa: BLE001
            record_error(f"{cell}: same-weights check", exc)
            continue
        out[cell] = eq
        ok = eq["abs_loss_diff"] <= 1e-12 and eq["max_abs_grad_diff"] <= 1e-10
        if not ok:
            ERRORS.append(f"{cell}: mlplab and torch disagree on the same weights: {eq}")
        rows.append(
            [
                MLPLAB_LAYER[cell],
                f"{eq['mlplab_loss']:.12g}",
                f"{eq['torch_loss']:.12g}",
                f"{eq['max_abs_grad_diff']:.1e} (largest |grad| {eq['max_abs_grad']:.2g})",
                "match" if ok else "DIFFER",
            ]
        )
    print(md_table(["cell", "mlplab loss", "torch loss", "max |Δ grad|", "verdict"], rows))
    print()
    results["equivalence"] = out


# ----------------------------------------------------------------------------------------
# 3. where the time goes
# ----------------------------------------------------------------------------------------
def _time(fn, reps):
    best = []
    for _ in range(5):
        t0 = time.perf_counter_ns()
        for _ in range(reps):
            fn()
        best.append((time.perf_counter_ns() - t0) / reps / 1e3)
    return float(np.median(best))  # µs per call


def profile_cell(mlplab, cell, cfg, threads, nt):
    """Phase timings (no profiler) and a cProfile of the public step, µs per step.

    Only the layer API (forward/backward) is timed, so the section keeps working while
    the cells' internals change; the cProfile names whatever functions they are now.
    The phases run on a scratch network, the whole step and the cProfile on fresh ones.
    """
    threads.set(blas=nt, torch_threads=nt)
    X, y = data()
    reps = max(2, cfg["profile_steps"] // 10)
    T, n, U = STEPS, BATCH, UNITS

    def public_step(net, opt):
        def step():
            _l, g = net.loss_and_grad(X, y, loss="mse")
            opt.step(net.theta, g)

        return step

    net = mlplab_net(mlplab, cell)
    step = public_step(net, mlplab.optimizers.Adam(learning_rate=LR))
    step()
    whole = _time(step, reps)

    scratch = mlplab_net(mlplab, cell)
    rnn, dense = scratch.layers
    loss = mlplab.get_loss("mse")
    W, W_h = (dict(scratch.named_parameters())[k] for k in ("0.W", "0.W_h"))
    G = W_h.shape[1]
    h = np.zeros((n, U), np.float32)
    dz = np.zeros((n, G), np.float32)
    x_all = np.zeros((T * n, N_FEATURES), np.float32)
    dz_all = np.zeros((T * n, G), np.float32)
    h_all = np.zeros((T * n, U), np.float32)
    rnn.forward(X, True)
    da = np.ones((n, U), np.float32) / n
    adam = mlplab.optimizers.Adam(learning_rate=LR)
    theta, grad = scratch.theta.copy(), np.full_like(scratch.theta, 1e-3)

    def head():
        dense.forward(rnn.a, True)
        dense.backward(loss.value_and_gradient(dense.a, y)[1], True)

    def fwd_bwd():
        rnn.forward(X, True)
        rnn.backward(da, need_dx=False)

    t_fwd = _time(lambda: rnn.forward(X, True), reps)
    t_fb = _time(fwd_bwd, reps)
    # the same floating-point work as sgemm calls alone (what BLAS needs at the least)
    # each product in both layouts, batch-major (n, U) and unit-major (U, n) as the unroll
    # keeps its steps; the faster is the floor
    W_hT, h_t, dz_t = np.ascontiguousarray(W_h.T), h.T.copy(), dz.T.copy()
    dz_side, xh_side = dz_all.T.copy(), np.zeros((N_FEATURES + U + 1, T * n), np.float32)
    f_proj = _time(lambda: np.dot(x_all, W), reps)
    f_rec = T * min(
        _time(lambda: np.dot(h, W_h), reps * T), _time(lambda: np.dot(W_hT, h_t), reps * T)
    )
    f_rec_b = T * min(
        _time(lambda: np.dot(dz, W_h.T), reps * T), _time(lambda: np.dot(W_h, dz_t), reps * T)
    )
    f_wgrad = min(
        _time(lambda: (np.dot(h_all.T, dz_all), np.dot(x_all.T, dz_all)), reps),
        _time(lambda: np.dot(dz_side, xh_side.T), reps),
    )
    phases = {
        "whole step (loss_and_grad + Adam.step)": whole,
        "  check_X + prepare_targets (input validation)": _time(
            lambda: scratch.prepare(X, y, "mse", None), reps
        ),
        "  recurrent layer forward (all T steps)": t_fwd,
        "  recurrent layer backward (BPTT + weight gradients)": t_fb - t_fwd,
        "  Dense(1) forward + MSE + Dense backward": _time(head, reps),
        "  Adam.step on theta": _time(lambda: adam.step(theta, grad), reps),
        "sgemm floor, forward: X W (one call, T n rows)": f_proj,
        "sgemm floor, forward: h W_h, T calls (n x U x G, either layout)": f_rec,
        "sgemm floor, backward: dz W_h^T, T calls (either layout)": f_rec_b,
        "sgemm floor, backward: H^T dZ and X^T dZ (T n rows, either layout)": f_wgrad,
        "sgemm floor, total": f_proj + f_rec + f_rec_b + f_wgrad,
        "  => everything else (elementwise gate math, Python, copies)": whole
        - (f_proj + f_rec + f_rec_b + f_wgrad),
    }
    # cProfile of the public step on a fresh network: own time per function
    step = public_step(mlplab_net(mlplab, cell), mlplab.optimizers.Adam(learning_rate=LR))
    step()
    pr = cProfile.Profile()
    ns = cfg["profile_steps"]
    pr.enable()
    for _ in range(ns):
        step()
    pr.disable()
    st = pstats.Stats(pr, stream=io.StringIO())
    top = []
    for (fname, line, func), (_cc, nc, tt, ct, _callers) in sorted(
        st.stats.items(), key=lambda kv: -kv[1][2]
    )[:15]:
        where = f"{fname.rsplit('/', 1)[-1]}:{line}({func})" if line else func
        top.append({"function": where, "calls_per_step": nc / ns, "own_us_per_step": tt / ns * 1e6,
                    "cum_us_per_step": ct / ns * 1e6})  # fmt: skip
    return phases, top


def bench_profile(mlplab, torch, cfg, threads, cells, results, steps):
    print("## 3. Where mlplab's step spends its time\n")
    default = usable_cores() or 1
    out = {}
    for cell in cells:
        nt = 1
        phases, top = profile_cell(mlplab, cell, cfg, threads, nt)
        torch_ms = (
            steps["cells"][cell].get(f"{nt}_threads", {}).get("PyTorch", {}).get("ms_per_step", {})
        )
        torch_ms = torch_ms.get("median", float("nan")) if isinstance(torch_ms, dict) else None
        print(
            f"### {MLPLAB_LAYER[cell]} ({nt} BLAS thread; timeit-style medians, no profiler; "
            f"PyTorch's whole step at {nt} thread in section 1: {fmt(torch_ms, 3)} ms)\n"
        )
        whole = phases["whole step (loss_and_grad + Adam.step)"]
        print(
            md_table(
                ["phase", "µs per step", "share of the step"],
                [[k, fmt(v, 1), f"{100 * v / whole:.0f} %"] for k, v in phases.items()],
            )
        )
        print(f"\ncProfile of {cfg['profile_steps']} steps, top functions by own time:\n")
        print(
            md_table(
                ["function", "calls/step", "own µs/step", "cum µs/step"],
                [
                    [
                        f"`{r['function']}`",
                        f"{r['calls_per_step']:.0f}",
                        fmt(r["own_us_per_step"], 1),
                        fmt(r["cum_us_per_step"], 1),
                    ]
                    for r in top
                ],
            )  # fmt: skip
        )
        print()
        out[cell] = {"threads": nt, "phases_us": phases, "cprofile_top": top}
    if default > 1:
        NOTES.append("section 3 profiles at 1 BLAS thread (the training loop's setting)")
    results["profile"] = out


# ----------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------
def main(argv=None):
    ap = base_parser(__doc__, 30, CELLS, "run one cell only")
    ap.add_argument("--profile", action="store_true", help="always print section 3")
    args = ap.parse_args(argv)
    t_start, cfg = start(args.quick, QUICK, FULL)
    mlplab, mlplab_err = import_mlplab(check_mlplab)
    torch, torch_err = import_torch()
    if mlplab is None:
        ERRORS.append(f"mlplab not importable: {mlplab_err}")
    threads = Threads(torch)
    facts = core_machine_facts(mlplab, mlplab_err, torch, torch_err)
    blas_context(facts, torch)
    freeze_gc()
    print(f"# mlplab recurrent benchmark{' (--quick)' if args.quick else ''}\n")
    print_facts(facts)
    if mlplab is None:
        print(f"**mlplab not importable** ({mlplab_err}): its columns are empty.\n")
    if torch is None:
        print(f"**torch not installed** ({torch_err}): its columns are empty.\n")
    cells = [args.only] if args.only else list(CELLS)
    results = {"machine": facts, "quick": args.quick, "config": cfg}
    try:
        steps = bench_steps(cfg, mlplab, torch, threads, cells, results)
        bench_equivalence(mlplab, torch, cells, results)
        late = missed(steps) and not args.quick
        if mlplab is not None and (args.profile or late):
            try:
                bench_profile(mlplab, torch, cfg, threads, cells, results, steps)
            except Exception as exc:  # noqa: BLE001
                record_error("profile", exc)
    finally:
        threads.restore()
    return finish(results, t_start, args.json, load_at_end="wall")


if __name__ == "__main__":
    sys.exit(main())
