"""What a notebook shows: the network diagram (SVG) of a Sequential and of the fitted
estimators, the training plots, the doctor's report as HTML, and the progress bars."""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET

import matplotlib
import numpy as np
import pytest
import sklearn
from IPython.core.formatters import DisplayFormatter

import mlplab
from mlplab import display
from mlplab.diagnostics import Diagnosis, Finding
from mlplab.training import History, TrainState

matplotlib.use("Agg")

SVG = "{http://www.w3.org/2000/svg}"


def _svg(net, **kwargs) -> ET.Element:
    return ET.fromstring(display.network_svg(net, **kwargs))


def _find(root, tag, cls):
    return [e for e in root.iter(SVG + tag) if e.get("class") == cls]


def _texts(root) -> list[str]:
    return [e.text or "" for e in root.iter(SVG + "text")]  # without their <title> tooltips


def _formatted(obj) -> dict:
    return DisplayFormatter().format(obj)[0]


def _deep_logistic(depth, width=8):
    """``depth`` logistic layers of ``width`` nodes and a linear output, on 2 inputs: the
    doctor finds the gradient vanishing."""
    layers = [mlplab.Dense(width, activation="logistic") for _ in range(depth)]
    return mlplab.Sequential([*layers, mlplab.Dense(1)], n_inputs=2, seed=0)


def _xor_net(seed=0):
    return mlplab.Sequential(
        [mlplab.Dense(3, activation="tanh"), mlplab.Dense(2, activation="logistic")],
        n_inputs=4,
        seed=seed,
    )


# ------------------------------------------------------------------ the diagram
def test_small_net_has_its_nodes_bias_inputs_and_edges():
    root = _svg(_xor_net())
    assert root.tag == SVG + "svg"
    assert len(_find(root, "circle", "node")) == 4 + 3 + 2
    assert len(_find(root, "circle", "bias")) == 2  # a +1 feeding each Dense layer
    assert len(_find(root, "line", "w")) == 4 * 3 + 3 * 2
    assert len(_find(root, "line", "b")) == 3 + 2
    assert _texts(root).count("+1") == 2


def test_edge_colour_follows_the_sign_and_width_grows_with_the_size():
    net = _xor_net()
    W0, W1 = net.layers[0].params["W"], net.layers[1].params["W"]
    W0[...] = np.linspace(-3, 2.5, W0.size).reshape(W0.shape)
    W1[...] = np.linspace(0.1, -0.7, W1.size).reshape(W1.shape)
    root = _svg(net)
    lines = _find(root, "line", "w")
    values = np.concatenate([W0.ravel(), W1.ravel()])  # drawn i outer, j inner, layer by layer
    colours = [e.get("stroke") for e in lines]
    assert colours == [display.COLORS["pos"] if v >= 0 else display.COLORS["neg"] for v in values]
    assert display.COLORS["pos"] == "#2166ac"  # the playground's rgb(33, 102, 172)
    widths = np.array([float(e.get("stroke-width")) for e in lines])
    order = np.argsort(np.abs(values), kind="stable")
    assert np.all(np.diff(widths[order]) >= 0)
    assert widths[np.argmax(np.abs(values))] > 5 * widths[np.argmin(np.abs(values))]
    W1[0, 0] = np.nan  # a diverged weight: grey, thin, and the others keep their widths
    lines = _find(_svg(net), "line", "w")
    assert lines[W0.size].get("stroke") == display.COLORS["none"]
    assert [float(e.get("stroke-width")) for e in lines[: W0.size]] == list(widths[: W0.size])


def test_parameter_count_and_activations_are_shown():
    net = mlplab.Sequential(
        [mlplab.Dense(5, activation="relu"), mlplab.BatchNorm(), mlplab.Dense(1)],
        n_inputs=3,
        seed=0,
    )
    root = _svg(net)
    assert int(root.get("data-params")) == net.n_params
    heading = _texts(root)[0]
    assert f"3 → 5 → 1 · {net.n_params} parameters" in heading
    per_layer = [int(t.split()[0]) for t in _texts(root) if t.endswith(" params")]
    assert sum(per_layer) == net.n_params
    notes = _texts(root)
    assert "relu" in notes and "identity" in notes and "BatchNorm (10)" in notes


