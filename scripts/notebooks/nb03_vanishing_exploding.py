"""Lecture §3-§4: the vanishing and the exploding gradient, diagnosed with the doctor."""

FILES = ("03-vanishing-exploding-gradient", "03-dissipacao-explosao-do-gradiente")

TITLE = (
    """
# §3–§4 The vanishing and the exploding gradient

Backpropagation finds the gradient of the cost J with respect to each weight by the
**chain rule**. For a weight of an early layer the chain has one factor per layer between
it and the output: an activation derivative f′(g) and a weight for each. When those factors
are below 1 the product shrinks exponentially with depth (**vanishing gradient**, §3); when
they are above 1 it grows exponentially (**exploding gradient**, §4).

This notebook computes the lecture's worked example by hand and with mlplab, then measures
both problems in deep networks with mlplab's **gradient doctor** (`mlplab.diagnose`) and
the `mlplab.GradientFlow` callback.
""",
    """
# §3–§4 A dissipação e a explosão do gradiente

A retropropagação encontra o gradiente do custo J em relação a cada peso pela **regra da
cadeia**. Para um peso de uma camada inicial, a cadeia tem um fator por camada entre ele e a
saída: uma derivada de ativação f′(g) e um peso para cada uma. Quando esses fatores são
menores do que 1, o produto diminui exponencialmente com a profundidade (**dissipação, ou
desaparecimento, do gradiente**, §3); quando são maiores do que 1, ele cresce
exponencialmente (**explosão do gradiente**, §4).

Este notebook calcula o exemplo resolvido da aula à mão e com o mlplab e depois mede os dois
problemas em redes profundas com o **médico do gradiente** do mlplab (`mlplab.diagnose`) e o
callback `mlplab.GradientFlow`.
""",
)

