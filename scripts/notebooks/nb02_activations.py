"""Lecture §2: activation functions and their derivatives."""

FILES = ("02-activations", "02-ativacoes")

TITLE = (
    """
# §2 Activation functions and their derivatives

A node j of a multilayer perceptron computes the **weighted sum** of its inputs, the bias
input x₀ = 1 included,

  g = Σᵢ wᵢⱼ xᵢ (i = 0, 1, …, K) = wᵀx

(mlplab writes it `z = x W + b`, with `b` the bias weight w₀ⱼ), and then applies an
**activation function** f to give its output yⱼ = f(g).

Training by gradient descent needs the **derivative** f′(g): by the chain rule it is a factor
of every gradient that passes through the node. This notebook draws each activation of the
lecture beside its derivative, checks the derivatives numerically and looks at the number
that matters for the next sections: the largest value of f′.
""",
    """
# §2 Funções de ativação e suas derivadas

Um nó j de um perceptron de múltiplas camadas calcula a **soma ponderada** de suas entradas,
incluindo a entrada de bias x₀ = 1,

  g = Σᵢ wᵢⱼ xᵢ (i = 0, 1, …, K) = wᵀx

(no mlplab, `z = x W + b`, onde `b` é o peso de bias w₀ⱼ), e em seguida aplica uma
**função de ativação** f para gerar sua saída yⱼ = f(g).

O treinamento pelo gradiente descendente precisa da **derivada** f′(g): pela regra da cadeia,
ela é um fator de todo gradiente que passa pelo nó. Este notebook desenha cada ativação da
aula ao lado de sua derivada, confere as derivadas numericamente e examina o número que
importa para as próximas seções: o maior valor de f′.
""",
)

