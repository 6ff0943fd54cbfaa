#!/usr/bin/env python3
"""Core speed benchmark: mlplab side by side with PyTorch, in one run.

Two measurements (see benchmarks/README.md for the full description):

1. tiny step  -- one training step (forward, MSE loss, backward, optimizer update) of a
   2-2-1 network (logistic hidden, identity output) on the 4 XOR samples, float64, with
   SGD(lr=0.1) and Adam(lr=0.01).  Median microseconds per step.
2. epoch      -- one epoch of a 784-256-256-10 ReLU net, categorical cross-entropy on
   logits, Adam(lr=1e-3), batch 128, 20 000 random float32 samples.  Median seconds per
   epoch for mlplab and PyTorch, the GEMM lower bound (6*N*P / measured sgemm FLOP/s) and
   the peak memory of an mlplab epoch (tracemalloc, in a subprocess).

Competitors are run interleaved (round robin, the order rotated every round) so that the
noise of a shared machine hits all of them alike; medians are quoted.

Usage:
    python benchmarks/bench_core.py [--quick] [--json PATH] [--only tiny|epoch]

The exit status is 0 when every mlplab measurement ran, 1 otherwise (for example while
mlplab does not import), so a smoke test can call ``--quick`` and check the status.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
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
    print_blas,
    print_facts_head,
    record_error,
    start,
    summary,
    threadpool_info,
)

# ----------------------------------------------------------------------------------------
# configuration
# ----------------------------------------------------------------------------------------
FULL = dict(
    tiny_blocks=20,  # timed blocks per variant (interleaved)
    tiny_steps=2000,  # steps per block
    tiny_warmup=500,  # untimed warm-up steps per variant
    epoch_n=20_000,  # samples
    epoch_measured=7,  # timed epochs per variant (after 1 warm-up epoch)
    gemm_rounds=15,  # per-shape sgemm micro-benchmark: rounds x reps
    gemm_reps=50,
    budget_s=None,  # no time budget: every round runs
    epoch_extra_rounds=8,  # if the 2-thread rows were disturbed: up to this many more rounds
    epoch_extra_s=90.0,  # ... within this many seconds
)
QUICK = dict(  # a smoke test: the figures are indicative only
    tiny_blocks=5,
    tiny_steps=300,
    tiny_warmup=100,
    epoch_n=6_400,  # 50 batches
    epoch_measured=2,
    gemm_rounds=2,
    gemm_reps=10,
    budget_s=20.0,  # past this (from the start), remaining timed rounds are cut (>= 1 kept)
    epoch_extra_rounds=0,
    epoch_extra_s=0.0,
)

EPOCH_DIMS = (784, 256, 256, 10)
EPOCH_BATCH = 128
EPOCH_LR = 1e-3
EPOCH_THREADS = (2, 1)  # 2 = what the engine uses by default, 1 for reference
TINY_OPTS = {"sgd": ("SGD", 0.1), "adam": ("Adam", 0.01)}
TINY_TARGET_US = 10.0
TINY_TORCH_EARLIER_US = 220.0
EPOCH_TARGET_RATIO = 1.25
MEMORY_FACTOR = 1.5
DATA_SEED = 0


# ----------------------------------------------------------------------------------------
# imports of the competitors
# ----------------------------------------------------------------------------------------
def check_mlplab(mlplab):
    mlplab.Sequential  # noqa: B018 - the engine may be half written


def import_torch():
    try:
        import torch  # noqa: F401

        return torch, None
    except Exception as exc:  # noqa: BLE001
        return None, f"{type(exc).__name__}: {exc}"


# ----------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------


def fmt(x, nd=2):
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "n/a"
    return f"{x:.{nd}f}"


def fmt_ratio(x):
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.2f}x"


def fmt_bytes(n):
    return f"{n / 2**20:.1f} MiB"


def ratio(a, b):
    try:
        return float(a) / float(b) if b and np.isfinite(a) and np.isfinite(b) else float("nan")
    except (TypeError, ZeroDivisionError):
        return float("nan")


class Threads:
    """Explicit thread settings: numpy's BLAS through threadpoolctl, torch through its API."""

    def __init__(self, torch=None):
        self.torch = torch
        self.controller = ThreadpoolController()  # after numpy/torch/mlplab are imported
        self._orig = self.controller.info()

    def set(self, blas=None, torch_threads=None):
        if blas is not None:
            # applies immediately; restore() puts back the original limits
            self.controller.limit(limits=blas, user_api="blas")
        if torch_threads is not None and self.torch is not None:
            self.torch.set_num_threads(torch_threads)

    def blas_now(self):
        return sorted(
            {lib["num_threads"] for lib in self.controller.info() if lib["user_api"] == "blas"}
        )

    def restore(self):
        for lib in self._orig:
            if lib["user_api"] == "blas":
                self.controller.select(filepath=lib["filepath"]).limit(limits=lib["num_threads"])


class Variant:
    """One competitor: ``run(n)`` does n units of work; ``enter()`` runs untimed before."""

    def __init__(self, name, run, enter=None):
        self.name, self.run, self.enter = name, run, enter
        self.times_ns: list[float] = []  # per unit
        self.error: str | None = None