def test_large_layers_are_summarised_and_the_svg_stays_small():
    net = mlplab.Sequential(
        [mlplab.Dense(500, activation="relu"), mlplab.Dense(300), mlplab.Dense(10)],
        n_inputs=784,
        seed=0,
    )
    text = display.network_svg(net)
    root = ET.fromstring(text)
    assert len(text) < 100_000
    assert len(_find(root, "circle", "node")) == 11 + 11 + 11 + 10  # 11 and "⋮": 12 slots
    assert len(_find(root, "text", "ellipsis")) == 3
    deep = mlplab.Sequential([mlplab.Dense(12) for _ in range(20)], n_inputs=12, seed=0)
    deep_root = _svg(deep, max_edges=300)
    drawn = _find(deep_root, "line", "w") + _find(deep_root, "line", "b")
    assert 0 < len(drawn) <= 300


def test_recurrent_layers_are_labelled_boxes():
    net = mlplab.Sequential([mlplab.LSTM(4), mlplab.Dense(1)], n_inputs=2, seed=0)
    root = _svg(net)
    assert len(_find(root, "rect", "recurrent")) == 1
    assert "LSTM · tanh" in _texts(root)
    assert len(_find(root, "line", "link")) == 2 * 4  # connections into the box
    assert len(_find(root, "line", "w")) == 4 * 1  # the Dense layer's weights
    assert len(_find(root, "circle", "bias")) == 1


def test_text_is_escaped():
    net = _xor_net()
    names = ["a<b", 'q"&', "</svg>", "x"]
    root = _svg(net, input_names=names, output_names=["<script>", "ok"], title="T<&>")
    texts = _texts(root)
    assert "a<b" in texts and "</svg>" in texts and "<script>" in texts
    assert texts[0].startswith("T<&>:")


# ------------------------------------------------------------------ what Jupyter shows
def test_sequential_shows_the_diagram_and_keeps_its_repr():
    net = _xor_net()
    shown = _formatted(net)
    assert shown["text/plain"] == repr(net)
    assert repr(net) == (
        "Sequential([Dense(units=3, activation={'name': 'tanh'}, bias_init={'name': 'zeros'}), "
        "Dense(units=2, activation={'name': 'logistic'}, bias_init={'name': 'zeros'})], "
        "n_inputs=4)"
    )
    assert 'class="mlplab-network"' in shown["text/html"]


def test_the_diagram_imports_nothing_heavy():
    """``import mlplab`` and a network's HTML need neither matplotlib, IPython nor tqdm."""
    import subprocess

    code = (
        "import sys, mlplab\n"
        "net = mlplab.Sequential([mlplab.Dense(2), mlplab.Dense(1)], n_inputs=2)\n"
        "assert 'mlplab-network' in net._repr_html_()\n"
        "print(sorted(m for m in ('matplotlib', 'IPython', 'tqdm') if m in sys.modules))"
    )
    src = str(display.__file__).rsplit("/mlplab/", 1)[0]
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": src}
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "[]"


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def test_estimators_show_sklearns_view_unfitted_and_the_diagram_fitted():
    X, y = _data()
    clf = mlplab.MLPClassifier((4,), max_iter=20, random_state=0, convergence_warning=False)
    before = _formatted(clf)
    assert "sk-top-container" in before["text/html"]
    assert "mlplab-network" not in before["text/html"]
    clf.fit(X, y)
    after = _formatted(clf)
    assert after["text/plain"] == repr(clf)
    html = after["text/html"]
    assert html.index('class="mlplab-network"') < html.index("sk-top-container")  # both
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    root = ET.fromstring(svg)
    assert int(root.get("data-params")) == clf.net_.n_params
    assert "P(1)" in _texts(root)  # the binary classifier's output
    assert clf._repr_html_().startswith('<div class="mlplab-network-view"')
    with sklearn.config_context(display="text"):  # scikit-learn's switch: text only
        assert set(_formatted(clf)) == {"text/plain"}
        assert not hasattr(clf, "_repr_html_")
    reg = mlplab.MLPRegressor(
        hidden_layer_sizes=(3,), max_iter=20, random_state=0, convergence_warning=False
    )
    assert "mlplab-network" in _formatted(reg.fit(X, X[:, 0]))["text/html"]


def test_rnn_estimators_show_their_network_when_fitted():
    X = np.random.default_rng(0).normal(size=(16, 5, 1))
    rnn = mlplab.RNNRegressor("gru", units=3, max_iter=2, random_state=0, convergence_warning=False)
    assert "mlplab-network" not in _formatted(rnn)["text/html"]
    html = _formatted(rnn.fit(X, X[:, -1, 0]))["text/html"]
    assert 'class="recurrent"' in html and "GRU · tanh" in html


