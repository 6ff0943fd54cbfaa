"""Lecture §7: universal function approximation (classification and regression)."""

FILES = ("07-universal-approximation", "07-aproximacao-universal")

TITLE = (
    """
# §7 Universal function approximation

A network with one hidden layer of two nodes computes y = f(wᵀ f(Wᵀx)): its output is a
**nesting of non-linear activations**. Such nestings can approximate highly non-linear
functions, and the capacity grows with the number of weights (the degrees of freedom), as
a polynomial's grows with its degree. One hidden layer with enough nodes approximates
almost any continuous function; the challenge is to find the right architecture.

This notebook solves the lecture's examples with mlplab's scikit-learn drop-ins: the
classifications AND, XOR and the concentric circles with `MLPClassifier`, and the
regressions x², 1/x and sin x with `MLPRegressor`, all with logistic nodes and L-BFGS.
""",
    """
# §7 Aproximação universal de funções

Uma rede com uma camada oculta de dois nós calcula y = f(wᵀ f(Wᵀx)): sua saída é um
**aninhamento de ativações não lineares**. Esses aninhamentos podem aproximar funções
altamente não lineares, e a capacidade cresce com o número de pesos (os graus de liberdade),
como a de um polinômio cresce com o seu grau. Uma camada oculta com nós suficientes aproxima
praticamente qualquer função contínua; o desafio é encontrar a arquitetura certa.

Este notebook resolve os exemplos da aula com os substitutos do scikit-learn no mlplab: as
classificações AND, XOR e os círculos concêntricos com `MLPClassifier`, e as regressões x²,
1/x e sen x com `MLPRegressor`, todas com nós logísticos e L-BFGS.
""",
)

