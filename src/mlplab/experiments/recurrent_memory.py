"""``recurrent-memory`` (lecture section 6): recalling the input seen k steps ago,
feed-forward against recurrent.

A recurrent layer feeds its state back: h_t depends on x_t *and* on h_{t-1}, so
the network has memory and is a dynamic system. Three experiments measure it.

A task that needs memory: a sequence of random signs x_t = +-1, and at the last
step the network must output the sign seen k steps earlier (the first input of a
sequence of k + 1 steps; the k later inputs are distractors). For k = 1, 2, 4, ...,
``max_k`` four nets of about the same number of weights (305-334) are trained
with Adam (binary cross-entropy, learning rate 0.01, batches of 128 of 2048
sequences, gradient clipping at norm 1, at most ``epochs`` epochs, stopped once the
epoch's training loss is below 0.02): a feed-forward net (one hidden layer of 64
tanh units) that sees only a window of the last ``window`` inputs, an Elman net
(SimpleRNN, 16 tanh units), an LSTM (8 units) and a GRU (9 units), each with the
layer's defaults (orthogonal recurrent weights; the LSTM's forget-gate bias 1).
Each of ``seeds`` seeds draws its own data and initial weights.

* ``accuracy[model]``: validation accuracy per k, the mean over the seeds (1000
  fresh sequences each; chance 0.5); ``accuracy_per_seed``; ``solved_seeds``: in how
  many seeds the accuracy reached 0.95; ``longest_k_solved`` per seed.
* ``init_grad_ratio[model]``: ||dJ/dh_1|| / ||dJ/dh_T|| at initialisation per k
  (``layer.hidden_grad_norms`` after one ``net.loss_and_grad`` on 256 training
  sequences; the geometric mean over the seeds): how much of the error signal at the
  last step reaches the step holding the sign -- the vanishing gradient through time.
  ``trained_grad_ratio``: the same after training (on 256 validation sequences), per
  seed. ``grad_norms``: the whole profile ||dJ/dh_t|| / ||dJ/dh_T||, t = 1..T, of the
  first seed at ``probe_k``, the longest lag a recurrent net learned in that seed.

Measured (full run, seeds 0-2): the feed-forward net recalls the sign for k <= 2
(inside its window) and is at chance beyond (0.49-0.51). Every recurrent net recalls
it in every seed up to k = 16. At k = 32 the GRU learned it in 3 seeds of 3, the
Elman net in 2, the LSTM in 1; at k = 64 the Elman net in 2 (accuracy 1.00 and 0.999),
the LSTM and GRU in none. At initialisation the gradient reaching step 1 falls
geometrically with k, fastest in the gated nets, whose memory paths start half
closed (LSTM forget gate sigma(1) = 0.73, GRU update gate 0.5 per step): at k = 64
Elman 5e-6, LSTM 3e-8, GRU 6e-14; at k = 32 2e-3, 5e-5, 3e-7. With the orthogonal
recurrent initialisation (a known remedy) the Elman net keeps the most gradient, and
it is the one that learned the longest lag: the lecture's expectation that gated
cells beat the Elman net at long lags does not show here. After training, the gated
nets that learned k = 32 pass 0.09-0.94 of the gradient back to step 1 (the failed
LSTMs 9e-5 and 2e-3); the Elman net's varies from 1e-14 (seed 1, k = 64: its saturated
tanh units latch the sign and pass almost no gradient) to 12.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from mlplab._blas import small_net_threads
from mlplab._checks import check_int
from mlplab.experiments._common import small_forward
from mlplab.experiments._registry import Result, register, save_figure
from mlplab.i18n import T
from mlplab.layers import Dense
from mlplab.network import Sequential
from mlplab.recurrent import GRU, LSTM, SimpleRNN
from mlplab.training.callbacks import Callback

MEMORY_MODELS = ("feedforward", "elman", "lstm", "gru")
RECURRENT_MODELS = ("elman", "lstm", "gru")
#: Units per model: about the same number of weights (window 3: 321, 305, 329, 334).
MEMORY_UNITS = {"feedforward": 64, "elman": 16, "lstm": 8, "gru": 9}
QUICK_KS = (1, 4, 16)
MEMORY_LR = 0.01
SOLVED_LOSS = 0.02
#: A lag counts as learned when the validation accuracy reaches this.
SOLVED_ACC = 0.95
N_VAL = 1000
N_PROBE = 256
_MEMORY_COLORS = {
    "feedforward": "0.4",
    "elman": "tab:orange",
    "lstm": "tab:blue",
    "gru": "tab:green",
}
_MEMORY_MARKERS = {"feedforward": "s", "elman": "o", "lstm": "D", "gru": "^"}


class _Solved(Callback):
    """Stop training once the epoch's mean loss is below ``threshold``."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def on_epoch_end(self, state, net):
        if state.loss < self.threshold:
            state.stop = True