def test_feature_names_label_the_inputs_escaped():
    pd = pytest.importorskip("pandas")
    X, y = _data()
    frame = pd.DataFrame(X, columns=["<b>bold</b>", "a & b", "c"])
    clf = mlplab.MLPClassifier((2,), max_iter=5, random_state=0, convergence_warning=False)
    html = _formatted(clf.fit(frame, y))["text/html"]
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert "<b>" not in svg and "&lt;b&gt;bold&lt;/b&gt;" in svg
    assert "a & b" in _texts(ET.fromstring(svg))


# ------------------------------------------------------------------ figures
def _history(values: dict) -> History:
    return History(TrainState(history={k: list(v) for k, v in values.items()}))


def test_history_plot_draws_loss_validation_and_metrics():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    y = np.array([0, 1, 1, 0.0])
    net = mlplab.Sequential(
        [mlplab.Dense(3, activation="tanh"), mlplab.Dense(1, activation="logistic")],
        n_inputs=2,
        seed=0,
    )
    hist = net.fit(X, y, loss="bce", optimizer="adam", learning_rate=0.1, epochs=30,
                   metrics=["accuracy"], validation_data=(X, y))  # fmt: skip
    ax = hist.plot()
    assert [line.get_label() for line in ax.get_lines()] == ["training loss", "validation loss"]
    assert list(ax.get_lines()[0].get_ydata()) == hist["loss"]
    right = ax.right_ax
    labels = [line.get_label() for line in right.get_lines()]
    assert labels == ["training accuracy", "validation accuracy"]
    assert ax.get_xlabel() == "epoch"
    pt = hist.plot(lang="pt", metrics=[])
    assert [line.get_label() for line in pt.get_lines()] == [
        "perda de treino",
        "perda de validação",
    ]
    assert pt.get_xlabel() == "época" and not hasattr(pt, "right_ax")
    import matplotlib.pyplot as plt

    plt.close("all")


def test_history_plot_log_scale_when_it_helps_and_clear_errors():
    import matplotlib.pyplot as plt

    falling = _history({"loss": np.geomspace(1.0, 1e-4, 20)})
    assert falling.plot().get_yscale() == "log"
    flat = _history({"loss": np.linspace(1.0, 0.5, 20)})
    assert flat.plot().get_yscale() == "linear"
    assert flat.plot(log=True).get_yscale() == "log"
    pt = flat.plot(lang="pt")
    pt.figure.canvas.draw()
    ticks = [label.get_text() for label in pt.get_yticklabels()]
    assert "0,6" in ticks and not any("." in tick for tick in ticks)  # the decimal comma
    with pytest.raises(ValueError, match="nothing to plot"):
        _history({}).plot()
    with pytest.raises(ValueError, match=r"metrics \['accuracy'\] are not in this history"):
        flat.plot(metrics=["accuracy"])
    plt.close("all")


def test_gradient_flow_plot_one_line_per_layer_log_scale_legend_outside():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(32, 2)), rng.normal(size=32)
    net = mlplab.Sequential(
        [mlplab.Dense(4, activation="tanh"), mlplab.Dense(4, activation="tanh"), mlplab.Dense(1)],
        n_inputs=2,
        seed=0,
    )
    flow = mlplab.GradientFlow()
    net.fit(X, y, epochs=5, callbacks=[flow], diagnostics=False)
    ax = flow.plot()
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == flow.layer_names and len(lines) == 3
    assert np.allclose(lines[1].get_ydata(), flow.history["grad_norm_W"][:, 1])
    assert ax.get_yscale() == "log"
    ax.figure.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1  # outside the axes, on the right
    with pytest.raises(ValueError, match="nothing recorded yet"):
        mlplab.GradientFlow().plot()
    plt.close("all")