CELLS = [
    (
        "md",
        """
## Every activation beside its derivative

`mlplab.get_activation(name)` gives an activation with `forward(g)` (f) and
`derivative(g, y)` (f′, which may reuse the output y = f(g)). Change the list or the
interval and run the cell again.
""",
        """
## Cada ativação ao lado de sua derivada

`mlplab.get_activation(nome)` devolve uma ativação com `forward(g)` (f) e
`derivative(g, y)` (f′, que pode reaproveitar a saída y = f(g)). Mude a lista ou o
intervalo e rode a célula de novo.
""",
    ),
    (
        "params",
        """
NAMES = ["step", "logistic", "tanh", "relu", "leaky_relu", "gelu", "silu", "softplus", "elu"]
G_MIN, G_MAX = -5.0, 5.0
""",
    ),
    (
        "code",
        """
g = np.linspace(G_MIN, G_MAX, 1001)
fig, axes = plt.subplots(2, (len(NAMES) + 1) // 2, figsize=(13, 5.5), sharex=True)
for ax, name in zip(axes.flat, NAMES):
    f = mlplab.get_activation(name)
    y = f.forward(g)
    if name == "step":  # «f' = 0 except at 0, where it is undefined || f' = 0, exceto em 0, onde é indefinida»
        dy = np.where(g == 0, np.nan, 0.0)
    else:
        dy = f.derivative(g, y)
    ax.plot(g, y, lw=2, label="f(g)")
    ax.plot(g, dy, "--", lw=2, label="f′(g)")
    ax.axhline(0, color="0.7", lw=0.8)
    ax.set_title(name)
    ax.set_xlabel("g")
for ax in axes.flat[len(NAMES):]:
    ax.axis("off")
axes.flat[0].legend()
fig.suptitle("«Activation functions (solid) and their derivatives (dashed) || Funções de ativação (contínua) e suas derivadas (tracejada)»")
fig.tight_layout()
plt.show()
""",
    ),
    (
        "md",
        """
The **step** function is not used for training: its derivative is 0 everywhere except at
g = 0, where it is undefined, so no gradient passes through it. The **logistic** (sigmoid)
and the **hyperbolic tangent** are its smooth versions; the derivatives of **ReLU** and its
variants (leaky ReLU, GELU, SiLU, softplus, ELU) tend to 1 for large g (ReLU's is exactly 1
for every g > 0).

## Checking the derivatives with finite differences

A derivative can be checked without calculus: (f(g + h) − f(g − h)) / 2h tends to f′(g) as
h → 0. The largest difference from mlplab's f′ should be tiny (ReLU-like functions have a
kink at 0, where the two sides differ: the check leaves a small neighbourhood of 0 out).
""",
        """
A função **degrau** não é usada no treinamento: sua derivada é 0 em todos os pontos, exceto em
g = 0, onde é indefinida, então nenhum gradiente passa por ela. A **logística** (sigmoide) e a
**tangente hiperbólica** são suas versões suavizadas; as derivadas da **ReLU** e de suas
variantes (Leaky ReLU, GELU, SiLU, softplus, ELU) tendem a 1 para g grande (a da ReLU é
exatamente 1 para todo g > 0).

## Conferindo as derivadas com diferenças finitas

Uma derivada pode ser conferida sem cálculo: (f(g + h) − f(g − h)) / 2h tende a f′(g) quando
h → 0. A maior diferença para a f′ do mlplab deve ser minúscula (as funções do tipo ReLU têm
um bico em 0, onde os dois lados diferem: a conferência deixa de fora uma pequena vizinhança
de 0).
""",
    ),
    (
        "code",
        """
h = 1e-6
away_from_0 = np.abs(g) > 1e-3
worst = {}
for name in NAMES:
    if name == "step":
        continue
    f = mlplab.get_activation(name)
    numeric = (f.forward(g + h) - f.forward(g - h)) / (2 * h)
    exact = f.derivative(g, f.forward(g))
    worst[name] = np.max(np.abs(numeric - exact)[away_from_0])
    print(f"{name:>10}: «largest |finite difference − f′| || maior |diferença finita − f′|» = {worst[name]:.1e}")
""",
    ),
    (
        "md",
        """
## How large can f′ be?

This is the number behind the next notebook. The lecture: the logistic's derivative,
y(1 − y), is **at most 0.25**, reached at g = 0; the tanh's, 1 − tanh²(g), is **at most 1**,
also at g = 0. Both tend to 0 when |g| grows (the node *saturates*).
""",
        """
## Quão grande pode ser f′?

Este é o número por trás do próximo notebook. Na aula: a derivada da logística, y(1 − y), é
**no máximo 0,25**, atingida em g = 0; a da tanh, 1 − tanh²(g), é **no máximo 1**, também em
g = 0. As duas tendem a 0 quando |g| cresce (o nó *satura*).
""",
    ),
    (
        "code",
        """
logistic = mlplab.get_activation("logistic")
tanh = mlplab.get_activation("tanh")
logistic_max = logistic.derivative(g, logistic.forward(g)).max()
tanh_max = tanh.derivative(g, tanh.forward(g)).max()
print("«largest logistic f′: || maior f′ da logística:»", logistic_max, "«at g = || em g =»", g[np.argmax(logistic.derivative(g, logistic.forward(g)))])
print("«largest tanh f′:     || maior f′ da tanh:     »", tanh_max)
for g0 in [0.0, 2.0, 5.0, 10.0]:
    y0 = logistic.forward(np.array([g0]))
    print(f"g = {g0:>4}: «logistic y || logística y» = {y0[0]:.5f}, f′ = {logistic.derivative(np.array([g0]), y0)[0]:.5f}")
""",
    ),
    (
        "md",
        """
## ReLU at g = 0, and the dying ReLU

ReLU's derivative is 0 for g < 0 and 1 for g > 0; at g = 0 it is undefined, and a library
has to pick a value. mlplab picks the left derivative, f′(0) = 0 (as PyTorch and
scikit-learn do). A ReLU node whose g stays negative for every input outputs 0, receives
a zero gradient and never updates again: the **dying ReLU**. The variants keep a slope for
g < 0; leaky ReLU's slope is a parameter (try `0.3`).
""",
        """
## A ReLU em g = 0 e a ReLU agonizante

A derivada da ReLU é 0 para g < 0 e 1 para g > 0; em g = 0 ela é indefinida, e uma biblioteca
precisa escolher um valor. O mlplab escolhe a derivada à esquerda, f′(0) = 0 (como o PyTorch e
o scikit-learn). Um nó ReLU cujo g fica negativo para toda entrada produz 0, recebe gradiente
zero e nunca mais é atualizado: a **ReLU agonizante**. As variantes mantêm uma inclinação para
g < 0; a da Leaky ReLU é um parâmetro (experimente `0.3`).
""",
    ),
    (
        "params",
        """
SLOPE = 0.1
""",
    ),
    (
        "code",
        """
relu = mlplab.get_activation("relu")
leaky = mlplab.get_activation({"name": "leaky_relu", "slope": SLOPE})
g3 = np.array([-2.0, 0.0, 2.0])
print("g             ", g3)
print("ReLU f′(g)    ", relu.derivative(g3, relu.forward(g3)))
print("leaky f′(g)   ", leaky.derivative(g3, leaky.forward(g3)))

fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(g, relu.forward(g), lw=2, label="ReLU")
ax.plot(g, leaky.forward(g), "--", lw=2, label=f"leaky ReLU, «slope || inclinação» {SLOPE}")
ax.set_xlabel("g")
ax.set_ylabel("f(g)")
ax.legend()
plt.show()
""",
    ),
    (
        "md",
        """
**Try it.** Add `"prelu"` to `NAMES` (its slope is learned during training), or move
`G_MIN, G_MAX` to `-20, 20` and watch where the logistic and tanh derivatives are zero
to the eye: a node whose g lands there learns nothing.
""",
        """
**Experimente.** Acrescente `"prelu"` a `NAMES` (a inclinação dela é aprendida no
treinamento), ou mude `G_MIN, G_MAX` para `-20, 20` e veja onde as derivadas da logística e
da tanh são zero a olho nu: um nó cujo g cai ali não aprende nada.
""",
    ),
]
