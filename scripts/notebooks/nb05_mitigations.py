"""Lecture §5: mitigations of the vanishing and exploding gradient."""

FILES = ("05-mitigations", "05-mitigacoes")

TITLE = (
    """
# §5 Mitigating the vanishing and the exploding gradient

The lecture lists four remedies:

1. **ReLU and its variants**: f′(g) = 1 for g > 0, so the activations stop shrinking the
   chain rule's product;
2. **proper weight initialisation**: keep the variance of the activations the same in every
   layer (Glorot for logistic/tanh, He for ReLU), so the weights neither shrink nor grow it;
3. **batch normalisation**: standardise each layer's weighted sums over the batch, then
   shift and scale them with learned parameters;
4. **gradient clipping**: cap the gradient's norm before each update (helps only against
   exploding gradients).

Each one is a constructor argument of mlplab's scikit-learn drop-ins
(`from mlplab import MLPClassifier`): `activation=`, `initializer=`, `batch_norm=True`,
`clip_norm=`. The estimators also record `grad_norms_`: per epoch and weight layer, the norm
of the gradient.
""",
    """
# §5 Como reduzir a dissipação e a explosão do gradiente

A aula lista quatro remédios:

1. **a ReLU e suas variantes**: f′(g) = 1 para g > 0, então as ativações deixam de encolher o
   produto da regra da cadeia;
2. **a inicialização apropriada dos pesos**: manter a variância das ativações igual em todas
   as camadas (Glorot para logística/tanh, He para ReLU), para que os pesos não a encolham nem
   a aumentem;
3. **a normalização de batch** (normalização em lote): padronizar as somas ponderadas de cada
   camada sobre o lote e depois deslocá-las e escaloná-las com parâmetros aprendidos;
4. **a poda (recorte) do gradiente**: limitar a norma do gradiente antes de cada atualização
   (ajuda apenas contra a explosão do gradiente).

Cada um é um argumento do construtor dos substitutos do scikit-learn no mlplab
(`from mlplab import MLPClassifier`): `activation=`, `initializer=`, `batch_norm=True`,
`clip_norm=`. Os estimadores também registram `grad_norms_`: por época e camada de pesos, a
norma do gradiente.
""",
)