# ------------------------------------------------------------------ the doctor
def test_diagnosis_html_lists_findings_with_severity_escaped():
    rng = np.random.default_rng(0)
    deep = _deep_logistic(6)
    d = mlplab.diagnose(deep, rng.normal(size=(64, 2)), rng.normal(size=64))
    assert "vanishing" in d.kinds()
    shown = _formatted(d)
    assert shown["text/plain"] == repr(d) and repr(d).startswith("Diagnosis(findings=[")
    html = shown["text/html"]
    assert html.count('class="finding vanishing"') == sum(f.kind == "vanishing" for f in d.findings)
    assert ">warning<" in html and "Remedy (vanishing)" in html
    assert html.count("<tr>") == 1 + 1 + len(d.stats)  # two header rows, a row per layer
    bad = Finding("exploding", 0, "<layer>", 1e9, "norm > 1e3 & <rising>", "clip")
    pt = Diagnosis([bad], d.stats, 1e9, 2.5, lang="pt")
    html_pt = pt._repr_html_()
    assert ">grave<" in html_pt and "gradiente explodindo" in html_pt
    assert "&lt;layer&gt;" in html_pt and "norm &gt; 1e3 &amp; &lt;rising&gt;" in html_pt
    assert "<rising>" not in html_pt and "2,5" in html_pt  # the decimal comma


# ------------------------------------------------------------------ progress
def _fit(verbose):
    X = np.random.default_rng(0).normal(size=(8, 2))
    net = mlplab.Sequential([mlplab.Dense(1)], n_inputs=2, seed=0)
    net.fit(X, X[:, 0], epochs=5, batch_size=4, verbose=verbose, diagnostics=False)


def _rnn_fit(verbose):
    X = np.random.default_rng(0).normal(size=(8, 4, 1))
    rnn = mlplab.RNNRegressor("gru", units=2, max_iter=3, random_state=0, verbose=verbose,
                              convergence_warning=False)  # fmt: skip
    rnn.fit(X, X[:, -1, 0])


def _fake_kernel(monkeypatch):
    """An IPython whose shell has a kernel, as in Jupyter."""

    class Shell:
        kernel = object()

    class FakeIPython:
        @staticmethod
        def get_ipython():
            return Shell()

    monkeypatch.setitem(sys.modules, "IPython", FakeIPython)


def test_progress_bar_in_a_notebook_text_on_a_terminal_none_when_verbose_0(monkeypatch, capfd):
    _fit(1)  # stderr captured: neither a terminal nor a notebook -> a line per epoch
    assert "epoch 5/5:" in capfd.readouterr().err
    _fake_kernel(monkeypatch)  # in a Jupyter notebook
    _fit(0)
    _rnn_fit(False)
    assert capfd.readouterr() == ("", "")  # verbose=0: nothing, even in a notebook
    _fit(1)
    err = capfd.readouterr().err
    assert "epoch/s" in err and "epoch 5/5:" not in err  # tqdm.auto's bar
    _rnn_fit(True)
    assert "epoch/s" in capfd.readouterr().err
    monkeypatch.delitem(sys.modules, "IPython")  # no kernel: a terminal
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal
    _fit(1)
    assert "epoch/s" in capfd.readouterr().err


def test_in_notebook_reads_the_ipython_kernel(monkeypatch):
    assert display.in_notebook() is False  # pytest: no kernel
    _fake_kernel(monkeypatch)
    assert display.in_notebook() is True
    assert display.progress_bar(3, "step", verbose=0) is None