def run_interleaved(variants, rounds, n_per_block, warmup, is_mlplab=lambda v: False, offset=0):
    """Round-robin timing; the order is rotated each round.  Per-unit ns are stored.

    Past DEADLINE (set by --quick) no further round starts, but at least one is run.
    """
    for v in variants if warmup else ():
        try:
            if v.enter:
                v.enter()
            v.run(warmup)
        except Exception as exc:  # noqa: BLE001
            v.error = f"{type(exc).__name__}: {exc}"
            if is_mlplab(v):
                record_error(f"{v.name} (warm-up)", exc)
            else:
                NOTES.append(f"{v.name} failed: {v.error}")
    live = [v for v in variants if v.error is None]
    for r in range(rounds):
        if r >= 1 and DEADLINE[0] is not None and time.perf_counter() > DEADLINE[0]:
            note = (
                "--quick time budget reached: some tables have fewer timed rounds than configured"
            )
            if note not in NOTES:
                NOTES.append(note)
            break
        k = (r + offset) % max(1, len(live))
        for v in live[k:] + live[:k]:
            if v.error is not None:
                continue
            if v.enter:
                v.enter()
            gc.collect()
            gc.disable()
            try:
                t0 = time.perf_counter_ns()
                v.run(n_per_block)
                t1 = time.perf_counter_ns()
            except Exception as exc:  # noqa: BLE001
                v.error = f"{type(exc).__name__}: {exc}"
                if is_mlplab(v):
                    record_error(v.name, exc)
                continue
            finally:
                gc.enable()
            v.times_ns.append((t1 - t0) / n_per_block)


# ----------------------------------------------------------------------------------------
# machine facts
# ----------------------------------------------------------------------------------------
def core_machine_facts(mlplab, mlplab_err, torch, torch_err):
    facts = machine_facts(
        mlplab,
        f"not importable ({mlplab_err})",
        [("torch", torch.__version__ if torch else f"not installed ({torch_err})")],
    )
    facts["openmp"] = [
        {k: lib.get(k) for k in ("prefix", "num_threads", "filepath")}
        for lib in threadpool_info()
        if lib["user_api"] == "openmp"
    ]
    if torch is not None:
        facts["torch_default_threads"] = torch.get_num_threads()
        try:
            facts["torch_blas"] = "MKL" if torch.backends.mkl.is_available() else "no MKL"
        except Exception:  # noqa: BLE001
            pass
    return facts


def print_facts(f):
    print_facts_head(f, f"numpy {f['numpy']}, torch {f['torch']}")
    print_blas(f["blas"])
    if "torch_default_threads" in f:
        print(
            f"- torch: {f.get('torch_blas', '?')}, "
            f"{f['torch_default_threads']} intra-op threads by default"
        )
    print()


# ----------------------------------------------------------------------------------------
# 1. tiny step
# ----------------------------------------------------------------------------------------
def xor_data():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=np.float64)
    y = np.array([[0.0], [1.0], [1.0], [0.0]], dtype=np.float64)
    return X, y


def mlplab_tiny_net(mlplab):
    return mlplab.Sequential(
        [mlplab.Dense(2, activation="logistic"), mlplab.Dense(1, activation="identity")],
        n_inputs=2,
        init="glorot_uniform",
        seed=0,
        dtype="float64",
    )


def mlplab_optimizer(mlplab, cls_name, lr):
    return getattr(mlplab.optimizers, cls_name)(learning_rate=lr)


def mlplab_tiny_variants(mlplab, opt_key):
    cls_name, lr = TINY_OPTS[opt_key]
    X, y = xor_data()
    out = []

    # (a) the public two-call API: loss_and_grad + optimizer.step
    net = mlplab_tiny_net(mlplab)
    opt = mlplab_optimizer(mlplab, cls_name, lr)
    theta = net.theta  # a persistent view: hoisted like torch's parameter list
    loss_and_grad, step = net.loss_and_grad, opt.step

    def run_manual(n):
        for _ in range(n):
            _loss, grad = loss_and_grad(X, y, loss="mse")
            step(theta, grad)

    out.append(Variant("mlplab loss_and_grad + opt.step", run_manual))

    # (b) the training loop itself: fit() runs n steps (one full batch per epoch,
    # no shuffling), so the per-step figure includes the loop's own bookkeeping
    # (NaN guard, gradient norm, history) but validates the data once per call.
    net2 = mlplab_tiny_net(mlplab)
    opt2 = mlplab_optimizer(mlplab, cls_name, lr)

    def run_fit(n):
        net2.fit(X, y, loss="mse", optimizer=opt2, epochs=n, batch_size=None, shuffle=False)

    out.append(Variant("mlplab fit (per step)", run_fit))
    return out


def torch_tiny_variant(torch, opt_key):
    nn = torch.nn
    cls_name, lr = TINY_OPTS[opt_key]
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1)).to(torch.float64)
    opt = getattr(torch.optim, cls_name)(model.parameters(), lr=lr)
    crit = nn.MSELoss()
    Xn, yn = xor_data()
    X, y = torch.from_numpy(Xn), torch.from_numpy(yn)
    zero_grad, step = opt.zero_grad, opt.step

    def run(n):
        for _ in range(n):
            zero_grad(set_to_none=True)
            loss = crit(model(X), y)
            loss.backward()
            step()

    return Variant("PyTorch", run)


