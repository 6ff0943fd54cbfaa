"""Lecture §6: acyclic and cyclic connections, recurrent networks with memory."""

FILES = ("06-recurrent-networks", "06-redes-recorrentes")

TITLE = (
    """
# §6 Recurrent networks: networks with memory

A feed-forward (acyclic) network is a function of its inputs and its weights,
y = f(x; W): the same input always gives the same output, so it has **no memory**. A
recurrent (cyclic) network feeds its outputs back: a simple recurrent node computes

  hₜ = f(xₜ w + hₜ₋₁ w_h + b)

so its output depends on the current input, the weights **and the previous state**. It is
a dynamical system: it may settle, oscillate, behave chaotically or diverge. Recurrent
networks handle time dependencies: time-series prediction (e.g. monitoring vital signs),
natural language (speech to text).

mlplab has three recurrent layers, `SimpleRNN` (the equation above), `LSTM` and `GRU`
(gated cells that learn what to keep), and scikit-learn-style estimators for series,
`RNNRegressor` / `RNNClassifier`, fed by `mlplab.make_windows`.
""",
    """
# §6 Redes recorrentes: redes com memória

Uma rede de alimentação direta (acíclica) é uma função de suas entradas e de seus pesos,
y = f(x; W): a mesma entrada sempre dá a mesma saída, então ela **não tem memória**. Uma rede
recorrente (cíclica) realimenta suas saídas: um nó recorrente simples calcula

  hₜ = f(xₜ w + hₜ₋₁ w_h + b)

então sua saída depende da entrada atual, dos pesos **e do estado anterior**. Ela é um sistema
dinâmico: pode atingir um estado estável, oscilar, ter um comportamento caótico ou divergir.
Redes recorrentes tratam dependências temporais: previsão de séries temporais (por exemplo, o
monitoramento de sinais vitais) e linguagem natural (conversão de fala em texto).

O mlplab tem três camadas recorrentes, `SimpleRNN` (a equação acima), `LSTM` e `GRU` (células
com portões que aprendem o que guardar), e estimadores no estilo do scikit-learn para séries,
`RNNRegressor` / `RNNClassifier`, alimentados por `mlplab.make_windows`.
""",
)

