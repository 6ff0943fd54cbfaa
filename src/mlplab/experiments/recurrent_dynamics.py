"""``recurrent-dynamics`` (lecture section 6): a recurrent network is a dynamic system:
it settles, oscillates, is chaotic or diverges.

An Elman layer of ``units`` units run freely, its state fed back with no input:
h_t = f(h_{t-1} W_h + b) (``layer.cell.step`` with x_t = 0), b = 0. W_h is the
layer's own orthogonal initialisation (every eigenvalue of modulus 1) scaled to
spectral radius rho; for the oscillation one rotation of it (a complex eigenvalue
pair, the one whose period is nearest 20 steps) is kept at modulus rho and the
others are damped to 0.5 (real Schur form), so a single oscillation grows out of the
origin until tanh saturation bounds it. The initial state is N(0, 0.25) per unit.

* ``regimes[name]``: rho, activation, the largest Lyapunov exponent ``lyapunov``
  (a tangent vector v_t = J_t v_{t-1} renormalised every step, J_t =
  diag(f'(z_t)) W_h^T; the mean of log ||J_t v_{t-1}|| after a burn-in of a quarter
  of the steps) and ``lyapunov_two_trajectories`` (two trajectories 1e-8 apart run by
  ``cell.step``, their distance renormalised every step), the growth rate of
  ||h_t|| (slope of log ||h_t|| over steps 20-150) and max |h_t|.

  The report's headline gives the measured values; ReLU is not always unbounded:
  with rho = 1.2 this ReLU net decays to 0 (the negative half is cut).
* ``sweep``: lambda against rho (orthogonal W_h, tanh, 800 steps): log rho below 1
  (the origin attracts), ~0 at rho = 1-1.2 (quasi-periodic orbits: every mode of the
  orthogonal matrix rotates), then positive and growing: the edge of chaos sits just
  above rho = 1.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from mlplab._blas import small_net_threads
from mlplab._checks import check_int
from mlplab.activations import get_activation
from mlplab.experiments._common import legend_outside
from mlplab.experiments._registry import Result, Row, register, save_figure
from mlplab.i18n import T
from mlplab.network import Sequential
from mlplab.recurrent import SimpleRNN

#: (name, activation, spectral radius) of each regime.
#: "orthogonal": the layer's orthogonal W_h times rho (every eigenvalue of modulus rho);
#: "one_rotation": one rotation (complex eigenvalue pair) of W_h scaled to rho, the others
#: to ``DAMPED`` < 1, so a single oscillation grows until tanh saturation bounds it.
REGIMES = (
    ("fixed_point", "tanh", 0.8, "orthogonal"),
    ("oscillation", "tanh", 1.2, "one_rotation"),
    ("chaos", "tanh", 3.0, "orthogonal"),
    ("divergence", "identity", 1.2, "orthogonal"),
    ("divergence_relu", "relu", 3.0, "orthogonal"),
)
DAMPED = 0.5
#: The oscillation keeps the rotation of W_h whose period is nearest this many steps.
TARGET_PERIOD = 20.0
_REGIME_NAMES = {
    "fixed_point": ("settles (fixed point)", "estabiliza (ponto fixo)"),
    "oscillation": ("oscillates (one rotation)", "oscila (uma rotação)"),
    "chaos": ("chaotic", "caótica"),
    "divergence": ("diverges (identity)", "diverge (identidade)"),
    "divergence_relu": ("diverges (ReLU)", "diverge (ReLU)"),
}
_REGIME_COLORS = {
    "fixed_point": "tab:green",
    "oscillation": "tab:blue",
    "chaos": "tab:red",
    "divergence": "tab:purple",
    "divergence_relu": "tab:brown",
}
#: Steps of the unbounded regimes (identity, ReLU): enough to measure the growth, short
#: of overflowing float64.
DIVERGENCE_STEPS = 150
#: The steps [start, stop) over which the growth rate of ||h_t|| is fitted.
GROWTH_STEPS = (20, DIVERGENCE_STEPS)
#: Steps of the separation figure.
SEPARATION_STEPS = 100


def _free_run(cell, h0: np.ndarray, steps: int) -> np.ndarray:
    """States h_0..h_steps of the cell run with no input: (steps + 1, n, units)."""
    x0 = np.zeros((h0.shape[0], cell.W.shape[0]))
    out = np.empty((steps + 1, *h0.shape))
    out[0] = h = h0
    for s in range(steps):
        h = cell.step(x0, h)
        out[s + 1] = h
    return out


def _lyapunov(W_h, b, act, h0: np.ndarray, steps: int, burn: int, rng) -> float:
    """Largest Lyapunov exponent: the mean log growth of a tangent vector, renormalised.

    Jacobian of h_t = f(h_{t-1} W_h + b):  dh_t/dh_{t-1} = diag(f'(z_t)) W_h^T.
    """
    h = h0.copy()
    v = rng.standard_normal(h.size)
    v /= np.linalg.norm(v)
    total = 0.0
    for s in range(burn + steps):
        z = h @ W_h + b
        h = act.forward(z)
        v = act.derivative(z, h) * (v @ W_h)
        norm = float(np.linalg.norm(v))
        if norm == 0.0:
            return -math.inf
        if s >= burn:
            total += math.log(norm)
        v /= norm
    return total / steps


def _one_rotation(Q: np.ndarray, rho: float) -> tuple[np.ndarray, float]:
    """Q = U B U^T (real Schur form: B holds 2x2 rotation blocks); keep the rotation whose
    period is nearest TARGET_PERIOD at modulus rho, damp the others to DAMPED.
    Returns the new matrix and the kept rotation's angle (radians per step)."""
    from scipy.linalg import schur

    B, U = schur(Q, output="real")
    blocks = [i for i in range(B.shape[0] - 1) if abs(B[i + 1, i]) > 1e-12]
    if not blocks:
        raise ValueError("W_h has no rotation (complex eigenvalue pair) to keep.")
    angles = np.array([math.atan2(abs(B[i + 1, i]), B[i, i]) for i in blocks])
    j = int(np.argmin(np.abs(angles - 2 * math.pi / TARGET_PERIOD)))
    i = blocks[j]
    D = DAMPED * B
    D[i : i + 2, i : i + 2] = rho * B[i : i + 2, i : i + 2]
    return U @ D @ U.T, float(angles[j])


def _period(traj: np.ndarray) -> float | None:
    """The period (steps) of an oscillation: the first autocorrelation peak of the unit
    with the largest variance."""
    x = traj[:, int(np.argmax(traj.var(axis=0)))]
    x = x - x.mean()
    ac = np.correlate(x, x, "full")[x.size - 1 :] / (x @ x)
    for lag in range(2, min(x.size // 2, 500)):
        if ac[lag] >= ac[lag - 1] and ac[lag] >= ac[lag + 1] and ac[lag] > 0.5:
            # parabolic interpolation of the peak
            a, b, c = ac[lag - 1], ac[lag], ac[lag + 1]
            den = a - 2 * b + c
            return float(lag + (0.5 * (a - c) / den if den != 0 else 0.0))
    return None


def _two_trajectories(cell, h0: np.ndarray, steps: int, burn: int, d0: float, rng) -> float:
    """Lyapunov exponent from two trajectories d0 apart (relative to ||h|| once the state
    is larger than 1), their distance renormalised after every step."""
    x0 = np.zeros((2, cell.W.shape[0]))
    u = rng.standard_normal(h0.size)
    ref = d0 * max(1.0, float(np.linalg.norm(h0)))
    h = np.stack([h0, h0 + u * (ref / np.linalg.norm(u))])
    total = 0.0
    for s in range(burn + steps):
        h = cell.step(x0, h)
        diff = h[1] - h[0]
        d = float(np.linalg.norm(diff))
        if d == 0.0:
            return -math.inf
        if s >= burn:
            total += math.log(d / ref)
        ref = d0 * max(1.0, float(np.linalg.norm(h[0])))
        h[1] = h[0] + diff * (ref / d)  # renormalise
    return total / steps


def _two_free(cell, h0: np.ndarray, steps: int, d0: float, rng) -> list[float]:
    """Distance between two trajectories started d0 apart, not renormalised."""
    u = rng.standard_normal(h0.size)
    u *= d0 / np.linalg.norm(u)
    traj = _free_run(cell, np.stack([h0, h0 + u]), steps)
    return np.linalg.norm(traj[:, 1] - traj[:, 0], axis=1).tolist()


def compute(*, seed: int, quick: bool, units: int, steps: int) -> Result:
    """The five regimes and the rho sweep (see the module docstring)."""
    units = check_int("units", units, minimum=2)
    steps = check_int("steps", steps, minimum=50)
    if quick:
        steps = min(steps, 600)
    # one BLAS thread: small products are faster, and chaotic trajectories amplify any
    # difference in rounding between BLAS kernels
    with small_net_threads(Sequential([SimpleRNN(units)], n_inputs=1), 1):
        return _dynamics(seed, quick, units, steps)


def _dynamics(seed: int, quick: bool, units: int, steps: int) -> Result:
    burn = steps // 4
    n_sweep = 15 if quick else 36
    rng = np.random.default_rng(seed)
    h0 = 0.5 * rng.standard_normal(units)

    regimes: dict[str, dict[str, Any]] = {}
    runs: dict[str, np.ndarray] = {}
    separations: dict[str, list[float]] = {}
    base_W_h = None
    for name, activation, rho, structure in REGIMES:
        regimes[name], runs[name], separations[name], base_W_h = _regime(
            activation,
            rho,
            structure,
            units=units,
            seed=seed,
            h0=h0,
            steps=steps,
            burn=burn,
            base_W_h=base_W_h,
        )

    # lambda against rho for tanh (the identity's exponent is log rho exactly)
    rhos = np.round(np.linspace(0.5, 4.0, n_sweep), 3)
    act = get_activation("tanh")
    sweep_steps, sweep_burn = (400, 100) if quick else (800, 200)
    zero_b = np.zeros(units)
    lam_sweep = [
        _lyapunov(
            r * base_W_h, zero_b, act, h0, sweep_steps, sweep_burn, np.random.default_rng([seed, 3])
        )
        for r in rhos
    ]
    metrics = {
        "units": units,
        "recurrent_init": "orthogonal (the layer's default) scaled to spectral radius rho; "
        f"the oscillation keeps one rotation at rho and damps the others to {DAMPED}",
        "bias": 0.0,
        "steps": steps,
        "burn_in": burn,
        "regimes": regimes,
        "lyapunov": {k: v["lyapunov"] for k, v in regimes.items()},
        "growth_rate": {k: v["growth_rate"] for k, v in regimes.items()},
        "spectral_radius": {k: v["spectral_radius"] for k, v in regimes.items()},
        "sweep": {
            "activation": "tanh",
            "rho": rhos.tolist(),
            "lyapunov": lam_sweep,
            "steps": sweep_steps,
        },
    }
    data = {
        "runs": runs,
        "regimes": regimes,
        "burn": burn,
        "rhos": rhos,
        "lam_sweep": lam_sweep,
        "separations": separations,
    }
    return Result(metrics, data)


def _regime(
    activation: str, rho: float, structure: str, *, units, seed, h0, steps, burn, base_W_h
) -> tuple[dict[str, Any], np.ndarray, list[float], np.ndarray]:
    """One regime run freely: its record, its trajectory, the distance of two trajectories
    started 1e-8 apart, and the layer's orthogonal W_h (``base_W_h`` if given)."""
    net = Sequential([SimpleRNN(units, activation=activation)], n_inputs=1, seed=seed)
    layer = net.layers[0]
    W_h = dict(net.named_parameters())["0.W_h"]
    if base_W_h is None:
        base_W_h = W_h.copy()  # the layer's orthogonal init: spectral radius 1
    extra: dict[str, Any] = {}
    if structure == "orthogonal":
        W_h[...] = rho * base_W_h  # in place: W_h is a view into net.theta
    else:
        W_h[...], angle = _one_rotation(base_W_h, rho)
        extra["rotation_period_steps"] = 2 * math.pi / angle
    b = dict(net.named_parameters())["0.b"]
    act = get_activation(activation)
    bounded = activation == "tanh"
    n_steps = steps + burn if bounded else DIVERGENCE_STEPS
    traj = _free_run(layer.cell, h0[None, :], n_steps)[:, 0]  # (n_steps + 1, units)
    # the cell's step is the lecture's equation: compare with numpy on the weights
    check = act.forward(traj[:-1] @ W_h + b)
    scale = np.maximum(1.0, np.linalg.norm(traj[1:], axis=1, keepdims=True))
    step_error = float(np.max(np.abs(check - traj[1:]) / scale))  # relative to ||h_t||
    lam_burn, lam_steps = (burn, steps) if bounded else (0, DIVERGENCE_STEPS)
    lam = _lyapunov(W_h, b, act, h0, lam_steps, lam_burn, np.random.default_rng([seed, 1]))
    lam2 = _two_trajectories(
        layer.cell, h0, lam_steps, lam_burn, 1e-8, np.random.default_rng([seed, 2])
    )
    free = _two_free(layer.cell, h0, SEPARATION_STEPS, 1e-8, np.random.default_rng([seed, 2]))
    norms = np.linalg.norm(traj, axis=1)
    # growth per step of ||h_t||: the slope of log ||h_t|| over steps GROWTH_STEPS
    fit = np.arange(*GROWTH_STEPS)
    growth = float(np.polyfit(fit, np.log(norms[fit]), 1)[0])
    eig = np.abs(np.linalg.eigvals(W_h))
    if structure == "one_rotation":
        extra["period_measured_steps"] = _period(traj[burn:])
    record = {
        "activation": activation,
        "structure": structure,
        **extra,
        "spectral_radius": float(eig.max()),
        "rho": rho,
        "lyapunov": lam,
        "lyapunov_two_trajectories": lam2,
        "log_rho": math.log(rho),
        "growth_rate": growth,
        "norm_start": float(norms[0]),
        "norm_end": float(norms[-1]),
        "max_abs_state": float(np.abs(traj[1:]).max()),  # after the initial state
        "steps": int(n_steps),
        "cell_step_max_rel_diff": step_error,
    }
    return record, traj, [float(d) for d in free], base_W_h


def draw(result: Result, t: T, out_dir: Path) -> None:
    """``dynamics_trajectories.png``, ``dynamics_phase.png`` and ``dynamics_lyapunov.png``."""
    d = result.data
    runs, regimes, burn = d["runs"], d["regimes"], d["burn"]
    _dynamics_trajectories_figure(runs, regimes, burn, t, out_dir / "dynamics_trajectories.png")
    _dynamics_phase_figure(runs, regimes, burn, t, out_dir / "dynamics_phase.png")
    path = out_dir / "dynamics_lyapunov.png"
    _dynamics_lyapunov_figure(d["rhos"], d["lam_sweep"], regimes, d["separations"], t, path)


def _regime_title(name: str, reg: dict[str, Any], t: T) -> str:
    act = reg["activation"]
    head = t.lookup(_REGIME_NAMES, name)
    if act == "tanh":  # the divergent regimes name their activation already
        head += f": {act}"
    return f"{head}, ρ = {t.num(reg['rho'], 'g')}, λ = {t.num(reg['lyapunov'], '+.3f')}"


def _dynamics_trajectories_figure(runs, regimes, burn, t: T, path: Path) -> None:
    import matplotlib.pyplot as plt

    names = list(runs)
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 2.2 * len(names)))
    for ax, name in zip(axes, names, strict=True):
        traj = runs[name]
        color = _REGIME_COLORS[name]
        show = slice(0, min(len(traj), 151))
        steps = np.arange(len(traj))[show]
        if regimes[name]["activation"] == "tanh":
            for u, alpha in ((0, 1.0), (1, 0.45)):
                ax.plot(steps, traj[show, u], color=color, alpha=alpha, lw=1.3, label=f"h[{u + 1}]")
            ax.set_ylim(-1.1, 1.1)
            ax.set_ylabel(t("state h", "estado h"))
        else:
            ax.semilogy(steps, np.linalg.norm(traj[show], axis=1), color=color, lw=1.5, label="‖h‖")
            ax.set_ylabel(t("‖h‖ (log)", "‖h‖ (log)"))
        ax.set_xlim(0, 150)
        ax.set_title(_regime_title(name, regimes[name], t), fontsize=10)
        ax.grid(alpha=0.3)
        legend_outside(ax, fontsize=9)
    axes[-1].set_xlabel(t("time step t", "passo de tempo t"))
    fig.suptitle(
        t(
            "Free-running Elman layer h_t = f(h_{t-1} W_h), from the same initial state",
            "Camada de Elman livre h_t = f(h_{t-1} W_h), a partir do mesmo estado inicial",
        )
    )
    fig.subplots_adjust(hspace=0.65, top=0.93)
    save_figure(fig, path)


def _dynamics_phase_figure(runs, regimes, burn, t: T, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(10, 9))
    axes = axes.ravel()
    for ax, name in zip(axes[:3], ("fixed_point", "oscillation", "chaos"), strict=True):
        traj = runs[name]
        color = _REGIME_COLORS[name]
        if name == "fixed_point":  # the transient into the fixed point
            pts = traj[:40]
            ax.plot(pts[:, 0], pts[:, 1], "-", color=color, lw=0.8)
            ax.plot(pts[:, 0], pts[:, 1], ".", color=color, ms=4)
            ax.plot(pts[0, 0], pts[0, 1], "o", color="k", ms=6, label=t("start", "início"))
            ax.plot(0, 0, "*", color="k", ms=12, label=t("fixed point 0", "ponto fixo 0"))
            legend_outside(ax, fontsize=9)
            what = t("first 40 steps", "primeiros 40 passos")
        else:  # the attractor, after the transient
            pts = traj[burn:]
            ax.plot(pts[:, 0], pts[:, 1], ".", color=color, ms=1.5)
            what = t(
                f"{len(pts)} steps after the transient",
                f"{len(pts)} passos depois do transiente",
            )
        ax.set_xlabel("h[1]")
        ax.set_ylabel("h[2]")
        ax.set_title(
            f"{t.lookup(_REGIME_NAMES, name)}, ρ = {t.num(regimes[name]['rho'], 'g')}\n({what})",
            fontsize=10,
        )
        ax.grid(alpha=0.3)
    ax = axes[3]
    for name in ("divergence", "divergence_relu"):
        norms = np.linalg.norm(runs[name], axis=1)
        reg = regimes[name]
        ax.plot(
            np.arange(1, norms.size),
            norms[1:] / norms[:-1],
            ".-",
            color=_REGIME_COLORS[name],
            ms=3,
            lw=0.8,
            label=f"{t.lookup(_REGIME_NAMES, name)},\nρ = {t.num(reg['rho'], 'g')}",
        )
    ax.axhline(1.0, color="0.5", ls=":", lw=1)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(t("time step t", "passo de tempo t"))
    ax.set_ylabel(t("‖h_t‖ / ‖h_{t-1}‖", "‖h_t‖ / ‖h_{t-1}‖"))
    ax.set_title(
        t(
            "Divergence: ‖h‖ grows by a factor > 1 per step",
            "Divergência: ‖h‖ cresce por um fator > 1 por passo",
        ),
        fontsize=10,
    )
    ax.grid(alpha=0.3)
    legend_outside(ax, fontsize=9)
    fig.suptitle(
        t(
            "Phase portraits: two units of the state, h[2] against h[1]; for the divergent "
            "networks,\nthe growth factor of the norm ‖h‖ per step",
            "Retratos de fase: duas unidades do estado, h[2] contra h[1]; para as redes "
            "divergentes,\no fator de crescimento da norma ‖h‖ por passo",
        ),
        fontsize=11,
    )
    fig.subplots_adjust(wspace=0.55, hspace=0.4, top=0.88)
    save_figure(fig, path)


def _dynamics_lyapunov_figure(rhos, lam_sweep, regimes, separations, t: T, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(8.5, 9.5))
    ax = axes[0]
    ax.axhline(0, color="k", lw=0.8)
    ax.plot(
        rhos,
        lam_sweep,
        "o-",
        color="tab:red",
        lw=1.5,
        ms=4,
        label=t("tanh: measured λ", "tanh: λ medido"),
    )
    r = np.linspace(rhos[0], rhos[-1], 200)
    ax.plot(
        r,
        np.log(r),
        "--",
        color="tab:purple",
        lw=1.5,
        label=t(
            "identity: λ = log ρ\n(diverges for ρ > 1)",
            "identidade: λ = log ρ\n(diverge para ρ > 1)",
        ),
    )
    for name, reg in regimes.items():
        if reg["activation"] == "tanh":
            ax.plot(
                reg["rho"],
                reg["lyapunov"],
                "s",
                color=_REGIME_COLORS[name],
                ms=10,
                label=t.lookup(_REGIME_NAMES, name),
            )
    ax.set_xlabel(t("spectral radius ρ of W_h", "raio espectral ρ de W_h"))
    ax.set_ylabel(t("largest Lyapunov exponent λ", "maior expoente de Lyapunov λ"))
    ax.set_title(
        t(
            "λ < 0: settles; λ ≈ 0: oscillates; λ > 0: chaos",
            "λ < 0: estabiliza; λ ≈ 0: oscila; λ > 0: caos",
        )
    )
    ax.grid(alpha=0.3)
    legend_outside(ax, fontsize=9)
    ax = axes[1]
    for name, d in separations.items():
        d = np.asarray(d)
        steps = np.arange(d.size)
        ax.semilogy(
            steps, d / d[0], color=_REGIME_COLORS[name], lw=1.5, label=t.lookup(_REGIME_NAMES, name)
        )
    ax.set_xlabel(t("time step t", "passo de tempo t"))
    ax.set_ylabel(t("distance / initial distance", "distância / distância inicial"))
    ax.set_title(
        t(
            "Two trajectories started 1e-8 apart",
            "Duas trajetórias que partem a 1e-8 uma da outra",
        )
    )
    ax.grid(alpha=0.3, which="both")
    legend_outside(ax, fontsize=9)
    fig.subplots_adjust(hspace=0.35)
    save_figure(fig, path)


def _sci(x: float, t: T, sign: str = "") -> str:
    """x in scientific notation without the exponent's plus sign (1.7e12, 3.9e-73);
    ``sign="+"`` writes the sign of a positive x too (+2.2e-05); 0 is "0"."""
    return t.num(x, f"{sign}.1e").replace("e+", "e") if x != 0 else "0"


def _what(name: str, reg: dict[str, Any], t: T) -> str:
    """A regime as a headline names it: "settles (fixed point): tanh, ρ = 0.8"."""
    return _regime_title(name, reg, t).rpartition(", λ")[0]


def _lam(r: dict[str, Any], t: T) -> str:
    x = r["lyapunov"]
    return f"λ = {_sci(x, t, '+') if abs(x) < 1e-3 else t.num(x, '+.4f')}"


def headline(m: dict[str, Any], t: T) -> list[Row]:
    """The lecture's four behaviours of a recurrent net fed back on itself, measured."""
    reg = m["regimes"]
    step_diff = max(r["cell_step_max_rel_diff"] for r in reg.values())
    rho, lams = np.array(m["sweep"]["rho"]), np.array(m["sweep"]["lyapunov"])
    below, above = lams[rho < 0.95], lams[rho >= 2.0]
    cross = rho[np.argmax(lams > 0)] if (lams > 0).any() else None
    sweep = (
        t(
            f"λ first > 0 at ρ = {t.num(cross, 'g')}; λ = {t.num(lams[-1], '+.3f')} at ρ = "
            f"{t.num(rho[-1], 'g')}",
            f"λ > 0 a partir de ρ = {t.num(cross, 'g')}; λ = {t.num(lams[-1], '+.3f')} em ρ = "
            f"{t.num(rho[-1], 'g')}",
        )
        if cross is not None
        else t("λ never > 0", "λ nunca > 0")
    )
    return [
        Row(
            t(
                "Elman step of mlplab against the lecture's equation",
                "passo de Elman do mlplab contra a equação da aula",
            ),
            "h_t = f(h_{t-1} W_h + b)"
            + t(" (relative difference < 1e-12)", " (diferença relativa < 1e-12)"),
            t("largest relative difference ", "maior diferença relativa ")
            + t.num(step_diff, ".1e"),
            step_diff < 1e-12,
        ),
        *_bounded_rows(reg, t),
        *_unbounded_rows(reg, t),
        Row(
            t(
                "λ against ρ (tanh, orthogonal recurrent weights)",
                "λ contra ρ (tanh, pesos recorrentes ortogonais)",
            ),
            t(
                "the origin attracts below ρ = 1 (λ < 0 for every ρ < 0.95); chaos for large "
                "ρ (λ > 0 for every ρ ≥ 2)",
                "a origem atrai abaixo de ρ = 1 (λ < 0 para todo ρ < 0,95); caos para ρ grande "
                "(λ > 0 para todo ρ ≥ 2)",
            ),
            sweep,
            bool((below < 0).all() and (above > 0).all()),
        ),
    ]


def _bounded_rows(reg: dict[str, Any], t: T) -> list[Row]:
    """tanh: settles, oscillates, chaotic."""
    fixed, osc, chaos = reg["fixed_point"], reg["oscillation"], reg["chaos"]
    period, rotation = osc.get("period_measured_steps"), osc["rotation_period_steps"]
    period_text = (
        t(f"period {t.num(period, '.2f')} steps", f"período {t.num(period, '.2f')} passos")
        if period is not None
        else t("no period found", "nenhum período encontrado")
    )
    lam2, largest = chaos["lyapunov_two_trajectories"], chaos["max_abs_state"]
    return [
        Row(
            _what("fixed_point", fixed, t),
            t(
                f"a fixed point: λ = log ρ = {t.num(fixed['log_rho'], '.4f')} (± 0.01), "
                "the state goes to 0",
                f"um ponto fixo: λ = log ρ = {t.num(fixed['log_rho'], '.4f')} (± 0,01), "
                "o estado vai a 0",
            ),
            f"{_lam(fixed, t)}; ‖h‖ {t.num(fixed['norm_start'], '.2g')} → "
            f"{_sci(fixed['norm_end'], t)}",
            abs(fixed["lyapunov"] - fixed["log_rho"]) < 0.01 and fixed["norm_end"] < 1e-6,
        ),
        Row(
            _what("oscillation", osc, t),
            t(
                "a closed orbit: λ ≈ 0 (|λ| < 0.01), the period of the kept rotation of W, "
                f"{t.num(rotation, '.2f')} steps (± 10 %)",
                "uma órbita fechada: λ ≈ 0 (|λ| < 0,01), o período da rotação mantida de W, "
                f"{t.num(rotation, '.2f')} passos (± 10 %)",
            ),
            f"{_lam(osc, t)}; {period_text}",
            abs(osc["lyapunov"]) < 0.01
            and period is not None
            and abs(period - rotation) < 0.1 * rotation,
        ),
        Row(
            _what("chaos", chaos, t),
            t(
                "λ > 0 (nearby states separate exponentially), yet bounded: |h| ≤ 1",
                "λ > 0 (estados próximos se afastam exponencialmente), mas limitada: |h| ≤ 1",
            ),
            t(
                f"{_lam(chaos, t)} (two trajectories: {t.num(lam2, '+.4f')}); largest |h| "
                f"{t.num(largest, '.4g')}",
                f"{_lam(chaos, t)} (duas trajetórias: {t.num(lam2, '+.4f')}); maior |h| "
                f"{t.num(largest, '.4g')}",
            ),
            chaos["lyapunov"] > 0.01 and lam2 > 0.01 and largest <= 1.0,
        ),
    ]


def _unbounded_rows(reg: dict[str, Any], t: T) -> list[Row]:
    """The identity and ReLU: diverge."""
    div, relu = reg["divergence"], reg["divergence_relu"]
    g, g_relu = div["growth_rate"], relu["growth_rate"]
    return [
        Row(
            _what("divergence", div, t),
            t(
                f"‖h‖ × ρ per step: growth log ρ = {t.num(div['log_rho'], '.4f')} per step "
                "(± 0.001)",
                f"‖h‖ × ρ por passo: crescimento log ρ = {t.num(div['log_rho'], '.4f')} por "
                "passo (± 0,001)",
            ),
            t(
                f"growth {t.num(g, '.4f')} per step; ‖h‖ {t.num(div['norm_start'], '.2g')} → "
                f"{_sci(div['norm_end'], t)} in {div['steps']} steps",
                f"crescimento {t.num(g, '.4f')} por passo; ‖h‖ "
                f"{t.num(div['norm_start'], '.2g')} → {_sci(div['norm_end'], t)} em "
                f"{div['steps']} passos",
            ),
            abs(g - div["log_rho"]) < 1e-3,
        ),
        Row(
            _what("divergence_relu", relu, t),
            t(
                "unbounded: ‖h‖ grows geometrically (growth > 0 per step)",
                "ilimitada: ‖h‖ cresce geometricamente (crescimento > 0 por passo)",
            ),
            t("growth ", "crescimento ")
            + f"{t.num(g_relu, '.3f')} "
            + t("per step", "por passo")
            + f" (× {t.num(math.exp(g_relu), '.3g')}); ‖h‖ → {_sci(relu['norm_end'], t)}",
            g_relu > 0 and relu["norm_end"] > 1e6 * relu["norm_start"],
        ),
    ]


def captions(m: dict[str, Any], t: T) -> dict[str, str]:
    """What to look at in each figure."""
    reg = m["regimes"]
    osc, chaos, relu = reg["oscillation"], reg["chaos"], reg["divergence_relu"]
    period = osc.get("period_measured_steps")
    period_en = f", period {t.num(period, '.1f')} steps" if period is not None else ""
    period_pt = f", período {t.num(period, '.1f')} passos" if period is not None else ""
    return {
        "dynamics_trajectories.png": t(
            "The same initial state, five networks. Green: the state dies out to the fixed "
            f"point 0 within about 20 steps. Blue: a steady oscillation{period_en}. Red: "
            "irregular, never repeating, but always between −1 and 1. Purple and brown (log "
            "scale): straight lines, i.e. ‖h‖ multiplied by the same factor at every step.",
            "O mesmo estado inicial, cinco redes. Verde: o estado se extingue no ponto fixo 0 "
            f"em cerca de 20 passos. Azul: uma oscilação estável{period_pt}. Vermelho: "
            "irregular, nunca se repete, mas sempre entre −1 e 1. Roxo e marrom (escala log): "
            "retas, isto é, ‖h‖ multiplicado pelo mesmo fator a cada passo.",
        ),
        "dynamics_phase.png": t(
            "Two units of the state plotted against each other: the stable network's state "
            "closes in on the star (0), the oscillating one runs around one closed loop, the "
            "chaotic one never repeats and scatters over the square [−1, 1]², mostly on its "
            "edges where tanh saturates. Bottom right: the factor by which "
            f"‖h‖ grows per step stays above the dotted line at 1 (identity: exactly "
            f"{t.num(reg['divergence']['rho'], 'g')}; ReLU: about "
            f"{t.num(math.exp(relu['growth_rate']), '.2g')}).",
            "Duas unidades do estado, uma contra a outra: o estado da rede estável se "
            "aproxima da estrela (0), a oscilante percorre um único laço fechado, a caótica "
            "nunca se repete e se espalha pelo quadrado [−1, 1]², sobretudo nas bordas, onde "
            "a tanh satura. Embaixo à direita: o fator pelo qual ‖h‖ cresce "
            "por passo fica acima da linha pontilhada em 1 (identidade: exatamente "
            f"{t.num(reg['divergence']['rho'], 'g')}; ReLU: cerca de "
            f"{t.num(math.exp(relu['growth_rate']), '.2g')}).",
        ),
        "dynamics_lyapunov.png": t(
            "Left: the largest Lyapunov exponent λ against the spectral radius ρ; it follows "
            "the dashed log ρ below ρ = 1, is about 0 just above, then grows: the squares are "
            f"the three tanh networks (chaos: λ = {t.num(chaos['lyapunov'], '+.2f')}). Right: "
            "two states started 1e-8 apart; their distance shrinks (fixed point), stays "
            "constant (oscillation) or grows exponentially (divergence; chaos, until it "
            "reaches the size of the bounded attractor).",
            "Esquerda: o maior expoente de Lyapunov λ contra o raio espectral ρ; segue a curva "
            "tracejada log ρ abaixo de ρ = 1, fica em cerca de 0 logo acima e depois cresce: "
            f"os quadrados são as três redes tanh (caos: λ = {t.num(chaos['lyapunov'], '+.2f')})"
            ". Direita: dois estados que partem a 1e-8 um do outro; a distância encolhe (ponto "
            "fixo), fica constante (oscilação) ou cresce exponencialmente (divergência; caos, "
            "até atingir o tamanho do atrator limitado).",
        ),
    }


LABELS: dict[str, tuple[str, str]] = {
    **_REGIME_NAMES,
    "units": ("units in the layer", "unidades na camada"),
    "recurrent_init": (
        "initialisation of the recurrent weights",
        "inicialização dos pesos recorrentes",
    ),
    "bias": ("bias b", "viés b"),
    "steps": ("time steps", "passos de tempo"),
    "burn_in": ("steps discarded first (burn-in)", "passos descartados antes (aquecimento)"),
    "regimes": ("the five networks", "as cinco redes"),
    "lyapunov": (
        "largest Lyapunov exponent λ (per step)",
        "maior expoente de Lyapunov λ (por passo)",
    ),
    "growth_rate": (
        "growth of log ‖h‖ per step (steps 20 to 150)",
        "crescimento de log ‖h‖ por passo (passos 20 a 150)",
    ),
    "spectral_radius": (
        "spectral radius measured (largest |eigenvalue| of W)",
        "raio espectral medido (maior |autovalor| de W)",
    ),
    "sweep": ("λ against ρ", "λ contra ρ"),
    "activation": ("activation f", "ativação f"),
    "structure": ("form of the recurrent weights", "forma dos pesos recorrentes"),
    "rotation_period_steps": (
        "period of the kept rotation (steps)",
        "período da rotação mantida (passos)",
    ),
    "period_measured_steps": ("period measured (steps)", "período medido (passos)"),
    "rho": ("spectral radius ρ set", "raio espectral ρ escolhido"),
    "lyapunov_two_trajectories": (
        "λ from two trajectories 1e-8 apart",
        "λ de duas trajetórias a 1e-8",
    ),
    "log_rho": ("log ρ", "log ρ"),
    "norm_start": ("‖h‖ at the start", "‖h‖ no início"),
    "norm_end": ("‖h‖ at the end", "‖h‖ no fim"),
    "max_abs_state": ("largest |h| after the start", "maior |h| após o início"),
    "cell_step_max_rel_diff": (
        "largest relative difference, Elman step against NumPy",
        "maior diferença relativa, passo de Elman contra NumPy",
    ),
}


@register(
    "recurrent-dynamics",
    section="6",
    order=3,
    title={
        "en": "A recurrent network is a dynamic system: it settles, oscillates, is chaotic or "
        "diverges",
        "pt": "Uma rede recorrente é um sistema dinâmico: estabiliza, oscila, é caótica ou diverge",
    },
    claim={
        "en": "Fed back on itself, a recurrent network is a dynamic system that may settle, "
        "oscillate, be chaotic or diverge, depending on its weights and activation. Measured "
        "on a free-running Elman layer of 32 units, h_t = f(h_{t-1} W_h), its orthogonal W_h "
        "scaled to spectral radius ρ: with tanh, ρ = 0.8 settles at a fixed point "
        "(largest Lyapunov exponent log 0.8 = -0.22); keeping one rotation of W_h at ρ = 1.2 "
        "and damping the rest, it oscillates on a closed orbit (exponent 0); ρ = 3 is "
        "chaotic (exponent about +0.25: nearby states separate exponentially) yet bounded, "
        "|h| ≤ 1, since tanh saturates. With the identity (ρ = 1.2) or ReLU (ρ = 3) the "
        "state diverges: ‖h‖ is multiplied by 1.2 and by about 2 at every step.",
        "pt": "Realimentada sobre si mesma, uma rede recorrente é um sistema dinâmico que pode "
        "estabilizar, oscilar, ser caótico ou divergir, conforme os pesos e a ativação. Medido "
        "numa camada de Elman livre de 32 unidades, h_t = f(h_{t-1} W_h), com a sua W_h "
        "ortogonal escalada ao raio espectral ρ: com tanh, ρ = 0,8 estabiliza num ponto "
        "fixo (maior expoente de Lyapunov log 0,8 = -0,22); mantendo uma rotação de W_h em "
        "ρ = 1,2 e amortecendo as demais, oscila numa órbita fechada (expoente 0); ρ = 3 é "
        "caótico (expoente de cerca de +0,25: estados próximos se afastam exponencialmente) "
        "mas limitado, |h| ≤ 1, pois a tanh satura. Com a identidade (ρ = 1,2) ou a ReLU "
        "(ρ = 3) o estado diverge: ‖h‖ é multiplicado por 1,2 e por cerca de 2 a cada "
        "passo.",
    },
    headline=headline,
    captions=captions,
    labels=LABELS,
)
def run(
    out_dir: Path,
    *,
    seed: int = 0,
    quick: bool = False,
    lang: str = "en",
    units: int = 32,
    steps: int = 2000,
) -> dict[str, Any]:
    """Free-running Elman layer in five regimes, Lyapunov exponents and a rho sweep."""
    t = T(lang)
    result = compute(seed=seed, quick=quick, units=units, steps=steps)
    draw(result, t, out_dir)
    return result.metrics