def test_in_a_real_kernel_the_network_is_html_and_verbose_1_a_widget():
    """What Jupyter receives, from an executed notebook (a kernel start: ~3 s)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("ipywidgets")
    src = str(display.__file__).rsplit("/mlplab/", 1)[0]
    cells = [
        f"import sys; sys.path.insert(0, {src!r})\nimport numpy as np, mlplab\n"
        "net = mlplab.Sequential([mlplab.Dense(3, activation='tanh'), mlplab.Dense(1)], "
        "n_inputs=2, seed=0)\nnet",
        "X = np.random.default_rng(0).normal(size=(16, 2))\n"
        "h = net.fit(X, X[:, 0], epochs=20, verbose=1, diagnostics=False)",
        "net.fit(X, X[:, 0], epochs=3, verbose=0, diagnostics=False); None",
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    shown, fitted, quiet = (cell.outputs for cell in nb.cells)
    assert 'class="mlplab-network"' in shown[0]["data"]["text/html"]
    assert [list(o.get("data", {})) for o in fitted] == [
        ["text/plain", "application/vnd.jupyter.widget-view+json"]
    ]
    assert quiet == []


# ------------------------------------------------------------------ the language
@pytest.fixture
def language():
    """Restores the default language whatever a test sets."""
    yield mlplab.set_language
    mlplab.set_language("en")


def test_set_language_is_the_default_of_every_view_and_a_calls_lang_wins(language):
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(32, 2)), rng.normal(size=32)
    net = _deep_logistic(4, width=6)
    flow = mlplab.GradientFlow()
    hist = net.fit(X, y, epochs=3, callbacks=[flow], diagnostics=False)
    assert mlplab.get_language() == "en"
    assert "input (2)" in _texts(_svg(net)) and "entrada (2)" not in _texts(_svg(net))
    language("pt")
    assert mlplab.get_language() == "pt"
    assert "entrada (2)" in _texts(_svg(net))
    assert "entrada" in _formatted(net)["text/html"]
    clf = mlplab.MLPClassifier((3,), max_iter=20, random_state=0, convergence_warning=False)
    assert "parâmetros" in _formatted(clf.fit(*_data()))["text/html"]
    assert hist.plot().get_xlabel() == "época"
    assert flow.plot().get_xlabel() == "época"
    d = mlplab.diagnose(net, X, y)
    assert d.lang == "pt" and "gradiente desaparecendo" in d._repr_html_()
    assert "input (2)" in _texts(_svg(net, lang="en"))  # a call's own lang wins
    assert hist.plot(lang="en").get_xlabel() == "epoch"
    assert mlplab.diagnose(net, X, y, lang="en").lang == "en"
    with pytest.raises(ValueError, match=r"Unknown lang 'fr'.*'en', 'pt'"):
        language("fr")
    assert mlplab.get_language() == "pt"  # a refused value changes nothing
    plt.close("all")


def test_the_doctors_portuguese_report_writes_decimal_commas():
    rng = np.random.default_rng(0)
    deep = _deep_logistic(6)
    X, y = rng.normal(size=(64, 2)), rng.normal(size=64)
    pt, en = mlplab.diagnose(deep, X, y, lang="pt"), mlplab.diagnose(deep, X, y, lang="en")
    number = re.compile(r"[0-9][.,][0-9]")
    for report in (str(pt), *(f.detail for f in pt.findings)):
        found = number.findall(report)
        assert found and all("," in n for n in found), report
    assert all("." in n for n in number.findall(" ".join(f.detail for f in en.findings)))
    assert "." not in "".join(number.findall(pt._repr_html_()))


def test_a_wide_diagram_scrolls_instead_of_shrinking():
    """Front ends style every svg with max-width: 100%; the diagram's own style undoes it
    (inline style wins), inside a div that scrolls."""
    deep = mlplab.Sequential([mlplab.Dense(4) for _ in range(14)], n_inputs=3)
    html = deep._repr_html_()
    div = re.match(r'<div class="mlplab-network-view" style="([^"]*)">', html)
    assert div and "overflow-x:auto" in div.group(1)
    root = ET.fromstring(re.search(r"<svg.*</svg>", html, re.S).group(0))
    assert root.get("style") == "max-width:none" and float(root.get("width")) > 1500


def test_gradient_flow_lines_stay_distinct_past_ten_layers():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    net = mlplab.Sequential(
        [mlplab.Dense(3, activation="relu") for _ in range(12)] + [mlplab.Dense(1)],
        n_inputs=2,
        seed=0,
    )
    flow = mlplab.GradientFlow()
    net.fit(rng.normal(size=(16, 2)), rng.normal(size=16), epochs=2, callbacks=[flow],
            diagnostics=False)  # fmt: skip
    lines = flow.plot().get_lines()
    styles = [(matplotlib.colors.to_hex(ln.get_color()), ln.get_linestyle()) for ln in lines]
    assert len(lines) == 13 and len(set(styles)) == 13
    plt.close("all")


def test_fits_gradient_warnings_speak_the_language_set(language):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 2)), rng.normal(size=64)

    def warned():
        net = _deep_logistic(8)
        with pytest.warns(mlplab.diagnostics.GradientWarning) as caught:
            net.fit(X, y, epochs=1, batch_size=64)
        return [str(w.message) for w in caught]

    en = warned()
    assert en[0].startswith("epoch 1: 0:Dense(logistic): vanishing gradient flow — ")
    language("pt")
    pt = warned()
    assert len(pt) == len(en)
    assert pt[0].startswith("época 1: 0:Dense(logistic): gradiente desaparecendo — RMS de dL/dW")
    assert "Remédio: use ativações da família ReLU" in pt[0]
    assert not re.search(r"[0-9]\.[0-9]", pt[0])  # decimal commas
