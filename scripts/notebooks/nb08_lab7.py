"""The course's Lab 7, solved with mlplab.GridSearchCV."""

FILES = ("08-lab7-grid-search", "08-laboratorio7-busca-em-grade")

TITLE = (
    """
# Lab 7: finding the architecture by grid search

The exercise: approximate four functions with an MLP of one hidden layer of logistic nodes,

| function | interval |
|---|---|
| 1/x | [1, 100] |
| log₁₀ x | [1, 10] |
| exp(−x) | [1, 10] |
| sin x | [0, 2π] |

For each: N = 1000 evenly spaced points, a 70/30 split into training and validation sets,
a **grid search with 10-fold cross-validation** over the number of hidden nodes and the
random seed (the initialisation) on the training set; print the best values, report the
validation MSE and draw the prediction against the true function.

`mlplab.GridSearchCV` is scikit-learn's `GridSearchCV` (same arguments, same `cv_results_`,
`best_params_`, `best_estimator_`) that trains the candidates × folds of an mlplab MLP
together, as one computation: with `exact=True` (the estimators' default) the results are
scikit-learn's to the bit, in less time.
""",
    """
# Laboratório 7: encontrando a arquitetura por busca em grade

O exercício: aproximar quatro funções com um MLP de uma camada oculta de nós logísticos,

| função | intervalo |
|---|---|
| 1/x | [1, 100] |
| log₁₀ x | [1, 10] |
| exp(−x) | [1, 10] |
| sen x | [0, 2π] |

Para cada uma: N = 1000 pontos igualmente espaçados, uma divisão 70/30 em conjuntos de
treinamento e de validação, uma **busca em grade com validação cruzada em 10 partições**
(10-fold) sobre o número de nós ocultos e a semente aleatória (a inicialização) no conjunto
de treinamento; imprimir os melhores valores, informar o EQM (erro quadrático médio) de
validação e desenhar a previsão contra a função verdadeira.

`mlplab.GridSearchCV` é o `GridSearchCV` do scikit-learn (mesmos argumentos, mesmos
`cv_results_`, `best_params_`, `best_estimator_`) que treina os candidatos × partições de um
MLP do mlplab juntos, como uma só computação: com `exact=True` (o padrão dos estimadores) os
resultados são os do scikit-learn bit a bit, em menos tempo.
""",
)