def tiny_equivalence(mlplab, torch):
    """Same weights in both: compare the loss and the gradient (sanity check, best effort)."""
    nn = torch.nn
    X, y = xor_data()
    net = mlplab_tiny_net(mlplab)
    params = dict(net.named_parameters())
    loss_m, grad_m = net.loss_and_grad(X, y, loss="mse")
    grad_m = np.array(grad_m, copy=True)
    lin = [nn.Linear(2, 2).double(), nn.Linear(2, 1).double()]
    model = nn.Sequential(lin[0], nn.Sigmoid(), lin[1])
    w_names = [k for k in params if k.endswith(".W") or k.endswith(".weight")]
    b_names = [k for k in params if k.endswith(".b") or k.endswith(".bias")]
    # orientation from the non-square last layer: (n_in, n_out) means x @ W
    in_out = params[w_names[-1]].shape == (2, 1)
    with torch.no_grad():
        for layer, wn, bn in zip(lin, w_names, b_names, strict=True):
            w = params[wn]
            layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(w.T if in_out else w)))
            layer.bias.copy_(torch.from_numpy(np.asarray(params[bn]).reshape(-1)))
    loss_tensor = nn.MSELoss()(model(torch.from_numpy(X)), torch.from_numpy(y))
    loss_tensor.backward()
    loss_t = loss_tensor.item()
    # map torch grads to mlplab's flat layout through named_parameters' offsets
    grad_t = np.zeros_like(grad_m)
    theta_addr = net.theta.__array_interface__["data"][0]
    item = net.theta.itemsize
    for layer, wn, bn in zip(lin, w_names, b_names, strict=True):
        for name, g in ((wn, layer.weight.grad.numpy()), (bn, layer.bias.grad.numpy())):
            p = params[name]
            off = (p.__array_interface__["data"][0] - theta_addr) // item
            g = g.T if (name == wn and in_out) else g
            grad_t[off : off + p.size] = np.asarray(g).reshape(p.shape).ravel()
    scale = float(loss_m) / float(loss_t)
    gdiff = float(np.max(np.abs(grad_m - grad_t * scale)))
    return {
        "mlplab_loss": float(loss_m),
        "torch_loss": float(loss_t),
        "loss_ratio": scale,
        "max_abs_grad_diff_after_scaling": gdiff,
        "layout": "x @ W (n_in, n_out)" if in_out else "W @ x",
    }


def bench_tiny(cfg, mlplab, torch, threads, results):
    print("## 1. Tiny step: 2-2-1 net on XOR, float64, one full training step")
    threads.set(blas=1, torch_threads=1)
    print(
        f"Threads: numpy BLAS {threads.blas_now()} (threadpoolctl), torch "
        f"{torch.get_num_threads() if torch else 'n/a'}. "
        f"{cfg['tiny_blocks']} interleaved blocks x {cfg['tiny_steps']} steps per variant "
        f"(+{cfg['tiny_warmup']} warm-up steps), gc disabled inside blocks; "
        "median (p25-p75) of the per-block µs/step.\n"
    )
    out = {
        "blocks": cfg["tiny_blocks"],
        "steps_per_block": cfg["tiny_steps"],
        "threads": {"numpy_blas": 1, "torch": 1},
        "variants": {},
    }
    rows = []
    for key, (cls_name, lr) in TINY_OPTS.items():
        variants = []
        if mlplab is not None:
            try:
                variants += mlplab_tiny_variants(mlplab, key)
            except Exception as exc:  # noqa: BLE001
                record_error(f"tiny/{key}: building the mlplab net", exc)
        if torch is not None:
            variants.append(torch_tiny_variant(torch, key))
        run_interleaved(
            variants,
            cfg["tiny_blocks"],
            cfg["tiny_steps"],
            cfg["tiny_warmup"],
            is_mlplab=lambda v: v.name.startswith("mlplab"),
        )
        by_name = {v.name: v for v in variants}
        t_torch = by_name.get("PyTorch")
        torch_med = median(t_torch.times_ns) / 1e3 if t_torch and t_torch.times_ns else float("nan")
        res = {}
        names = ["mlplab loss_and_grad + opt.step", "mlplab fit (per step)", "PyTorch"]
        for name in names:
            v = by_name.get(name)
            label = f"{cls_name}(lr={lr})"
            if v is None or not v.times_ns:
                if name == "PyTorch" and torch is None:
                    why = "torch not installed"
                elif name.startswith("mlplab") and mlplab is None:
                    why = "mlplab not importable"
                else:
                    why = f"failed: {v.error}" if v is not None else "n/a"
                rows.append([label, name, why, "", "", ""])
                res[name] = {"status": why}
                continue
            s = summary([t / 1e3 for t in v.times_ns])
            r = ratio(s["median"], torch_med) if name != "PyTorch" else float("nan")
            target = (
                ("met" if s["median"] <= TINY_TARGET_US else "MISSED") + f" (≤ {TINY_TARGET_US:g})"
                if name.startswith("mlplab")
                else f"earlier ≈ {TINY_TORCH_EARLIER_US:g}"
            )
            rows.append(
                [
                    label,
                    name,
                    fmt(s["median"]),
                    f"{fmt(s['p25'])}–{fmt(s['p75'])}",
                    fmt_ratio(r)
                    if name != "PyTorch"
                    else ("1.00x" if np.isfinite(torch_med) else ""),
                    target,
                ]
            )
            res[name] = {"us_per_step": s, "ratio_to_torch": r}
        out["variants"][key] = res
    print(
        md_table(
            [
                "optimizer",
                "implementation",
                "median µs/step",
                "p25–p75 µs",
                "vs PyTorch",
                "target µs/step",
            ],
            rows,
        )
    )
    if mlplab is not None and torch is not None:
        try:
            eq = tiny_equivalence(mlplab, torch)
            out["equivalence"] = eq
            msg = (
                f"\nSame-weights check: mlplab loss {eq['mlplab_loss']:.6g} vs torch MSELoss "
                f"{eq['torch_loss']:.6g} (ratio {eq['loss_ratio']:.3g}); max |grad diff| after "
                f"scaling {eq['max_abs_grad_diff_after_scaling']:.2e}; "
                f"weight layout {eq['layout']}."
            )
            print(msg)
        except Exception as exc:  # noqa: BLE001
            out["equivalence"] = {"error": f"{type(exc).__name__}: {exc}"}
            print(f"\nSame-weights check skipped ({type(exc).__name__}: {exc}).")
    print()
    results["tiny"] = out