CELLS = [
    (
        "md",
        """
## One recurrent node as a dynamical system

One `SimpleRNN` node, weights set by hand: input weight w = 1, bias 0 and the recurrent
weight w_h = ρ. The input is a single pulse, x₀ = 1, then zeros. A feed-forward node would
output f(0) = 0 from the second step on; the recurrent node's state carries the pulse
forward. Change the values of ρ.
""",
        """
## Um nó recorrente como sistema dinâmico

Um nó `SimpleRNN` com pesos definidos à mão: peso de entrada w = 1, bias 0 e o peso recorrente
w_h = ρ. A entrada é um único pulso, x₀ = 1, seguido de zeros. Um nó de alimentação direta
daria f(0) = 0 a partir do segundo passo; o estado do nó recorrente leva o pulso adiante.
Mude os valores de ρ.
""",
    ),
    (
        "params",
        """
STEPS = 40
CASES = [("tanh", 0.9), ("tanh", 1.5), ("tanh", -1.5), ("identity", 1.1)]
""",
    ),
    (
        "code",
        """
pulse = np.zeros((1, STEPS, 1))   # «(sequences, steps, features) || (sequências, passos, atributos)»
pulse[0, 0, 0] = 1.0
fig, ax = plt.subplots(figsize=(8, 3.8))
for activation, rho in CASES:
    node = mlplab.Sequential([mlplab.SimpleRNN(1, activation, return_sequences=True)],
                             n_inputs=1, seed=0)
    weights = dict(node.named_parameters())
    weights["0.W"][:] = 1.0
    weights["0.W_h"][:] = rho
    weights["0.b"][:] = 0.0
    h = node.forward(pulse)[0, :, 0]
    ax.plot(h, ".-", label=f"{activation}, ρ = {rho}")
    print(f"{activation:>8}, ρ = {rho:+}: h₁…h₆ = {np.round(h[:6], 3)}, h_{STEPS} = {h[-1]:.3g}")
ax.axhline(0, color="0.7", lw=0.8)
ax.set_xlabel("«step t || passo t»")
ax.set_ylabel("hₜ")
ax.set_title("«A pulse at t = 0, then zeros || Um pulso em t = 0, depois zeros»")
ax.set_ylim(-1.5, 3)
ax.legend()
plt.show()
""",
    ),
    (
        "md",
        """
With ρ = 0.9 the memory fades (the state decays toward 0); with ρ = 1.5 the node settles
on a non-zero state and remembers the pulse for ever; with ρ = −1.5 it oscillates; without
a bounded activation (identity) and ρ > 1 it diverges.

## Predicting a vital-sign-like series

A periodic signal with noise, cut by `mlplab.make_windows` into windows of `WINDOW` steps,
each with the value that follows it as its target. The first 70 % of the windows train,
the last 30 % test. Each recurrent cell reads a window step by step; the baseline "naive"
forecast repeats the last value.
""",
        """
Com ρ = 0,9 a memória se apaga (o estado decai para 0); com ρ = 1,5 o nó se estabiliza num
estado diferente de zero e se lembra do pulso para sempre; com ρ = −1,5 ele oscila; sem uma
ativação limitada (identidade) e com ρ > 1 ele diverge.

## Prevendo uma série parecida com um sinal vital

Um sinal periódico com ruído, cortado por `mlplab.make_windows` em janelas de `WINDOW`
passos, cada uma com o valor seguinte como alvo. Os primeiros 70 % das janelas treinam, os
últimos 30 % testam. Cada célula recorrente lê uma janela passo a passo; a previsão
"ingênua" de referência repete o último valor.
""",
    ),
    (
        "params",
        """
WINDOW = 20
UNITS = 16
EPOCHS = 60
SEED = 0
""",
    ),
    (
        "code",
        """
rng = np.random.default_rng(SEED)
t = np.arange(700)
series = np.sin(2 * np.pi * t / 25) + 0.5 * np.sin(2 * np.pi * t / 7) + 0.05 * rng.standard_normal(t.size)
X, y = mlplab.make_windows(series, window=WINDOW)   # X: «(windows, steps, 1) || (janelas, passos, 1)»
X = X[:, :, 0]                                      # «one feature per step: 2-D is enough || um atributo por passo: 2-D basta»
n_train = int(0.7 * len(X))
X_train, y_train, X_test, y_test = X[:n_train], y[:n_train], X[n_train:], y[n_train:]

test_mse = {"«naive (last value) || ingênua (último valor)»": np.mean((X_test[:, -1] - y_test) ** 2)}
models = {}
for cell in ["rnn", "lstm", "gru"]:
    models[cell] = mlplab.RNNRegressor(cell=cell, units=UNITS, max_iter=EPOCHS, random_state=SEED,
                                       convergence_warning=False).fit(X_train, y_train)
    test_mse[cell] = np.mean((models[cell].predict(X_test) - y_test) ** 2)
for name, value in test_mse.items():
    print(f"{name:>28}: «test MSE || EQM de teste» {value:.4f}")
""",
    ),
    (
        "code",
        """
fig, ax = plt.subplots(figsize=(10, 3.5))
shown = slice(0, 100)
ax.plot(y_test[shown], "k", lw=2, label="«the series || a série»")
for cell, model in models.items():
    ax.plot(model.predict(X_test[shown]), "--", label=cell)
ax.set_xlabel("«test window || janela de teste»")
ax.set_title("«One step ahead, on windows the networks never saw || Um passo à frente, em janelas que as redes nunca viram»")
ax.legend(ncol=4)
plt.show()
""",
    ),
    (
        "md",
        """
## The gradient through time

Backpropagation through time applies the chain rule step by step, from the last step T back
to the first: ‖∂J/∂hₜ‖ shows how much of the cost's gradient reaches step t, and so how much
the prediction can learn from it. Through a `SimpleRNN` each step multiplies it by w_h and
f′, as each layer did in §3. After one backward pass every recurrent layer keeps those
norms in `hidden_grad_norms`. For the trained networks, over a window of 20 steps:
""",
        """
## O gradiente através do tempo

A retropropagação através do tempo aplica a regra da cadeia passo a passo, do último passo T
de volta ao primeiro: ‖∂J/∂hₜ‖ mostra quanto do gradiente do custo chega ao passo t e, assim,
quanto a previsão pode aprender com ele. Numa `SimpleRNN`, cada passo o multiplica por w_h e
f′, como cada camada fazia na §3. Depois de uma retropropagação, cada camada recorrente guarda
essas normas em `hidden_grad_norms`. Para as redes treinadas, numa janela de 20 passos:
""",
    ),
    (
        "code",
        """
fig, ax = plt.subplots(figsize=(7, 3.5))
for cell, model in models.items():
    net = model.net_
    net.loss_and_grad(X_train[:, :, None], y_train[:, None], loss="mse")
    ax.semilogy(np.arange(1, WINDOW + 1), net.layers[0].hidden_grad_norms, "o-", label=cell)
ax.set_xlabel("«step t of the window || passo t da janela»")
ax.set_ylabel("‖∂J/∂hₜ‖")
ax.legend()
plt.show()
""",
    ),
    (
        "md",
        """
Over 20 steps nothing vanishes: the norms stay within a factor of about ten. Over long
sequences it is another story. Below, untrained networks read sequences of `LONG` random
steps: in all three the gradient that reaches the first step is a tiny fraction of the one
at the last step, and the doctor (`mlplab.diagnose`) reports it. Memory over long spans has
to be *learned*: the gates of `LSTM` and `GRU` can learn to pass the gradient on unchanged
(a forget gate near 1), while a `SimpleRNN` has only its one multiplicative path.
""",
        """
Em 20 passos nada se dissipa: as normas ficam dentro de um fator de cerca de dez. Em
sequências longas a história é outra. Abaixo, redes não treinadas leem sequências de `LONG`
passos aleatórios: nas três o gradiente que chega ao primeiro passo é uma fração minúscula do
que há no último passo, e o médico (`mlplab.diagnose`) o relata. A memória de longo alcance
precisa ser *aprendida*: os portões da `LSTM` e da `GRU` podem aprender a passar o gradiente
adiante sem mudança (um portão de esquecimento perto de 1), enquanto uma `SimpleRNN` tem
apenas o seu único caminho multiplicativo.
""",
    ),
    (
        "params",
        """
LONG = 100
""",
    ),
    (
        "code",
        """
X_long = rng.standard_normal((64, LONG, 1))
y_long = rng.standard_normal((64, 1))
long_ratio, long_findings = {}, {}
for name, layer in [("rnn", mlplab.SimpleRNN(16)), ("lstm", mlplab.LSTM(16)), ("gru", mlplab.GRU(16))]:
    net = mlplab.Sequential([layer, mlplab.Dense(1)], n_inputs=1, seed=SEED)
    report = mlplab.diagnose(net, X_long, y_long)
    norms = net.layers[0].hidden_grad_norms
    long_ratio[name], long_findings[name] = norms[0] / norms[-1], sorted(report.kinds())
    print(f"{name:>4}: ‖∂J/∂h₁‖ / ‖∂J/∂h_{LONG}‖ = {long_ratio[name]:.1e}   «doctor: || médico:» {long_findings[name]}")
""",
    ),
    (
        "md",
        """
**Try it.** Add noise (`0.3` instead of `0.05`) and compare with the naive forecast. Give
the network less to remember with `WINDOW = 5`, or more with `WINDOW = 50`. A feed-forward
network given the same window (`mlplab.MLPRegressor().fit(X_train, y_train)`) predicts well
too: the window is its memory, of fixed length; a recurrent network's state summarises
every step it has read.
""",
        """
**Experimente.** Aumente o ruído (`0.3` em vez de `0.05`) e compare com a previsão ingênua.
Dê à rede menos para lembrar com `WINDOW = 5`, ou mais com `WINDOW = 50`. Uma rede de
alimentação direta que recebe a mesma janela (`mlplab.MLPRegressor().fit(X_train, y_train)`)
também prevê bem: a janela é a memória dela, de tamanho fixo; o estado de uma rede recorrente
resume todos os passos que ela leu.
""",
    ),
]