CELLS = [
    (
        "md",
        """
## The search's settings

The grid: 5, 10 or 20 hidden nodes × 10 seeds, each scored by 10-fold cross-validation:
300 fits per function. Two choices beyond the exercise's text, both switchable:

* `TARGET_SCALING = True` standardises the target y (scikit-learn's
  `TransformedTargetRegressor` with a `StandardScaler`) and `TOL = 1e-5`: L-BFGS's stopping
  rules are absolute, and 1/x on [1, 100] varies so little (variance 0.0075) that a plain
  network stops early. The cross-validation still scores the MSE in the original units.
  `TARGET_SCALING, TOL = False, 1e-4` runs the exercise exactly as written.
* `EXACT = False` uses mlplab's fast numerics: the same algorithm and stopping rules,
  results equal to float tolerance instead of to the bit, the search faster (measured on
  this project's 2-core machine: the notebook in 39 s instead of 52 s). `EXACT = True`
  gives scikit-learn's results to the bit.
""",
        """
## As configurações da busca

A grade: 5, 10 ou 20 nós ocultos × 10 sementes, cada combinação avaliada por validação
cruzada em 10 partições: 300 ajustes por função. Duas escolhas além do texto do exercício,
ambas ajustáveis:

* `TARGET_SCALING = True` padroniza o alvo y (o `TransformedTargetRegressor` do scikit-learn
  com um `StandardScaler`) e `TOL = 1e-5`: os critérios de parada do L-BFGS são absolutos, e
  1/x em [1, 100] varia tão pouco (variância 0,0075) que uma rede sem isso para cedo. A
  validação cruzada continua avaliando o EQM nas unidades originais.
  `TARGET_SCALING, TOL = False, 1e-4` roda o exercício exatamente como está escrito.
* `EXACT = False` usa a aritmética rápida do mlplab: o mesmo algoritmo e os mesmos critérios
  de parada, resultados iguais até a tolerância de ponto flutuante em vez de bit a bit, e a
  busca mais rápida (medido na máquina de 2 núcleos do projeto: o notebook em 39 s em vez de
  52 s). `EXACT = True` dá os resultados do scikit-learn bit a bit.
""",
    ),
    (
        "params",
        """
FUNCTIONS = ["inv", "log10", "exp", "sin"]
N_SAMPLES = 1000
HIDDEN_SIZES = [5, 10, 20]
N_SEEDS = 10
CV = 10
TARGET_SCALING = True
TOL = 1e-5
MAX_ITER = 2000
EXACT = False
SEED = 0
""",
    ),
    (
        "code",
        """
import time

from sklearn.compose import TransformedTargetRegressor
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from mlplab import GridSearchCV, MLPRegressor

network = MLPRegressor(activation="logistic", solver="lbfgs", max_iter=MAX_ITER, tol=TOL,
                       exact=EXACT, convergence_warning=False)
grid = {"hidden_layer_sizes": [(n,) for n in HIDDEN_SIZES], "random_state": list(range(N_SEEDS))}
if TARGET_SCALING:
    model = TransformedTargetRegressor(network, transformer=StandardScaler())
    grid = {"regressor__" + key: values for key, values in grid.items()}   # «the step's prefix || o prefixo do passo»
else:
    model = network

searches, data = {}, {}
for name in FUNCTIONS:
    X, y = mlplab.datasets.function(name, n_samples=N_SAMPLES)
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, random_state=SEED)
    search = GridSearchCV(model, grid, cv=CV, scoring="neg_mean_squared_error", n_jobs=-1)
    start = time.perf_counter()
    search.fit(X_train, y_train)
    searches[name] = search
    data[name] = (X, y, X_val, y_val)
    print(f"{name:>5}: {len(search.cv_results_['params']) * CV} «fits in || ajustes em» {time.perf_counter() - start:.1f} s")
""",
    ),
    (
        "md",
        """
## The best values and the validation MSE

`best_params_` holds the chosen number of hidden nodes and seed; `best_estimator_` is that
network refitted on the whole training set, and it is scored once on the validation set.
""",
        """
## Os melhores valores e o EQM de validação

`best_params_` guarda o número de nós ocultos e a semente escolhidos; `best_estimator_` é essa
rede reajustada em todo o conjunto de treinamento, avaliada uma única vez no conjunto de
validação.
""",
    ),
    (
        "code",
        """
validation_mse = {}
for name, search in searches.items():
    X, y, X_val, y_val = data[name]
    best = {key.removeprefix("regressor__"): value for key, value in search.best_params_.items()}
    validation_mse[name] = np.mean((search.predict(X_val) - y_val) ** 2)
    print(f"{name:>5}: «hidden nodes || nós ocultos» {best['hidden_layer_sizes'][0]:>2}, "
          f"«seed || semente» {best['random_state']}, "
          f"«cross-validated MSE || EQM da validação cruzada» {-search.best_score_:.2e}, "
          f"«validation MSE || EQM de validação» {validation_mse[name]:.2e}")
""",
    ),
    (
        "code",
        """
titles = {"inv": "1/x", "log10": "log₁₀ x", "exp": "exp(−x)", "sin": "«sin x || sen x»"}
fig, axes = plt.subplots(1, len(FUNCTIONS), figsize=(14, 3.6), squeeze=False)
for ax, name in zip(axes[0], FUNCTIONS):
    X, y, X_val, y_val = data[name]
    ax.plot(X, y, "k", lw=3, label="«true function || função verdadeira»")
    ax.plot(X_val, y_val, ".", color="tab:orange", ms=2, label="«validation points || pontos de validação»")
    ax.plot(X, searches[name].predict(X), "--", color="tab:red", lw=1.5, label="«network chosen || rede escolhida»")
    ax.set_xscale("log" if name == "inv" else "linear")
    ax.set_title(f"{titles[name]}: «MSE || EQM» {validation_mse[name]:.1e}")
    ax.set_xlabel("x")
axes[0, 0].legend(fontsize=8)
fig.tight_layout()
plt.show()
""",
    ),
    (
        "md",
        """
## Every candidate of one search

`cv_results_` holds the cross-validated MSE of every (hidden nodes, seed) pair. The spread
over seeds at one size is the spread over initialisations: that is why the seed is part of
the search.
""",
        """
## Todos os candidatos de uma busca

`cv_results_` guarda o EQM da validação cruzada de cada par (nós ocultos, semente). A
dispersão entre as sementes num mesmo tamanho é a dispersão entre as inicializações: é por
isso que a semente faz parte da busca.
""",
    ),
    (
        "code",
        """
fig, ax = plt.subplots(figsize=(7, 3.6))
for i, name in enumerate(FUNCTIONS):
    results = searches[name].cv_results_
    sizes = [params[next(k for k in params if k.endswith("hidden_layer_sizes"))][0] for params in results["params"]]
    position = [HIDDEN_SIZES.index(s) + (i - (len(FUNCTIONS) - 1) / 2) * 0.15 for s in sizes]
    ax.semilogy(position, -results["mean_test_score"], "o", ms=4, label=titles[name])
ax.set_xticks(range(len(HIDDEN_SIZES)), [str(s) for s in HIDDEN_SIZES])
ax.set_xlabel("«hidden nodes || nós ocultos»")
ax.set_ylabel("«cross-validated MSE || EQM da validação cruzada»")
ax.set_title("«One point per seed || Um ponto por semente»")
ax.legend(fontsize=8)
plt.show()
""",
    ),
    (
        "md",
        """
**Try it.** Run the exercise as written (`TARGET_SCALING, TOL = False, 1e-4`) and compare
the validation MSE of 1/x. Set `EXACT = True` and time the search again. With
`mlplab.patch_sklearn()` at the top of a notebook written for scikit-learn,
`from sklearn.model_selection import GridSearchCV` gives this same class.
""",
        """
**Experimente.** Rode o exercício como está escrito (`TARGET_SCALING, TOL = False, 1e-4`) e
compare o EQM de validação de 1/x. Use `EXACT = True` e cronometre a busca de novo. Com
`mlplab.patch_sklearn()` no início de um notebook escrito para o scikit-learn,
`from sklearn.model_selection import GridSearchCV` dá esta mesma classe.
""",
    ),
]