# ----------------------------------------------------------------------------------------
# 2. MNIST-like epoch
# ----------------------------------------------------------------------------------------
def epoch_data(n):
    rng = np.random.default_rng(DATA_SEED)
    X = rng.random((n, EPOCH_DIMS[0]), dtype=np.float32)  # pixel-like values in [0, 1)
    y = rng.integers(0, EPOCH_DIMS[-1], size=n).astype(np.int64)
    return X, y


def n_params(dims=EPOCH_DIMS):
    return sum(a * b + b for a, b in zip(dims[:-1], dims[1:], strict=True))


def mlplab_epoch_net(mlplab, seed=0):
    layers = [mlplab.Dense(d, activation="relu") for d in EPOCH_DIMS[1:-1]]
    layers.append(mlplab.Dense(EPOCH_DIMS[-1], activation="identity"))
    return mlplab.Sequential(
        layers, n_inputs=EPOCH_DIMS[0], init="he_uniform", seed=seed, dtype="float32"
    )


def one_hot(y, k=EPOCH_DIMS[-1]):
    out = np.zeros((y.shape[0], k), dtype=np.float32)
    out[np.arange(y.shape[0]), y] = 1.0
    return out


def mlplab_fit_kwargs():
    return dict(
        loss="cce",
        optimizer="adam",
        learning_rate=EPOCH_LR,
        epochs=1,
        batch_size=EPOCH_BATCH,
        shuffle=True,
        verbose=0,
    )


def mlplab_epoch_labels(mlplab, X, y):
    """Integer labels if the engine takes them for 'cce', else one-hot float32."""
    net = mlplab_epoch_net(mlplab)
    kw = mlplab_fit_kwargs()
    try:
        net.fit(X[:256], y[:256], **kw)
        return y, "integer labels (int64)"
    except Exception as exc:  # noqa: BLE001
        yo = one_hot(y)
        net.fit(X[:256], yo[:256], **kw)
        NOTES.append(
            f"mlplab fit(loss='cce') rejected integer labels ({type(exc).__name__}: {exc}); "
            "one-hot float32 used"
        )
        return yo, "one-hot float32"


def mlplab_epoch_variant(mlplab, X, y, n_threads, threads):
    net = mlplab_epoch_net(mlplab)
    kw = mlplab_fit_kwargs()
    fit = net.fit

    def run(n):
        for _ in range(n):
            fit(X, y, **kw)

    return Variant(
        f"mlplab fit, {n_threads} BLAS thread{'s' * (n_threads > 1)}",
        run,
        enter=lambda: threads.set(blas=n_threads),
    )


def torch_epoch_variant(torch, X, y, n_threads, threads):
    nn = torch.nn
    torch.manual_seed(0)
    layers = []
    for a, b in zip(EPOCH_DIMS[:-2], EPOCH_DIMS[1:-1], strict=True):
        layers += [nn.Linear(a, b), nn.ReLU()]
    layers.append(nn.Linear(EPOCH_DIMS[-2], EPOCH_DIMS[-1]))
    model = nn.Sequential(*layers)  # float32
    opt = torch.optim.Adam(model.parameters(), lr=EPOCH_LR)
    crit = nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    n, B = X.shape[0], EPOCH_BATCH
    gen = torch.Generator().manual_seed(DATA_SEED)
    zero_grad, step = opt.zero_grad, opt.step

    def run(k):
        for _ in range(k):
            perm = torch.randperm(n, generator=gen)
            for i in range(0, n, B):
                idx = perm[i : i + B]
                xb, yb = Xt[idx], yt[idx]
                zero_grad(set_to_none=True)
                loss = crit(model(xb), yb)
                loss.backward()
                step()

    return Variant(
        f"PyTorch, {n_threads} thread{'s' * (n_threads > 1)}",
        run,
        enter=lambda: threads.set(torch_threads=n_threads),
    )