CELLS = [
    (
        "md",
        """
## Classification: AND, XOR and the circles

Noisy inputs around the corners of the unit square (AND, XOR) and two concentric circles.
The lecture's networks: AND needs no hidden layer (1 node in all), XOR one hidden layer of
2 nodes (3 nodes), the circles one hidden layer of 4 nodes (5 nodes). A small network can
end in a poor local minimum, so each is trained from `N_STARTS` initialisations
(`random_state`) and the one with the lowest training loss is kept.
""",
        """
## Classificação: AND, XOR e os círculos

Entradas com ruído em torno dos cantos do quadrado unitário (AND, XOR) e dois círculos
concêntricos. As redes da aula: o AND não precisa de camada oculta (1 nó ao todo), o XOR de
uma camada oculta de 2 nós (3 nós), os círculos de uma camada oculta de 4 nós (5 nós). Uma
rede pequena pode parar num mínimo local ruim, então cada uma é treinada a partir de
`N_STARTS` inicializações (`random_state`) e fica a de menor perda de treino.
""",
    ),
    (
        "params",
        """
N_SAMPLES = 400
NOISE = 0.1
N_STARTS = 10
ARCHITECTURES = {"AND": (), "XOR": (2,), "«circles || círculos»": (4,)}
""",
    ),
    (
        "code",
        """
from mlplab import MLPClassifier

problems = {
    "AND": mlplab.datasets.logic_gate("and", N_SAMPLES, noise=NOISE),
    "XOR": mlplab.datasets.logic_gate("xor", N_SAMPLES, noise=NOISE),
    "«circles || círculos»": mlplab.datasets.circles(N_SAMPLES, noise=NOISE),
}


def best_of_starts(hidden, X, y):
    fits = [MLPClassifier(hidden_layer_sizes=hidden, activation="logistic", solver="lbfgs",
                          max_iter=1000, random_state=seed).fit(X, y) for seed in range(N_STARTS)]
    return min(fits, key=lambda clf: clf.loss_)


classifiers = {name: best_of_starts(ARCHITECTURES[name], *data) for name, data in problems.items()}
accuracy = {name: classifiers[name].score(*problems[name]) for name in problems}
for name, clf in classifiers.items():
    nodes = sum(ARCHITECTURES[name]) + 1
    print(f"{name:>9}: «hidden layers || camadas ocultas» {ARCHITECTURES[name]}, {nodes} «node(s) || nó(s)», "
          f"«training accuracy || acurácia de treino» {accuracy[name]:.1%}")
""",
    ),
    (
        "code",
        """
def draw_regions(ax, clf, X, y, title):
    x1, x2 = np.meshgrid(np.linspace(X[:, 0].min() - 0.3, X[:, 0].max() + 0.3, 200),
                         np.linspace(X[:, 1].min() - 0.3, X[:, 1].max() + 0.3, 200))
    p = clf.predict_proba(np.c_[x1.ravel(), x2.ravel()])[:, 1].reshape(x1.shape)
    ax.contourf(x1, x2, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.contour(x1, x2, p, levels=[0.5], colors="k", linewidths=1.5)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", s=8, edgecolors="k", linewidths=0.3)
    if clf.coefs_[0].shape[1] <= 4 and len(clf.coefs_) > 1:   # «each hidden node's line g = 0 || a reta g = 0 de cada nó oculto»
        W, b = clf.coefs_[0], clf.intercepts_[0]
        for j in range(W.shape[1]):
            ax.plot(x1[0], -(W[0, j] * x1[0] + b[j]) / W[1, j], ":", color="0.2", lw=1)
    ax.set_xlim(x1.min(), x1.max())
    ax.set_ylim(x2.min(), x2.max())
    ax.set_title(title)


fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
for ax, (name, clf) in zip(axes, classifiers.items()):
    draw_regions(ax, clf, *problems[name], f"{name}: {accuracy[name]:.0%}")
fig.suptitle("«Probability of class 1; black: the boundary ŷ = 0.5; dotted: each hidden node's line || Probabilidade da classe 1; preto: a fronteira ŷ = 0,5; pontilhado: a reta de cada nó oculto»")
fig.tight_layout()
plt.show()
""",
    ),
    (
        "md",
        """
One node draws one line (a smooth threshold), enough for AND. XOR needs two: the two
hidden nodes learn two lines and the output node combines them into a non-linear boundary.
For the circles, the lecture's construction pairs opposite thresholds into ridges and crosses
two ridges into a bump around the inner circle; a trained network finds its own way to
combine its four lines, and here they enclose the inner circle (dotted).

A fitted classifier that ends a cell draws its network (above scikit-learn's view of its
parameters): the XOR network's two hidden nodes, its output node and the bias input +1 of
each layer; every weight an edge, blue when positive and orange when negative, as wide as
its size. Hover over an edge to read its value.
""",
        """
Um nó desenha uma reta (um limiar suave), o que basta para o AND. O XOR precisa de duas: os
dois nós ocultos aprendem duas retas e o nó de saída as combina numa fronteira não linear.
Para os círculos, a construção da aula junta limiares opostos em cristas e cruza duas cristas
numa elevação em torno do círculo interno; uma rede treinada encontra o seu próprio jeito de
combinar as suas quatro retas, e aqui elas cercam o círculo interno (pontilhado).

Um classificador treinado que termina uma célula desenha a sua rede (acima da visão do
scikit-learn dos seus parâmetros): os dois nós ocultos da rede do XOR, o seu nó de saída e a
entrada de viés +1 de cada camada; cada peso uma aresta, azul quando positivo e laranja quando
negativo, tão larga quanto o seu tamanho. Passe o mouse sobre uma aresta para ler o seu valor.
""",
    ),
    (
        "code",
        """
classifiers["XOR"]
""",
    ),
    (
        "md",
        """
A single perceptron cannot solve XOR: the same search without a hidden layer stays far
from 100 %.
""",
        """
Um único perceptron não resolve o XOR: a mesma busca sem camada oculta fica longe de 100 %.
""",
    ),
    (
        "code",
        """
perceptron = best_of_starts((), *problems["XOR"])
xor_single_accuracy = perceptron.score(*problems["XOR"])
xor_accuracy = accuracy["XOR"]
print(f"XOR, «one node || um nó»: {xor_single_accuracy:.1%}   XOR, «3 nodes || 3 nós»: {xor_accuracy:.1%}")
""",
    ),
    (
        "md",
        """
## Regression: x², 1/x and sin x

The lecture's functions on their intervals: x² on [−1, 1], 1/x on [1, 100] and sin x on
[0, 2π]. 1000 evenly spaced points, 70 % to train and 30 % to validate, one hidden layer of
`HIDDEN` logistic nodes and an identity output node. The validation MSE measures the fit on
points the network did not train on.
""",
        """
## Regressão: x², 1/x e sen x

As funções da aula nos seus intervalos: x² em [−1, 1], 1/x em [1, 100] e sen x em [0, 2π].
1000 pontos igualmente espaçados, 70 % para treinar e 30 % para validar, uma camada oculta de
`HIDDEN` nós logísticos e um nó de saída identidade. O EQM (erro quadrático médio) de
validação mede o ajuste em pontos nos quais a rede não treinou.
""",
    ),
    (
        "params",
        """
HIDDEN = 10
FUNCTIONS = ["x2", "inv", "sin"]
""",
    ),
    (
        "code",
        """
from sklearn.model_selection import train_test_split

from mlplab import MLPRegressor

titles = {"x2": "x²", "inv": "1/x", "sin": "«sin x || sen x»"}
validation_mse = {}
fig, axes = plt.subplots(1, len(FUNCTIONS), figsize=(13, 3.8))
for ax, name in zip(np.atleast_1d(axes), FUNCTIONS):
    X, y = mlplab.datasets.function(name, n_samples=1000)
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, random_state=0)
    reg = MLPRegressor(hidden_layer_sizes=(HIDDEN,), activation="logistic", solver="lbfgs",
                       max_iter=2000, tol=1e-6, random_state=0, convergence_warning=False)
    reg.fit(X_train, y_train)
    validation_mse[name] = np.mean((reg.predict(X_val) - y_val) ** 2)
    ax.plot(X, y, "k", lw=3, label="«true function || função verdadeira»")
    ax.plot(X, reg.predict(X), "--", color="tab:red", lw=1.5, label="«network || rede»")
    ax.set_xscale("log" if name == "inv" else "linear")
    ax.set_title(f"{titles[name]}: «validation MSE || EQM de validação» {validation_mse[name]:.1e}")
    ax.set_xlabel("x")
np.atleast_1d(axes)[0].legend()
fig.tight_layout()
plt.show()
""",
    ),
    (
        "md",
        """
**Try it.** Set `HIDDEN = 2` and `HIDDEN = 50`: how does the validation MSE change? Give
XOR `(1,)` or the circles `(3,)`: can fewer nodes do it? Raise `NOISE` to `0.3`.
""",
        """
**Experimente.** Use `HIDDEN = 2` e `HIDDEN = 50`: como muda o EQM de validação? Dê ao XOR
`(1,)` ou aos círculos `(3,)`: menos nós conseguem? Aumente `NOISE` para `0.3`.
""",
    ),
    (
        "md",
        """
## Beyond mlplab: the same network in PyTorch

When you move on to PyTorch, a trained mlplab network comes along: `mlplab.to_torch(model)`
gives a `torch.nn.Module` with the same weights and outputs (`mlplab.from_torch` goes back,
`mlplab.to_onnx` writes an ONNX file). The cell runs only where PyTorch is installed.
""",
        """
## Além do mlplab: a mesma rede no PyTorch

Quando você passar para o PyTorch, uma rede treinada no mlplab vai junto:
`mlplab.to_torch(model)` dá um `torch.nn.Module` com os mesmos pesos e saídas
(`mlplab.from_torch` faz o caminho de volta, `mlplab.to_onnx` grava um arquivo ONNX). A
célula só roda onde o PyTorch está instalado.
""",
    ),
    (
        "code",
        """
import importlib.util

if importlib.util.find_spec("torch") is not None:
    print(mlplab.to_torch(classifiers["XOR"]))
else:
    print("«PyTorch is not installed here (pip install torch). || O PyTorch não está instalado aqui (pip install torch).»")
""",
    ),
    (
        "md",
        """
## Try it yourself

The cell below opens mlplab's playground on XOR with the lecture's network: one hidden layer
of 2 logistic nodes. Press **play** and watch the two lines form the boundary; pause, **add
a node** to the hidden layer, or switch the activation to **relu**, and train again. Which
changes need more steps, and which fail?

The page is served by this notebook's kernel (on the loopback address, with a token; in
Colab through Colab's proxy to the kernel), so it works only while the kernel runs: after a
restart, run the cell again.
""",
        """
## Experimente

A célula abaixo abre o playground do mlplab no XOR com a rede da aula: uma camada oculta de 2
nós logísticos. Aperte **play** e veja as duas retas formarem a fronteira; pause, **acrescente
um nó** à camada oculta ou troque a ativação para **relu** e treine de novo. Quais mudanças
precisam de mais passos, e quais falham?

A página é servida pelo kernel deste notebook (no endereço de loopback, com um token; no Colab,
pelo proxy do Colab até o kernel), então só funciona enquanto o kernel roda: depois de
reiniciá-lo, rode a célula de novo.
""",
    ),
    (
        "code",
        """
mlplab.playground(dataset="xor", layers=[2], activation="logistic", lang="«en || pt»")
""",
    ),
]