def _memory_name(model: str, window: int, t: T) -> str:
    return {
        "feedforward": t(
            f"feed-forward (window of {window})", f"alimentação direta (janela de {window})"
        ),
        "elman": t("Elman (SimpleRNN, tanh)", "Elman (SimpleRNN, tanh)"),
        "lstm": "LSTM",
        "gru": "GRU",
    }[model]


def _memory_data(n: int, k: int, window: int, rng: np.random.Generator):
    """n sequences of random signs, T = max(k + 1, window) steps; y = 1 if x_{T-k} > 0."""
    T_ = max(k + 1, window)
    X = rng.choice(np.array([-1.0, 1.0]), size=(n, T_, 1))
    y = (X[:, T_ - 1 - k, 0] > 0).astype(np.float64)
    return X, y


def _memory_net(model: str, window: int, seed: int) -> Sequential:
    units = MEMORY_UNITS[model]
    if model == "feedforward":
        layers = [Dense(units, activation="tanh"), Dense(1, activation="logistic")]
        return Sequential(layers, n_inputs=window, seed=seed)
    layer = {"elman": SimpleRNN, "lstm": LSTM, "gru": GRU}[model](units)
    return Sequential([layer, Dense(1, activation="logistic")], n_inputs=1, seed=seed)


def _hidden_grad_norms(net: Sequential, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """||dJ/dh_t|| (t = 1..T) of the recurrent layer after one backward pass (BCE)."""
    with small_net_threads(net, X.shape[0]):
        net.loss_and_grad(X, y, "bce")
    return np.asarray(net.layers[0].hidden_grad_norms, dtype=np.float64).copy()


def compute(
    *, seed: int, quick: bool, max_k: int, window: int, n_train: int, epochs: int, seeds: int
) -> Result:
    """Every model trained at every lag, for every seed (see the module docstring)."""
    max_k = check_int("max_k", max_k, minimum=1)
    window = check_int("window", window, minimum=1)
    n_train = check_int("n_train", n_train, minimum=N_PROBE)
    epochs = check_int("epochs", epochs, minimum=1)
    n_seeds = check_int("seeds", seeds, minimum=1)
    ks = [2**i for i in range(int(math.log2(max_k)) + 1)]
    if ks[-1] != max_k:
        ks.append(max_k)
    batch = 128
    if quick:
        ks = sorted({k for k in QUICK_KS if k <= max_k} | {min(max_k, QUICK_KS[-1])})
        n_train, epochs, batch, n_seeds = min(n_train, 1024), min(epochs, 30), 64, 1
    seed_list = [seed + s for s in range(n_seeds)]

    def per_seed() -> dict[str, list[list[Any]]]:
        return {m: [[] for _ in seed_list] for m in MEMORY_MODELS}

    acc, epochs_run, final_loss = per_seed(), per_seed(), per_seed()
    ratio = {when: per_seed() for when in ("init", "trained")}
    n_params: dict[str, int] = {}
    first_profiles: dict[int, dict[str, dict[str, np.ndarray]]] = {}  # the first seed's
    for i_s, s in enumerate(seed_list):
        for k in ks:
            rng = np.random.default_rng([s, k])
            Xtr, ytr = _memory_data(n_train, k, window, rng)
            Xva, yva = _memory_data(N_VAL, k, window, rng)
            prof_k: dict[str, dict[str, np.ndarray]] = {"init": {}, "trained": {}}
            if i_s == 0:
                first_profiles[k] = prof_k
            for model in MEMORY_MODELS:
                r = _train_model(model, window, s, (Xtr, ytr, Xva, yva), epochs, batch)
                n_params[model] = r["n_params"]
                acc[model][i_s].append(r["accuracy"])
                epochs_run[model][i_s].append(r["epochs_run"])
                final_loss[model][i_s].append(r["final_loss"])
                for when in ("init", "trained"):
                    if r[when] is not None:
                        g = r[when]
                        ratio[when][model][i_s].append(float(g[0] / g[-1]))
                        prof_k[when][model] = g / g[-1]
    runs = {"acc": acc, "epochs_run": epochs_run, "final_loss": final_loss, "ratio": ratio}
    setting = {"ks": ks, "window": window, "n_train": n_train, "seed_list": seed_list}
    setting.update(epochs=epochs, batch=batch)
    return _results(setting, runs, n_params, first_profiles)


def _train_model(model: str, window: int, s: int, data, epochs: int, batch: int) -> dict[str, Any]:
    """One model trained on one lag's data: its validation accuracy, epochs run, final
    loss and (recurrent models) the gradient through time before and after training."""
    Xtr, ytr, Xva, yva = data
    net = _memory_net(model, window, s)
    ff = model == "feedforward"
    Atr, Ava = (Xtr[:, -window:, 0], Xva[:, -window:, 0]) if ff else (Xtr, Xva)
    out: dict[str, Any] = {"n_params": int(net.theta.size), "init": None, "trained": None}
    if not ff:
        out["init"] = _hidden_grad_norms(net, Xtr[:N_PROBE], ytr[:N_PROBE])
    hist = net.fit(
        Atr,
        ytr,
        loss="bce",
        optimizer="adam",
        learning_rate=MEMORY_LR,
        epochs=epochs,
        batch_size=batch,
        clip_norm=1.0,
        diagnostics=False,
        seed=s,
        callbacks=[_Solved(SOLVED_LOSS)],
    )
    p = small_forward(net, Ava)[:, 0]
    out["accuracy"] = float(np.mean((p > 0.5) == (yva > 0.5)))
    out["epochs_run"] = len(hist["loss"])
    out["final_loss"] = float(hist["loss"][-1])
    if not ff:
        out["trained"] = _hidden_grad_norms(net, Xva[:N_PROBE], yva[:N_PROBE])
    return out


def _results(setting, runs, n_params, first_profiles) -> Result:
    """The metrics and the figures' data from every run's numbers."""
    ks, window, n_train = setting["ks"], setting["window"], setting["n_train"]
    seed_list, epochs, batch = setting["seed_list"], setting["epochs"], setting["batch"]
    acc, ratio = runs["acc"], runs["ratio"]
    epochs_run, final_loss = runs["epochs_run"], runs["final_loss"]
    A = {m: np.array(v) for m, v in acc.items()}  # (seeds, ks)
    mean_acc = {m: a.mean(axis=0).tolist() for m, a in A.items()}
    solved_seeds = {m: (a >= SOLVED_ACC).sum(axis=0).tolist() for m, a in A.items()}
    longest = {
        m: [
            max((k for k, x in zip(ks, row, strict=True) if x >= SOLVED_ACC), default=None)
            for row in a
        ]
        for m, a in A.items()
    }
    init_ratio = {  # geometric mean over the seeds
        m: np.exp(np.log(np.array(ratio["init"][m])).mean(axis=0)).tolist()
        for m in RECURRENT_MODELS
    }
    trained_ratio = {m: ratio["trained"][m] for m in RECURRENT_MODELS}
    # the profile through time: the first seed, at the longest lag a recurrent net learned
    learned = [
        k for j, k in enumerate(ks) if max(A[m][0, j] for m in RECURRENT_MODELS) >= SOLVED_ACC
    ]
    probe_k = learned[-1] if learned else ks[-1]
    j_probe = ks.index(probe_k)
    profiles = {
        when: {m: v.tolist() for m, v in prof.items()}
        for when, prof in first_profiles[probe_k].items()
    }
    metrics = {
        "ks": ks,
        "window": window,
        "sequence_length": [max(k + 1, window) for k in ks],
        "n_train": n_train,
        "n_val": N_VAL,
        "seeds": seed_list,
        "units": dict(MEMORY_UNITS),
        "n_params": n_params,
        "optimizer": f"adam, learning rate {MEMORY_LR}, batch {batch}, clip_norm 1.0",
        "max_epochs": epochs,
        "accuracy": mean_acc,
        "accuracy_per_seed": acc,
        "solved_threshold": SOLVED_ACC,
        "solved_seeds": solved_seeds,
        "longest_k_solved": longest,
        "epochs_run": epochs_run,
        "final_train_loss": final_loss,
        "init_grad_ratio": init_ratio,
        "init_grad_ratio_per_seed": {m: ratio["init"][m] for m in RECURRENT_MODELS},
        "trained_grad_ratio": trained_ratio,
        "probe_k": probe_k,
        "probe_seed": seed_list[0],
        "grad_ratio": {
            when: {m: r[m][0][j_probe] for m in RECURRENT_MODELS} for when, r in ratio.items()
        },
        "grad_norms": profiles,
    }
    data = {
        "ks": ks,
        "A": A,
        "window": window,
        "n_params": n_params,
        "init_ratio": init_ratio,
        "trained_ratio": trained_ratio,
        "profiles": profiles,
        "probe_k": probe_k,
    }
    return Result(metrics, data)


def draw(result: Result, t: T, out_dir: Path) -> None:
    """``memory_accuracy.png`` and ``memory_gradient.png``."""
    d = result.data
    ks, A, window = d["ks"], d["A"], d["window"]
    _memory_accuracy_figure(ks, A, window, d["n_params"], t, out_dir / "memory_accuracy.png")
    _memory_gradient_figure(
        ks,
        d["init_ratio"],
        d["trained_ratio"],
        d["profiles"],
        d["probe_k"],
        A,
        window,
        t,
        out_dir / "memory_gradient.png",
    )


def _log2_axis(ax, ks) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xticks(ks)
    ax.set_xticklabels([str(k) for k in ks])


def _memory_accuracy_figure(ks, A, window, n_params, t: T, path: Path) -> None:
    import matplotlib.pyplot as plt

    n_seeds = next(iter(A.values())).shape[0]
    fig, ax = plt.subplots(figsize=(9, 5.5))
    ax.axvspan(0.7, window - 0.5, color="0.92", lw=0)
    ax.text(0.75, 0.53, t("inside the\nwindow", "dentro da\njanela"), fontsize=8, color="0.35")
    ax.axhline(0.5, color="0.5", ls=":", lw=1)
    offsets = {"feedforward": 0.94, "elman": 0.98, "lstm": 1.02, "gru": 1.06}
    for m, a in A.items():
        style = {"marker": _MEMORY_MARKERS[m], "color": _MEMORY_COLORS[m]}
        label = f"{_memory_name(m, window, t)}: {n_params[m]} {t('weights', 'pesos')}"
        ax.plot(ks, a.mean(axis=0), lw=2, label=label, **style)
        if n_seeds > 1:  # every seed's own accuracy, shifted sideways to stay visible
            x = np.repeat(np.array(ks, float)[None, :] * offsets[m], n_seeds, axis=0)
            ax.plot(x.ravel(), a.ravel(), ls="none", ms=4, alpha=0.45, **style)
    _log2_axis(ax, ks)
    ax.set_xlim(0.7, ks[-1] * 1.4)
    ax.set_ylim(0.4, 1.04)
    ax.set_xlabel(
        t(
            "lag k (steps between the input and the answer)",
            "atraso k (passos entre a entrada e a resposta)",
        )
    )
    ax.set_ylabel(t("validation accuracy (chance: 0.5)", "acurácia de validação (acaso: 0,5)"))
    what = t(
        f"lines: mean of {n_seeds} seeds, small markers: each seed",
        f"linhas: média de {n_seeds} sementes, marcadores pequenos: cada semente",
    )
    ax.set_title(
        t(
            "Output the sign seen k steps ago (k distractors in between)",
            "Responder o sinal visto k passos atrás (k distratores no meio)",
        )
        + (f"\n({what})" if n_seeds > 1 else "")
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="center", bbox_to_anchor=(0.55, 0.68))
    save_figure(fig, path)


def _memory_gradient_figure(
    ks, init_ratio, trained_ratio, profiles, probe_k, A, window, t: T, path: Path
) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(17, 5.2))
    ax = axes[0]
    for m in RECURRENT_MODELS:
        style = {"marker": _MEMORY_MARKERS[m], "color": _MEMORY_COLORS[m]}
        ax.semilogy(ks, init_ratio[m], ls="--", mfc="white", lw=1.5, **style)
        for j, row in enumerate(trained_ratio[m]):
            label = _memory_name(m, window, t) if j == 0 else None
            ax.semilogy(ks, row, ls="none", ms=5, alpha=0.7, label=label, **style)
    ax.plot(
        [],
        [],
        "k--",
        mfc="white",
        marker="o",
        label=t("at initialisation (geometric mean)", "na inicialização (média geométrica)"),
    )
    ax.plot(
        [],
        [],
        "k",
        ls="none",
        marker="o",
        label=t("after training (each seed)", "depois do treino (cada semente)"),
    )
    _log2_axis(ax, ks)
    ax.set_xlabel(t("lag k", "atraso k"))
    ax.set_ylabel("||dJ/dh_1|| / ||dJ/dh_T||")
    ax.set_title(
        t("Step 1 over step T, against the lag", "Passo 1 sobre o passo T, contra o atraso")
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    j = ks.index(probe_k)
    for ax, when, title in (
        (axes[1], "init", t("at initialisation", "na inicialização")),
        (axes[2], "trained", t("after training", "depois do treino")),
    ):
        for m, prof in profiles[when].items():
            steps = np.arange(1, len(prof) + 1)
            label = _memory_name(m, window, t)
            if when == "trained":
                label += f" ({t('accuracy', 'acurácia')} {t.num(A[m][0, j], '.2f')})"
            ax.semilogy(steps, prof, color=_MEMORY_COLORS[m], lw=2, label=label)
        ax.set_xlabel(t("time step t", "passo de tempo t"))
        ax.set_ylabel("||dJ/dh_t|| / ||dJ/dh_T||")
        ax.set_title(
            t(
                f"Through time, k = {probe_k}, {title}",
                f"Através do tempo, k = {probe_k}, {title}",
            )
        )
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle(
        t(
            "The gradient of the loss at the last step T, flowing back to step 1 where the sign "
            "to recall entered (log scale; middle and right: the first seed)",
            "O gradiente da perda no último passo T, voltando até o passo 1, onde entrou o sinal "
            "a lembrar (escala log; meio e direita: a primeira semente)",
        )
    )
    fig.subplots_adjust(wspace=0.28, top=0.85)
    save_figure(fig, path)


@register(
    "recurrent-memory",
    section="6",
    order=1,
    title={
        "en": "Memory: recalling the input seen k steps ago, feed-forward against recurrent",
        "pt": "Memória: lembrar a entrada vista k passos atrás, alimentação direta contra "
        "recorrente",
    },
    claim={
        "en": "A feed-forward (acyclic) network has no memory: it sees only its input window. "
        "A recurrent network feeds its state back, so its output depends on earlier inputs. "
        "Measured over 3 seeds: a window MLP is at chance once the input lies outside its "
        "window, while Elman, LSTM and GRU nets of the same size recall it perfectly up to a "
        "lag of 16 steps. Beyond, learning is hit-or-miss, governed by the gradient through "
        "time, which at initialisation vanishes geometrically with the lag. With mlplab's "
        "orthogonal recurrent weights the Elman net keeps the most of it and learned a lag of "
        "64 in 2 seeds of 3, where the LSTM and GRU, whose gates start half closed, failed; "
        "the GRU learned a lag of 32 in every seed.",
        "pt": "Uma rede de alimentação direta (acíclica) não tem memória: só vê a sua janela de "
        "entrada. Uma rede recorrente realimenta o seu estado, e a saída depende das entradas "
        "anteriores. Medido com 3 sementes: um MLP de janela fica no acaso quando a entrada "
        "está fora da janela, enquanto redes de Elman, LSTM e GRU do mesmo tamanho a lembram "
        "perfeitamente até um atraso de 16 passos. Além disso, o aprendizado vira loteria, "
        "governado pelo gradiente através do tempo, que na inicialização desaparece "
        "geometricamente com o atraso. Com os pesos recorrentes ortogonais do mlplab a rede "
        "de Elman conserva a maior parte dele e aprendeu um atraso de 64 em 2 sementes de 3, "
        "onde a LSTM e a GRU, cujas portas começam meio fechadas, falharam; a GRU aprendeu "
        "um atraso de 32 em todas as sementes.",
    },
)
def run(
    out_dir: Path,
    *,
    seed: int = 0,
    quick: bool = False,
    lang: str = "en",
    max_k: int = 64,
    window: int = 3,
    n_train: int = 2048,
    epochs: int = 60,
    seeds: int = 3,
) -> dict[str, Any]:
    """Accuracy against the lag k per model and the gradient through time (module doc)."""
    t = T(lang)
    result = compute(
        seed=seed,
        quick=quick,
        max_k=max_k,
        window=window,
        n_train=n_train,
        epochs=epochs,
        seeds=seeds,
    )
    draw(result, t, out_dir)
    return result.metrics