class GemmMix:
    """Exactly the float32 GEMMs of one training epoch, into preallocated outputs.

    Per batch of b rows and per layer (n_in -> n_out):
      forward  z  = a @ W            (b x n_in) @ (n_in x n_out)
      dW          = a.T @ dz         (n_in x b) @ (b x n_out)
      da          = dz @ W.T         (b x n_out) @ (n_out x n_in)   [first layer too: 6NP mix]
    2*b*n_in*n_out FLOPs each, i.e. 6*N*P_weights FLOPs per epoch.
    """

    def __init__(self, n, batch, dims=EPOCH_DIMS, seed=1):
        rng = np.random.default_rng(seed)
        self.n, self.batch, self.dims = n, batch, dims
        self.n_full, self.rem = divmod(n, batch)
        self.bufs = {b: self._alloc(b, rng) for b in {batch, self.rem} if b}
        self.flops = 6 * n * sum(a * b for a, b in zip(dims[:-1], dims[1:], strict=True))

    def _alloc(self, b, rng):
        d = self.dims
        L = len(d) - 1
        f32 = np.float32
        return {
            "a": [rng.random((b, d[i]), dtype=f32) for i in range(L)],
            "W": [rng.random((d[i], d[i + 1]), dtype=f32) - f32(0.5) for i in range(L)],
            "dz": [rng.random((b, d[i + 1]), dtype=f32) for i in range(L)],
            "z": [np.empty((b, d[i + 1]), f32) for i in range(L)],
            "dW": [np.empty((d[i], d[i + 1]), f32) for i in range(L)],
            "da": [np.empty((b, d[i]), f32) for i in range(L)],
        }

    @staticmethod
    def _batch(buf):
        mm = np.matmul
        a, W, dz, z, dW, da = buf["a"], buf["W"], buf["dz"], buf["z"], buf["dW"], buf["da"]
        for i in range(len(W)):
            mm(a[i], W[i], out=z[i])
        for i in reversed(range(len(W))):
            mm(a[i].T, dz[i], out=dW[i])
            mm(dz[i], W[i].T, out=da[i])

    def run(self, k):
        full = self.bufs[self.batch]
        for _ in range(k):
            for _ in range(self.n_full):
                self._batch(full)
            if self.rem:
                self._batch(self.bufs[self.rem])

    def shapes(self):
        """(label, callable, flops) for each distinct GEMM of a full batch."""
        buf, out = self.bufs[self.batch], []
        b, d = self.batch, self.dims
        for i in range(len(d) - 1):
            a, W, dz = buf["a"][i], buf["W"][i], buf["dz"][i]
            z, dW, da = buf["z"][i], buf["dW"][i], buf["da"][i]
            fl = 2 * b * d[i] * d[i + 1]
            out.append(
                (
                    f"L{i + 1} fwd   ({b}x{d[i]}) @ ({d[i]}x{d[i + 1]})",
                    lambda a=a, W=W, z=z: np.matmul(a, W, out=z),
                    fl,
                )
            )
            out.append(
                (
                    f"L{i + 1} dW    ({d[i]}x{b})ᵀ @ ({b}x{d[i + 1]})",
                    lambda a=a, dz=dz, dW=dW: np.matmul(a.T, dz, out=dW),
                    fl,
                )
            )
            out.append(
                (
                    f"L{i + 1} dx    ({b}x{d[i + 1]}) @ ({d[i + 1]}x{d[i]})ᵀ",
                    lambda dz=dz, W=W, da=da: np.matmul(dz, W.T, out=da),
                    fl,
                )
            )
        return out


def bench_gemm_shapes(cfg, mix, threads):
    """Per-shape sgemm FLOP/s at each thread count (interleaved)."""
    variants = []
    meta = {}
    for label, fn, fl in mix.shapes():
        for t in EPOCH_THREADS:

            def run(n, fn=fn):
                for _ in range(n):
                    fn()

            def enter(t=t, fn=fn):  # untimed: switch threads, then wake the BLAS pool up
                threads.set(blas=t)
                for _ in range(3):
                    fn()

            v = Variant(f"{label} @{t}", run, enter=enter)
            meta[v.name] = (label, t, fl)
            variants.append(v)
    run_interleaved(variants, cfg["gemm_rounds"], cfg["gemm_reps"], cfg["gemm_reps"])
    table = {}
    for v in variants:
        label, t, fl = meta[v.name]
        us = median(v.times_ns) / 1e3
        table.setdefault(label, {"flops": fl})[f"{t}_threads"] = {"us": us, "gflops": fl / us / 1e3}
    return table


def mlplab_memory_child(cfg_json):
    """Runs in a fresh interpreter: one mlplab epoch under tracemalloc; prints JSON."""
    import tracemalloc

    def proc_status(key):  # kB -> bytes; VmHWM is reset by exec, unlike ru_maxrss
        try:
            with open("/proc/self/status") as fh:
                for line in fh:
                    if line.startswith(key + ":"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return None

    cfg = json.loads(cfg_json)
    mlplab, err = import_mlplab(check_mlplab)
    if mlplab is None:
        print(json.dumps({"error": err}))
        return
    threads = Threads()
    threads.set(blas=cfg["threads"])
    tracemalloc.start()  # after the imports: only the data and the epoch are traced
    X, y = epoch_data(cfg["n"])
    if cfg["labels"] == "one-hot float32":
        y = one_hot(y)
    data_bytes = X.nbytes + y.nbytes
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]  # data + whatever the import left
    rss_before = proc_status("VmRSS")
    net = mlplab_epoch_net(mlplab)
    net.fit(X, y, **mlplab_fit_kwargs())
    cur, peak = tracemalloc.get_traced_memory()
    print(
        json.dumps(
            {
                "data_bytes": data_bytes,
                "baseline_bytes": base,
                "peak_bytes": peak,
                "peak_minus_data": peak - data_bytes,
                "peak_above_baseline": peak - base,
                "final_bytes": cur,
                "rss_before_fit_bytes": rss_before,
                "rss_peak_bytes": proc_status("VmHWM"),
            }
        )
    )