CELLS = [
    (
        "md",
        """
## The lecture's example: two logistic neurons

g₁ = x w₁, z₁ = f(g₁), g₂ = z₁ w₂, ŷ = f(g₂), with f the logistic and the cost
J = (1/N) Σ (ŷ − y)². By the chain rule

  ∂J/∂w₂ = ∂J/∂ŷ · ∂ŷ/∂g₂ · ∂g₂/∂w₂ = 2(ŷ − y) · f′(g₂) · z₁

  ∂J/∂w₁ = ∂J/∂ŷ · ∂ŷ/∂g₂ · ∂g₂/∂z₁ · ∂z₁/∂g₁ · ∂g₁/∂w₁ = 2(ŷ − y) · f′(g₂) · w₂ · f′(g₁) · x

The gradient of the first weight carries **two** derivatives of the logistic, each at most
0.25. Below, the same numbers by hand and from mlplab's backpropagation (a network of two
one-node layers without bias).
""",
        """
## O exemplo da aula: dois neurônios logísticos

g₁ = x w₁, z₁ = f(g₁), g₂ = z₁ w₂, ŷ = f(g₂), com f a logística e o custo
J = (1/N) Σ (ŷ − y)². Pela regra da cadeia

  ∂J/∂w₂ = ∂J/∂ŷ · ∂ŷ/∂g₂ · ∂g₂/∂w₂ = 2(ŷ − y) · f′(g₂) · z₁

  ∂J/∂w₁ = ∂J/∂ŷ · ∂ŷ/∂g₂ · ∂g₂/∂z₁ · ∂z₁/∂g₁ · ∂g₁/∂w₁ = 2(ŷ − y) · f′(g₂) · w₂ · f′(g₁) · x

O gradiente do primeiro peso carrega **duas** derivadas da logística, cada uma no máximo
0,25. Abaixo, os mesmos números à mão e pela retropropagação do mlplab (uma rede de duas
camadas de um nó, sem bias).
""",
    ),
    (
        "params",
        """
x, y = 1.0, 0.0
w1, w2 = 0.5, -1.5
""",
    ),
    (
        "code",
        """
def f(g):
    return 1 / (1 + np.exp(-g))

g1 = x * w1
z1 = f(g1)
g2 = z1 * w2
y_hat = f(g2)
dJ_dyhat = 2 * (y_hat - y)
dJ_dw2 = dJ_dyhat * y_hat * (1 - y_hat) * z1
dJ_dw1 = dJ_dyhat * y_hat * (1 - y_hat) * w2 * z1 * (1 - z1) * x
print(f"«by hand: || à mão:   »   ∂J/∂w1 = {dJ_dw1:+.6f}   ∂J/∂w2 = {dJ_dw2:+.6f}")

net = mlplab.Sequential(
    [mlplab.Dense(1, "logistic"), mlplab.Dense(1, "logistic")], n_inputs=1, seed=0
)
net.layers[0].W[:] = w1
net.layers[1].W[:] = w2
J, grad = net.loss_and_grad(np.array([[x]]), np.array([[y]]), loss="mse")
grads = dict(net.named_gradients())
print(f"mlplab:     ∂J/∂w1 = {grads['0.W'][0, 0]:+.6f}   ∂J/∂w2 = {grads['1.W'][0, 0]:+.6f}")
""",
    ),
    (
        "md",
        """
## A deep logistic network: the gradient vanishes

Now M hidden layers of logistic nodes (LeCun's initialisation, weights with variance
1/fan-in) and one backward pass on a small regression problem. `mlplab.diagnose` runs that
pass and reports each layer: the norm of the weight gradient ‖∂J/∂W‖, the mean |f′(g)| of
its nodes (the chain-rule factor each layer adds) and a finding with the lecture's remedy.

A network, an estimator and the doctor's report that end a cell show themselves: the
network as the lecture draws it (a column of nodes per layer, the bias input +1, each weight
an edge, blue when positive and orange when negative, as wide as its size), the report as a
table (open "per layer" for the statistics).
""",
        """
## Uma rede logística profunda: o gradiente se dissipa

Agora, M camadas ocultas de nós logísticos (inicialização de LeCun, pesos com variância
1/fan-in) e uma retropropagação num pequeno problema de regressão. `mlplab.diagnose` faz essa
passagem e relata cada camada: a norma do gradiente dos pesos ‖∂J/∂W‖, a média de |f′(g)| dos
seus nós (o fator que cada camada acrescenta à regra da cadeia) e um diagnóstico com o remédio
da aula.

Uma rede, um estimador e o laudo do médico que terminam uma célula se mostram: a rede como a
aula a desenha (uma coluna de nós por camada, a entrada de viés +1, cada peso uma aresta, azul
quando positivo e laranja quando negativo, tão larga quanto o seu tamanho), o laudo como uma
tabela (abra "por camada" para as estatísticas).
""",
    ),
    (
        "params",
        """
DEPTH = 10          # «hidden layers (M) || camadas ocultas (M)»
WIDTH = 32          # «nodes per hidden layer || nós por camada oculta»
ACTIVATION = "logistic"
INIT = "lecun_normal"
SEED = 0
""",
    ),
    (
        "code",
        """
rng = np.random.default_rng(SEED)
X = rng.standard_normal((256, 8))
Y = np.sin(X[:, :1])


def deep_net(activation, init, depth=DEPTH):
    layers = [mlplab.Dense(WIDTH, activation) for _ in range(depth)] + [mlplab.Dense(1)]
    return mlplab.Sequential(layers, n_inputs=X.shape[1], init=init, seed=SEED)


net = deep_net(ACTIVATION, INIT)
net   # «large layers are summarised: ⋮ stands for the nodes not drawn || camadas grandes são resumidas: ⋮ representa os nós não desenhados»
""",
    ),
    (
        "code",
        """
report = mlplab.diagnose(net, X, Y)
report   # «print(report) gives the same as text || print(report) dá o mesmo em texto»
""",
    ),
    (
        "code",
        """
norms = np.array([s["grad_norm_W"] for s in report.stats])
vanishing_ratio = norms[0] / norms[-1]
print(f"‖∂J/∂W‖ «first layer / output layer || primeira camada / camada de saída» = {vanishing_ratio:.1e}")

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.semilogy(np.arange(1, len(norms) + 1), norms, "o-")
ax.set_xlabel("«weight layer (1 = next to the input) || camada de pesos (1 = junto à entrada)»")
ax.set_ylabel("‖∂J/∂W‖")
ax.set_title(f"{ACTIVATION}, M = {DEPTH}: «the gradient shrinks toward the input || o gradiente encolhe em direção à entrada»")
plt.show()
""",
    ),
    (
        "md",
        """
The ratio between the first and the last layer is tiny: with this initialisation the
first layer would need a step some hundred thousand times larger to learn as fast as the
output layer. Each logistic layer multiplies the gradient by about its mean |f′| (≈ 0.23, near the
0.25 bound) times its weights.

## The gradient against depth

The lecture says the gradient of the first layer shrinks *exponentially* with M: on a log
scale, a straight line. With the logistic each layer contributes a factor of at most 0.25
from f′; the dashed line is 0.25ᴹ, scaled to start with the measured M = 1. Compare with
tanh (f′ ≤ 1) and ReLU with He's initialisation.
""",
        """
A razão entre a primeira e a última camada é minúscula: com esta inicialização, a primeira
camada precisaria de um passo centenas de milhares de vezes maior para aprender tão rápido
quanto a camada de saída. Cada camada logística multiplica o gradiente por cerca da sua média
de |f′| (≈ 0,23, perto do limite de 0,25) vezes os seus pesos.

## O gradiente contra a profundidade

A aula diz que o gradiente da primeira camada diminui *exponencialmente* com M: em escala
logarítmica, uma reta. Com a logística, cada camada contribui com um fator de no máximo 0,25
vindo de f′; a linha tracejada é 0,25ᴹ, escalada para começar no valor medido em M = 1.
Compare com a tanh (f′ ≤ 1) e com a ReLU com a inicialização de He.
""",
    ),
    (
        "code",
        """
depths = range(1, 16)
series = {"logistic": ("logistic", "lecun_normal"), "tanh": ("tanh", "lecun_normal"),
          "ReLU + He": ("relu", "he_normal")}
first = {}
for label, (act, init) in series.items():
    first[label] = [
        mlplab.diagnose(deep_net(act, init, depth=m), X, Y).stats[0]["grad_norm_W"]
        for m in depths
    ]

fig, ax = plt.subplots(figsize=(7, 3.8))
for label, values in first.items():
    ax.semilogy(depths, values, "o-", label=label)
d = np.array(depths)
ax.semilogy(d, first["logistic"][0] * 0.25 ** (d - 1), "k--", label="0.25ᴹ")
ax.set_xlabel("«hidden layers M || camadas ocultas M»")
ax.set_ylabel("‖∂J/∂W₁‖")
ax.set_title("«First layer's gradient against depth || Gradiente da primeira camada contra a profundidade»")
ax.legend()
plt.show()
""",
    ),
    (
        "md",
        """
## While training: `GradientFlow` and the doctor's warnings

`mlplab.GradientFlow()` is a callback that records, per epoch and layer, the gradient norms,
mean |f′| and more (`flow.history`); `flow.plot()` draws the norms, one line per layer.
`fit` also watches the first epochs and *warns* when the gradient vanishes or explodes;
here the warnings are caught and printed, one line each.
""",
        """
## Durante o treinamento: `GradientFlow` e os avisos do médico

`mlplab.GradientFlow()` é um callback que registra, por época e camada, as normas do
gradiente, a média de |f′| e mais (`flow.history`); `flow.plot()` desenha as normas, uma
linha por camada. O `fit` também observa as primeiras épocas e *avisa* quando o gradiente
desaparece ou explode; aqui os avisos são capturados e impressos, uma linha cada.
""",
    ),
    (
        "params",
        """
EPOCHS = 30
LEARNING_RATE = 0.1
""",
    ),
    (
        "code",
        """
import warnings

net = deep_net(ACTIVATION, INIT)
flow = mlplab.GradientFlow()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    net.fit(X, Y, loss="mse", optimizer="sgd", learning_rate=LEARNING_RATE, epochs=EPOCHS,
            batch_size=32, callbacks=[flow], seed=SEED)
for w in caught[:3]:
    print(str(w.message)[:150], "…")
print(f"(«{len(caught)} warnings in all || {len(caught)} avisos ao todo»)")

ax = flow.plot()   # «the data: flow.history["grad_norm_W"] || os dados: flow.history["grad_norm_W"]»
ax.set_title("«Per-layer gradient norm while training (GradientFlow) || Norma do gradiente por camada no treino (GradientFlow)»")
plt.show()
""",
    ),
    (
        "md",
        """
## §4 The exploding gradient

With ReLU, f′(g) = 1 wherever the node is active, so the activation no longer shrinks the
chain; what remains are the **weights**: ∂g₃/∂z₂ = w₃, ∂g₂/∂z₁ = w₂. Take the lecture's
chain of M single nodes, all weights equal to w, input x = 1 and target y = 0. Then
ŷ = wᴹ, and the chain rule gives ∂J/∂w₁ = ∂J/∂ŷ · wᴹ⁻¹ = 2wᴹ · wᴹ⁻¹ = 2w²ᴹ⁻¹: exponential in
the depth. With w > 1 it explodes; with w < 1 it vanishes, even with ReLU.
""",
        """
## §4 A explosão do gradiente

Com a ReLU, f′(g) = 1 onde o nó está ativo, então a ativação não encolhe mais a cadeia; o que
resta são os **pesos**: ∂g₃/∂z₂ = w₃, ∂g₂/∂z₁ = w₂. Tome a cadeia de M nós únicos da aula,
todos os pesos iguais a w, entrada x = 1 e alvo y = 0. Então ŷ = wᴹ, e a regra da cadeia dá
∂J/∂w₁ = ∂J/∂ŷ · wᴹ⁻¹ = 2wᴹ · wᴹ⁻¹ = 2w²ᴹ⁻¹: exponencial na profundidade. Com w > 1 ele
explode; com w < 1 ele se dissipa, mesmo com a ReLU.
""",
    ),
    (
        "params",
        """
CHAIN_DEPTH = 20
WEIGHTS = [0.5, 1.0, 1.5]
""",
    ),
    (
        "code",
        """
depths = np.arange(1, CHAIN_DEPTH + 1)
first_weight_gradient = {}
fig, ax = plt.subplots(figsize=(7, 3.5))
for w in WEIGHTS:
    first_weight_gradient[w] = []
    for m in depths:
        chain = mlplab.Sequential(
            [mlplab.Dense(1, "relu", init={"name": "constant", "value": w}) for _ in range(m)],
            n_inputs=1, seed=0,
        )
        chain.loss_and_grad(np.array([[1.0]]), np.array([[0.0]]), loss="mse")
        first_weight_gradient[w].append(abs(dict(chain.named_gradients())["0.W"][0, 0]))
    ax.semilogy(depths, first_weight_gradient[w], "o-", label=f"w = {w}")
    print(f"w = {w}, M = {CHAIN_DEPTH}: |∂J/∂w₁| = {first_weight_gradient[w][-1]:.3g}   2w^(2M−1) = {2 * w ** (2 * CHAIN_DEPTH - 1):.3g}")
ax.set_xlabel("«nodes in the chain M || nós na cadeia M»")
ax.set_ylabel("|∂J/∂w₁|")
ax.set_title("«A chain of ReLU nodes: the weights multiply || Uma cadeia de nós ReLU: os pesos se multiplicam»")
ax.legend()
plt.show()
""",
    ),
    (
        "md",
        """
The same in a wide network: ReLU layers whose weights are drawn too large (a normal
distribution with standard deviation 1 instead of He's √(2/fan-in)). The doctor finds the
exploding gradient and names the remedies; the next notebook applies them.
""",
        """
O mesmo numa rede larga: camadas ReLU cujos pesos são sorteados grandes demais (uma normal com
desvio padrão 1 em vez do √(2/fan-in) de He). O médico encontra a explosão do gradiente e
indica os remédios; o próximo notebook os aplica.
""",
    ),
    (
        "code",
        """
too_large = {"name": "normal", "scale": 1.0}
report = mlplab.diagnose(deep_net("relu", too_large, depth=6), X, Y)
exploding_found = "exploding" in report.kinds()
report
""",
    ),
]