CELLS = [
    (
        "md",
        """
## The problem: a deep logistic network on the circles

Two concentric circles, a deep network (6 hidden layers of 16 nodes) trained by plain
stochastic gradient descent (no momentum: it would hide part of the effect). Change the
depth, the epochs or the learning rate and run again.
""",
        """
## O problema: uma rede logística profunda nos círculos

Dois círculos concêntricos, uma rede profunda (6 camadas ocultas de 16 nós) treinada pelo
gradiente descendente estocástico simples (sem momento: ele esconderia parte do efeito). Mude
a profundidade, as épocas ou a taxa de aprendizado e rode de novo.
""",
    ),
    (
        "params",
        """
DEPTH, WIDTH = 6, 16
EPOCHS = 150
LEARNING_RATE = 0.1
SEED = 0
""",
    ),
    (
        "code",
        """
from mlplab import MLPClassifier

X, y = mlplab.datasets.circles(n_samples=400, noise=0.1, factor=0.5, seed=SEED)


def deep_classifier(**options):
    return MLPClassifier(hidden_layer_sizes=(WIDTH,) * DEPTH, solver="sgd", momentum=0.0,
                         learning_rate_init=LEARNING_RATE, batch_size=50, max_iter=EPOCHS,
                         n_iter_no_change=EPOCHS, random_state=SEED, convergence_warning=False,
                         **options)


variants = {
    "«logistic (the problem) || logística (o problema)»": dict(activation="logistic"),
    "«ReLU + He initialisation || ReLU + inicialização de He»": dict(activation="relu", initializer="he_normal"),
    "leaky ReLU + He": dict(activation="leaky_relu", initializer="he_normal"),
    "«logistic + batch norm || logística + normalização em lote»": dict(activation="logistic", batch_norm=True),
}
fitted = {name: deep_classifier(**options).fit(X, y) for name, options in variants.items()}
for name, clf in fitted.items():
    g = clf.grad_norms_[0]  # «first epoch, one norm per weight layer || primeira época, uma norma por camada de pesos»
    print(f"{name:<42} «accuracy || acurácia» {clf.score(X, y):6.1%}   ‖∂J/∂W₁‖ / ‖∂J/∂W_out‖ = {g[0] / g[-1]:.1e}")
""",
    ),
    (
        "code",
        """
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
for name, clf in fitted.items():
    ax1.plot(clf.loss_curve_, label=name)
    ax2.semilogy(np.arange(1, DEPTH + 2), clf.grad_norms_[0], "o-", label=name)
ax1.set_xlabel("«epoch || época»")
ax1.set_ylabel("«training loss || perda de treino»")
ax1.set_title("«Learning curves || Curvas de aprendizado»")
ax2.set_xlabel("«weight layer (1 = next to the input) || camada de pesos (1 = junto à entrada)»")
ax2.set_ylabel("‖∂J/∂W‖, «first epoch || primeira época»")
ax2.set_title("«Gradient per layer || Gradiente por camada»")
ax2.legend(fontsize=8)
fig.tight_layout()
plt.show()
""",
    ),
    (
        "md",
        """
The logistic network stays at chance level (50 %): its first layer's gradient is about
10⁻⁵ of the output layer's, so the early layers barely move. ReLU with He's initialisation
and batch normalisation keep the gradient within a factor of ten across the layers, and the
network learns the circles.

## The engine underneath: `Sequential.fit` and its history

The estimators train an `mlplab.Sequential`. Used directly, its `fit` returns a `History`:
the loss and the metrics per epoch, on the training data and, given `validation_data`, on
data held out. `history.plot()` draws them: the losses on the left axis (log scale), the
accuracies dashed on the right one. The same ReLU + He network, a quarter of the points
held out. When the validation loss follows the training loss down, the network generalises
instead of memorising; a sudden jump of both is a step that overshot, which plain SGD then
recovers from.
""",
        """
A rede logística fica no nível do acaso (50 %): o gradiente de sua primeira camada é cerca
de 10⁻⁵ do da camada de saída, então as camadas iniciais quase não se movem. A ReLU com a
inicialização de He e a normalização em lote mantêm o gradiente dentro de um fator de dez ao
longo das camadas, e a rede aprende os círculos.

## O motor por baixo: `Sequential.fit` e o seu histórico

Os estimadores treinam um `mlplab.Sequential`. Usado diretamente, o seu `fit` devolve um
`History`: a perda e as métricas por época, nos dados de treino e, dado `validation_data`, em
dados separados. `history.plot()` os desenha: as perdas no eixo da esquerda (escala log), as
acurácias tracejadas no da direita. A mesma rede ReLU + He, um quarto dos pontos separado.
Quando a perda de validação acompanha a de treino na descida, a rede generaliza em vez de
decorar; um salto súbito das duas é um passo que passou do ponto, do qual o SGD simples depois
se recupera.
""",
    ),
    (
        "code",
        """
from sklearn.model_selection import train_test_split

X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.25, random_state=SEED)
onehot = np.eye(2)  # «one column per class || uma coluna por classe»
net = mlplab.Sequential([mlplab.Dense(WIDTH, "relu") for _ in range(DEPTH)] + [mlplab.Dense(2, "softmax")],
                        n_inputs=2, init="he_normal", seed=SEED)
history = net.fit(X_train, onehot[y_train], loss="cce", optimizer="sgd", learning_rate=LEARNING_RATE,
                  epochs=EPOCHS, batch_size=50, validation_data=(X_val, onehot[y_val]),
                  metrics=["accuracy"], seed=SEED)
history.plot()
plt.show()
val_accuracy = history["val_accuracy"][-1]
print(f"«validation accuracy || acurácia de validação»: {val_accuracy:.1%}")
""",
    ),
    (
        "md",
        """
## Initialisation: the same ReLU network, three weight scales

He's initialisation draws the weights with standard deviation √(2/fan-in). Too small and
the gradient vanishes even with ReLU; too large and it explodes. Below, one backward pass
of a ReLU network for each scale, read with `mlplab.diagnose`.
""",
        """
## Inicialização: a mesma rede ReLU, três escalas de pesos

A inicialização de He sorteia os pesos com desvio padrão √(2/fan-in). Pequenos demais, e o
gradiente se dissipa mesmo com a ReLU; grandes demais, e ele explode. Abaixo, uma
retropropagação de uma rede ReLU para cada escala, lida com `mlplab.diagnose`.
""",
    ),
    (
        "code",
        """
inits = {
    "«normal, std 0.01 (too small) || normal, desvio 0,01 (pequeno demais)»": {"name": "normal", "scale": 0.01},
    "«He (√(2/fan-in) ≈ 0.35) || He (√(2/fan-in) ≈ 0,35)»": "he_normal",
    "«normal, std 2 (too large) || normal, desvio 2 (grande demais)»": {"name": "normal", "scale": 2.0},
}
Y = onehot[y]
fig, ax = plt.subplots(figsize=(7, 3.8))
for name, init in inits.items():
    net = mlplab.Sequential([mlplab.Dense(WIDTH, "relu") for _ in range(DEPTH)] + [mlplab.Dense(2, "softmax")],
                            n_inputs=2, init=init, seed=SEED)
    report = mlplab.diagnose(net, X, Y, loss="cce")
    norms = [s["grad_norm_W"] for s in report.stats]
    ax.semilogy(np.arange(1, DEPTH + 2), norms, "o-", label=name)
    print(f"{name:<40} ‖∂J/∂W₁‖ = {norms[0]:.1e}   «doctor: || médico:» {sorted(report.kinds())}")
ax.set_xlabel("«weight layer || camada de pesos»")
ax.set_ylabel("‖∂J/∂W‖")
ax.legend(fontsize=8)
plt.show()
""",
    ),
    (
        "md",
        """
With ReLU every layer's gradient moves by the same factor: the lines are flat, but their
level spans about fourteen orders of magnitude. A gradient step of size 0.1 would move the
weights of the first network by about 10⁻¹² (it would never learn) and those of the last by
hundreds (it diverges). He's scale sits in between. (The doctor compares the layers with
one another and flags an absolute size only when it is large, so it calls the first network
healthy: look at the sizes too.)

## Gradient clipping

A regression with ReLU layers whose weights start too large and a high learning rate with
momentum: without clipping, a few updates overflow and the fit stops with an error (mlplab
keeps the weights of the last finite step and says what to do). With `clip_norm=1.0` every
update's gradient is scaled down to norm 1 when it is larger, and the same network trains.
""",
        """
Com a ReLU, o gradiente de todas as camadas muda pelo mesmo fator: as linhas são planas, mas
o seu nível abrange cerca de catorze ordens de grandeza. Um passo de gradiente de tamanho 0,1
moveria os pesos da primeira rede em cerca de 10⁻¹² (ela nunca aprenderia) e os da última em
centenas (ela diverge). A escala de He fica no meio. (O médico compara as camadas entre si e
só aponta um tamanho absoluto quando ele é grande, então chama a primeira rede de saudável:
olhe também para os tamanhos.)

## Poda (recorte) do gradiente

Uma regressão com camadas ReLU cujos pesos começam grandes demais e uma taxa de aprendizado
alta com momento: sem recorte, algumas atualizações estouram e o ajuste para com um erro (o
mlplab mantém os pesos do último passo finito e diz o que fazer). Com `clip_norm=1.0`, o
gradiente de cada atualização é reduzido à norma 1 quando é maior, e a mesma rede treina.
""",
    ),
    (
        "params",
        """
CLIP_NORM = 1.0
""",
    ),
    (
        "code",
        """
from mlplab import MLPRegressor

Xr, yr = mlplab.datasets.function("sin", n_samples=200)
for clip in [None, CLIP_NORM]:
    reg = MLPRegressor(hidden_layer_sizes=(32, 32, 32), activation="relu",
                       initializer={"name": "normal", "scale": 0.5}, solver="sgd",
                       learning_rate_init=0.05, momentum=0.9, batch_size=20, max_iter=200,
                       n_iter_no_change=200, random_state=SEED, convergence_warning=False,
                       clip_norm=clip)
    try:
        reg.fit(Xr, yr)
        print(f"clip_norm={clip}: «trained, final loss || treinou, perda final» {reg.loss_:.4f}")
        clipped = reg
    except ValueError as error:
        print(f"clip_norm={clip}: ValueError: {str(error)[:160]}…")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(Xr, yr, "k", lw=2, label="sin x")
ax.plot(Xr, clipped.predict(Xr), "--", color="tab:red", lw=2, label=f"clip_norm={CLIP_NORM}")
ax.set_xlabel("x")
ax.legend()
plt.show()
""",
    ),
    (
        "md",
        """
**Try it.** Set `DEPTH = 10`: the logistic network's ratio falls further. Give the logistic
network `initializer="glorot_normal"` only (no batch norm): does initialisation alone save
it at this depth? Set `CLIP_NORM = 10.0`: is that still enough?
""",
        """
**Experimente.** Use `DEPTH = 10`: a razão da rede logística cai ainda mais. Dê à rede
logística apenas `initializer="glorot_normal"` (sem normalização em lote): a inicialização
sozinha a salva nesta profundidade? Use `CLIP_NORM = 10.0`: ainda basta?
""",
    ),
]