def bench_memory(cfg, labels_kind):
    n = cfg["epoch_n"]
    y_bytes = n * (8 if labels_kind.startswith("integer") else 4 * EPOCH_DIMS[-1])
    data = n * EPOCH_DIMS[0] * 4 + y_bytes
    params = n_params() * 4
    # one batch of activations: the input batch plus z and a of every layer, float32
    acts = EPOCH_BATCH * (EPOCH_DIMS[0] + 2 * sum(EPOCH_DIMS[1:])) * 4
    budget = MEMORY_FACTOR * (data + params + acts)
    child_cfg = json.dumps({"n": n, "threads": EPOCH_THREADS[0], "labels": labels_kind})
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--_memory-child", child_cfg],
        capture_output=True,
        text=True,
        timeout=600,
    )
    try:
        m = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise RuntimeError(
            f"memory child failed (rc {proc.returncode}): {proc.stderr[-2000:]}"
        ) from None
    if "error" in m:
        raise RuntimeError(f"memory child: {m['error']}")
    m.update(
        {
            "budget_bytes": budget,
            "budget_parts": {"data": data, "params": params, "one_batch_activations": acts},
        }
    )
    m["ratio_peak_minus_data_to_budget"] = m["peak_minus_data"] / budget
    m["ratio_peak_to_budget"] = m["peak_bytes"] / budget
    return m


PROBE = "GEMM-only epoch, 2 BLAS threads"  # the noise probe of the epoch table
PROBE_SLACK = 1.15  # a round whose probe ran > 1.15x its fastest round was disturbed


def quiet_rounds(by):
    """Indices of the rounds in which the 2-thread GEMM probe ran at full speed.

    The probe is the same fixed GEMM work in every round and independent of mlplab and
    torch, so dropping the rounds it flags is neutral between the competitors.
    """
    probe = by.get(PROBE)
    n = max((len(v.times_ns) for v in by.values()), default=0)
    if probe is None or not probe.times_ns:
        return list(range(n))
    best = min(probe.times_ns)
    return [i for i, t in enumerate(probe.times_ns) if t <= PROBE_SLACK * best]


def contention_warning(bounds, by, keep=None):
    """Say so when the 2-thread rows were run while another process held a core.

    On a 2-core machine a busy neighbour makes multi-threaded BLAS (and torch) wait for a
    descheduled thread at every synchronisation: 2-thread sgemm then runs slower than
    1-thread, often by 10x or more, and those rows say nothing about the code under test.
    """
    f1 = bounds.get(1, {}).get("gemm_flops_per_s", float("nan"))
    f2 = bounds.get(2, {}).get("gemm_flops_per_s", float("nan"))
    g2 = by.get(PROBE)
    xs = [g2.times_ns[i] for i in (keep or range(len(g2.times_ns)))] if g2 else []
    spread = max(xs) / min(xs) if xs else float("nan")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    if np.isfinite(f1) and np.isfinite(f2) and f2 < 1.2 * f1:
        return (
            f"the 2-thread GEMM epoch ran at {f2 / 1e9:.1f} GFLOP/s vs {f1 / 1e9:.1f} with "
            f"1 thread: another process was using a core (1-min load average {load:.2f}); "
            "the 2-thread rows are not meaningful, rerun on a quiet machine"
        )
    if np.isfinite(spread) and spread > 1.5:
        return (
            f"the 2-thread GEMM epoch varied {spread:.1f}x between rounds (1-min load average "
            f"{load:.2f}): the machine was busy for part of the run; check the min column"
        )
    return None


def bench_epoch(cfg, mlplab, torch, threads, results):
    n = cfg["epoch_n"]
    P = n_params()
    flops_6np = 6 * n * P
    flops_tight = flops_6np - 2 * n * EPOCH_DIMS[0] * EPOCH_DIMS[1]
    n_batches = -(-n // EPOCH_BATCH)
    print(
        f"## 2. Epoch: {'-'.join(map(str, EPOCH_DIMS))} ReLU net, CCE on logits, "
        f"Adam(lr={EPOCH_LR:g}), batch {EPOCH_BATCH}, N={n} random float32 samples "
        f"({n_batches} batches), P={P} parameters"
    )
    X, y = epoch_data(n)
    out = {
        "n": n,
        "batch": EPOCH_BATCH,
        "params": P,
        "flops_6NP": flops_6np,
        "flops_6NP_minus_first_dx": flops_tight,
        "variants": {},
    }

    variants = []
    labels_kind = None
    if mlplab is not None:
        try:
            threads.set(blas=EPOCH_THREADS[0])
            y_m, labels_kind = mlplab_epoch_labels(mlplab, X, y)
            for t in EPOCH_THREADS:
                variants.append(mlplab_epoch_variant(mlplab, X, y_m, t, threads))
        except Exception as exc:  # noqa: BLE001
            record_error("epoch: building/fitting the mlplab net", exc)
    if torch is not None:
        for t in EPOCH_THREADS:
            variants.append(torch_epoch_variant(torch, X, y, t, threads))
    mix = GemmMix(n, EPOCH_BATCH)
    for t in EPOCH_THREADS:
        variants.append(
            Variant(
                f"GEMM-only epoch, {t} BLAS thread{'s' * (t > 1)}",
                mix.run,
                enter=lambda t=t: threads.set(blas=t),
            )
        )
    is_ml = lambda v: v.name.startswith("mlplab")  # noqa: E731
    run_interleaved(variants, cfg["epoch_measured"], 1, 1, is_mlplab=is_ml)
    by = {v.name: v for v in variants}

    keep: list[int] = []

    def kept(v):  # a row's samples in the rounds judged quiet
        return [v.times_ns[i] for i in keep if i < len(v.times_ns)]

    def med_s(name):
        v = by.get(name)
        xs = kept(v) if v else []
        return median(xs) / 1e9 if xs else float("nan")

    def compute_bounds():
        bounds = {}
        for t in EPOCH_THREADS:
            g = med_s(f"GEMM-only epoch, {t} BLAS thread{'s' * (t > 1)}")
            flops_per_s = mix.flops / g if g > 0 else float("nan")
            bounds[t] = {
                "gemm_epoch_s": g,
                "gemm_flops_per_s": flops_per_s,
                "bound_6NP_s": flops_6np / flops_per_s,
                "bound_6NP_minus_first_dx_s": flops_tight / flops_per_s,
            }
        return bounds

    keep[:] = quiet_rounds(by)
    bounds = compute_bounds()
    warning = contention_warning(bounds, by, keep)
    # A busy neighbour comes and goes: while too few rounds were quiet, run more interleaved
    # rounds (bounded in number and time) so that the medians come from quiet rounds.
    want = min(5, cfg["epoch_measured"])
    extra, t_extra = 0, time.perf_counter()
    while (
        (warning or len(keep) < want)
        and extra < cfg["epoch_extra_rounds"]
        and time.perf_counter() - t_extra < cfg["epoch_extra_s"]
    ):
        run_interleaved(variants, 1, 1, 0, is_mlplab=is_ml, offset=cfg["epoch_measured"] + extra)
        extra += 1
        keep[:] = quiet_rounds(by)
        bounds = compute_bounds()
        warning = contention_warning(bounds, by, keep)
    n_rounds = cfg["epoch_measured"] + extra
    if extra:
        NOTES.append(
            f"epoch: the machine was busy, {extra} extra interleaved round(s) were run; "
            + ("enough quiet rounds then" if not warning else "still disturbed")
        )
    out["extra_rounds"] = extra
    out["rounds_total"] = n_rounds
    out["rounds_kept"] = list(keep)
    out["bounds"] = {f"{t}_threads": b for t, b in bounds.items()}
    out["contention_warning"] = warning
    out["gemm_epoch_samples_s"] = {
        v.name: [x / 1e9 for x in v.times_ns] for v in variants if v.name.startswith("GEMM")
    }
    print(
        f"Threads set explicitly per row: numpy BLAS via threadpoolctl threadpool limits, "
        f"torch via torch.set_num_threads. Rows interleaved round robin: 1 warm-up epoch + "
        f"{n_rounds} timed epochs each; median (min) s/epoch"
        + (
            f" over the {len(keep)} of {n_rounds} rounds in which the 2-thread GEMM probe ran "
            f"within {PROBE_SLACK}x of its fastest (the others were disturbed by other load; "
            "all samples are in the JSON)"
            if len(keep) < n_rounds
            else ""
        )
        + f". mlplab labels: {labels_kind or 'n/a'}.\n"
    )

    rows = []

    for t in EPOCH_THREADS:
        s = "s" * (t > 1)
        b = bounds[t]
        t_torch = med_s(f"PyTorch, {t} thread{s}")
        for impl in ("mlplab fit", "PyTorch"):
            name = (
                f"{impl}, {t} BLAS thread{s}" if impl == "mlplab fit" else f"{impl}, {t} thread{s}"
            )
            v = by.get(name)
            if v is None or not v.times_ns:
                if impl == "PyTorch" and torch is None:
                    why = "torch not installed"
                elif impl == "mlplab fit" and mlplab is None:
                    why = "mlplab not importable"
                else:
                    why = f"failed: {v.error}" if v is not None else "n/a"
                rows.append([name, why, "", "", "", ""])
                out["variants"][name] = {"status": why}
                continue
            sm = summary([x / 1e9 for x in kept(v)])
            sm["all_samples"] = [x / 1e9 for x in v.times_ns]
            r6, rt = (
                ratio(sm["median"], b["bound_6NP_s"]),
                ratio(sm["median"], b["bound_6NP_minus_first_dx_s"]),
            )
            rtorch = ratio(sm["median"], t_torch) if impl == "mlplab fit" else float("nan")
            rows.append(
                [
                    name,
                    f"{fmt(sm['median'], 3)} ({fmt(sm['min'], 3)})",
                    fmt_ratio(r6),
                    fmt_ratio(rt),
                    fmt_ratio(rtorch)
                    if impl == "mlplab fit"
                    else ("1.00x" if np.isfinite(t_torch) else ""),
                    (
                        ("met" if r6 <= EPOCH_TARGET_RATIO else "MISSED")
                        + f" (≤ {EPOCH_TARGET_RATIO}x 6NP)"
                    )
                    if impl == "mlplab fit"
                    else "",
                ]
            )
            out["variants"][name] = {
                "s_per_epoch": sm,
                "ratio_to_6NP_bound": r6,
                "ratio_to_tight_bound": rt,
                "ratio_to_torch_same_threads": rtorch,
                "threads": t,
            }
        rows.append(
            [
                f"GEMM lower bound, {t} BLAS thread{s}: "
                f"6NP / {b['gemm_flops_per_s'] / 1e9:.1f} GFLOP/s",
                fmt(b["bound_6NP_s"], 3),
                "1.00x",
                "",
                "",
                "",
            ]
        )
        rows.append(
            [
                "  same, without first layer's dx: (6NP − 2N·784·256) / FLOP/s",
                fmt(b["bound_6NP_minus_first_dx_s"], 3),
                "",
                "1.00x",
                "",
                "",
            ]
        )
    print(
        md_table(
            [
                "implementation",
                "median s/epoch (min)",
                "vs 6NP bound",
                "vs bound w/o dx₀",
                "vs PyTorch (same threads)",
                "target",
            ],
            rows,
        )
    )
    if warning:
        print(f"\n**WARNING: {warning}**")
        NOTES.append(warning)
    print(
        "\nFLOP/s = measured rate of the GEMM-only epoch (every sgemm of one training epoch, "
        "preallocated outputs, incl. the first layer's dx), run in the same interleaved rounds."
    )

    # per-shape sgemm rates
    try:
        shapes = bench_gemm_shapes(cfg, mix, threads)
        out["gemm_shapes"] = shapes
        srows = []
        for label, d in shapes.items():
            srows.append(
                [f"`{label}`"]
                + [
                    f"{fmt(d[f'{t}_threads']['us'], 1)} µs = "
                    f"{fmt(d[f'{t}_threads']['gflops'], 1)} GFLOP/s"
                    for t in EPOCH_THREADS
                ]
            )
        print(
            f"\nsgemm shapes of one batch (numpy {np.__version__}, median of "
            f"{cfg['gemm_rounds']}x{cfg['gemm_reps']} calls):\n"
        )
        print(
            md_table(["GEMM"] + [f"{t} BLAS thread{'s' * (t > 1)}" for t in EPOCH_THREADS], srows)
        )
    except Exception as exc:  # noqa: BLE001
        NOTES.append(f"per-shape sgemm table failed: {type(exc).__name__}: {exc}")

    # peak memory in a subprocess
    if mlplab is not None and labels_kind is not None:
        try:
            m = bench_memory(cfg, labels_kind)
            out["memory"] = m
            bp = m["budget_parts"]
            print(
                f"\nPeak memory of one mlplab epoch (fresh subprocess, tracemalloc, "
                f"{EPOCH_THREADS[0]} BLAS threads):\n"
            )
            print(
                md_table(
                    ["quantity", "bytes", "vs budget"],
                    [
                        ["data (X float32 + y)", fmt_bytes(m["data_bytes"]), ""],
                        [
                            "tracemalloc peak − data",
                            fmt_bytes(m["peak_minus_data"]),
                            fmt_ratio(m["ratio_peak_minus_data_to_budget"]),
                        ],
                        [
                            "tracemalloc peak (incl. data)",
                            fmt_bytes(m["peak_bytes"]),
                            fmt_ratio(m["ratio_peak_to_budget"]),
                        ],
                        [
                            f"budget {MEMORY_FACTOR} × (data {fmt_bytes(bp['data'])} + params "
                            f"{fmt_bytes(bp['params'])} + one batch of activations "
                            f"{fmt_bytes(bp['one_batch_activations'])})",
                            fmt_bytes(m["budget_bytes"]),
                            "1.00x",
                        ],
                        [
                            "context: process RSS before fit → peak RSS (VmHWM; interpreter, "
                            "numpy, scipy, BLAS buffers, data)",
                            f"{fmt_bytes(m['rss_before_fit_bytes'] or 0)} → "
                            f"{fmt_bytes(m['rss_peak_bytes'] or 0)}",
                            "",
                        ],
                    ],
                )
            )
        except Exception as exc:  # noqa: BLE001
            record_error("epoch: memory measurement", exc)
    elif mlplab is None:
        print("\nPeak memory: mlplab not importable.")
    print()
    results["epoch"] = out


# ----------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------
def main(argv=None):
    ap = base_parser(__doc__, 30, ("tiny", "epoch"), "run one of the two benchmarks")
    ap.add_argument("--_memory-child", dest="memory_child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.memory_child:
        mlplab_memory_child(args.memory_child)
        return 0

    t_start, cfg = start(args.quick, QUICK, FULL)
    mlplab, mlplab_err = import_mlplab(check_mlplab)
    torch, torch_err = import_torch()
    if mlplab is None:
        ERRORS.append(f"mlplab not importable: {mlplab_err}")
    threads = Threads(torch)
    facts = core_machine_facts(mlplab, mlplab_err, torch, torch_err)
    # Move everything imported so far out of the collector's reach: a full gc.collect()
    # with torch loaded costs ~75 ms, after freeze() a few µs (run_interleaved collects
    # before every timed block).
    freeze_gc()

    print(f"# mlplab core benchmark{' (--quick)' if args.quick else ''}\n")
    print_facts(facts)
    if mlplab is None:
        print(f"**mlplab not importable** ({mlplab_err}): its columns are empty.\n")
    if torch is None:
        print(f"**torch not installed** ({torch_err}): its columns are empty.\n")

    results = {"machine": facts, "quick": args.quick, "config": cfg}
    try:
        if args.only in (None, "tiny"):
            bench_tiny(cfg, mlplab, torch, threads, results)
        if args.only in (None, "epoch"):
            bench_epoch(cfg, mlplab, torch, threads, results)
    finally:
        threads.restore()
    return finish(results, t_start, args.json)


if __name__ == "__main__":
    sys.exit(main())
