"""The feed-forward network: layers in sequence over one flat parameter vector.

A feed-forward net is a function y = f(x; W) with no internal state: data flows
input -> hidden layers -> output, no cycles. With one hidden layer of 2 nodes,
y = f(w^T f(W^T x)).

Every parameter lives in one flat vector ``net.theta`` (each layer's W, b are
views into it) and every gradient in ``net.grad``, aligned with it, so every
optimizer, L-BFGS, clipping and the diagnostics read the same memory.
Backpropagation is the chain rule applied layer by layer, from the output to
the input, on the values cached by the forward pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from mlplab._checks import (
    as_float_array,
    check_dtype,
    check_float,
    check_int,
    check_lengths,
    check_sample_weight,
    check_X,
)
from mlplab.activations import Identity
from mlplab.display import network_html
from mlplab.initializers import Initializer, get_initializer
from mlplab.layers import BatchNorm, Layer, layer_from_config
from mlplab.losses import Loss, get_loss
from mlplab.network.fit import fit as fit_network
from mlplab.recurrent import TimeFlatten

__all__ = ["Sequential"]


class Sequential:
    """A stack of layers applied in order, with all parameters in ``theta``.

    Parameters
    ----------
    layers : sequence of Layer
        E.g. ``[Dense(2, activation="logistic"), Dense(1)]``.
    n_inputs : int
        Number of input features.
    init : str, dict or Initializer, default "glorot_uniform"
        Initialiser for every weight matrix whose layer does not set its own.
    seed : int or None
        Seed of the initialisation (and the default seed of ``fit``'s shuffling).
        The same seed gives bit-identical weights.
    dtype : "float64" or "float32"
        Precision of parameters, activations and gradients, end to end.

    Examples
    --------
    >>> import mlplab, numpy as np
    >>> net = mlplab.Sequential([mlplab.Dense(2, activation="logistic"),
    ...                          mlplab.Dense(1)], n_inputs=2, seed=0)
    >>> net.theta.shape  # 2*2 + 2 + 2*1 + 1
    (9,)
    """

    def __init__(
        self,
        layers: Sequence[Layer],
        n_inputs: int,
        *,
        init: str | dict[str, Any] | Initializer = "glorot_uniform",
        seed: int | None = None,
        dtype: Any = "float64",
    ) -> None:
        self.n_inputs = check_int("n_inputs", n_inputs, minimum=1)
        self.dtype = check_dtype(dtype)
        self.init = get_initializer(init)
        if seed is not None:
            seed = check_int("seed", seed, minimum=0)
        self.seed = seed
        layers = list(layers)
        if not layers:
            raise ValueError("`layers` is empty: a network needs at least one layer.")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"layers[{i}] must be an mlplab layer (Dense, BatchNorm, PReLU, "
                    f"ActivationLayer, SimpleRNN, LSTM, GRU). Received: {type(layer).__name__}."
                )
            if any(layer is other for other in layers[:i]):
                raise ValueError(
                    f"layers[{i}] appears twice; create a new layer object for each position."
                )
        _check_recurrent_order(layers)
        self.layers = layers
        self.optimizer = None  # the optimizer of the last fit (saved with the model)
        self._build()

    # ------------------------------------------------------------------ build
    def _build(self) -> None:
        n = self.n_inputs
        specs = []
        for i, layer in enumerate(self.layers):
            n = layer.build(n, self.dtype)
            specs.append([(i, name, shape, init) for name, shape, init in layer.param_specs()])
        self.n_outputs = n
        sizes = [int(np.prod(shape)) for layer_specs in specs for _, _, shape, _ in layer_specs]
        self.theta = np.zeros(sum(sizes), dtype=self.dtype)
        self.grad = np.zeros_like(self.theta)
        self._names: list[str] = []
        self._views: list[np.ndarray] = []
        self._grad_views: list[np.ndarray] = []
        decay: list[tuple[int, int]] = []
        rng = np.random.default_rng(self.seed)
        start = 0
        for layer, layer_specs in zip(self.layers, specs, strict=True):
            values, grads = {}, {}
            for i, name, shape, init in layer_specs:
                stop = start + int(np.prod(shape))
                view = self.theta[start:stop].reshape(shape)  # a view: never rebind it
                view[...] = (init or self.init)(shape, rng, self.dtype)
                values[name] = view
                grads[name] = self.grad[start:stop].reshape(shape)
                self._names.append(f"{i}.{name}")
                self._views.append(view)
                self._grad_views.append(grads[name])
                if name in ("W", "W_h"):
                    decay.append((start, stop))  # L2 applies to weights, not biases
                start = stop
            layer.bind(values, grads)
        self._decay = decay
        self._batchnorms = [layer for layer in self.layers if isinstance(layer, BatchNorm)]
        # Recurrent layers (first in the stack) take sequences (n, T, features). If the last
        # one returns sequences, the layers after it act on every step: a TimeFlatten
        # (not a layer of the architecture) turns (n, T, k) into (n T, k) for them.
        rec = [i for i, layer in enumerate(self.layers) if getattr(layer, "recurrent", False)]
        self.sequence_input = bool(rec)
        self.sequence_output = bool(rec) and self.layers[rec[-1]].return_sequences
        self._run = self.layers
        if self.sequence_output:
            cut = rec[-1] + 1
            self._run = [*self.layers[:cut], TimeFlatten(), *self.layers[cut:]]
        self._hidden, self._top = self._run[:-1], self._run[-1]

    # ---------------------------------------------------------------- access
    def named_parameters(self) -> list[tuple[str, np.ndarray]]:
        """[(name, view into theta), ...] in theta order, e.g. "0.W", "0.b"."""
        return list(zip(self._names, self._views, strict=True))

    def named_gradients(self) -> list[tuple[str, np.ndarray]]:
        """[(name, view into grad), ...] aligned with ``named_parameters``."""
        return list(zip(self._names, self._grad_views, strict=True))

    @property
    def n_params(self) -> int:
        return int(self.theta.size)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer, by qualified name ("0.W", "1.running_mean")."""
        out = {name: v.copy() for name, v in self.named_parameters()}
        for i, layer in enumerate(self.layers):
            for name, buf in layer.buffers().items():
                out[f"{i}.{name}"] = buf.copy()
        return out

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy parameters and buffers in place (views stay valid); names and shapes must match."""
        expected = self.state_dict()
        missing = sorted(set(expected) - set(state))
        extra = sorted(set(state) - set(expected))
        if missing or extra:
            raise ValueError(
                f"state does not match the network: missing {missing}, unexpected {extra}."
            )
        targets = dict(self.named_parameters())
        for i, layer in enumerate(self.layers):
            targets.update({f"{i}.{k}": v for k, v in layer.buffers().items()})
        for name, target in targets.items():
            value = np.asarray(state[name])
            if value.shape != target.shape:
                raise ValueError(
                    f"state[{name!r}] has shape {value.shape}; the network expects {target.shape}."
                )
            target[...] = value

    # ---------------------------------------------------------------- inputs
    def check_input(self, X: Any, name: str = "X") -> np.ndarray:
        """X validated: (n, n_inputs), or (n, T, n_inputs) for a recurrent network."""
        if not self.sequence_input:
            return check_X(X, self.n_inputs, self.dtype, name=name)
        arr = as_float_array(name, X, self.dtype)
        if arr.ndim != 3 or arr.shape[2] != self.n_inputs:
            hint = (
                " A single series of T steps with one feature: X.reshape(1, T, 1)."
                if arr.ndim < 3 and self.n_inputs == 1
                else ""
            )
            raise ValueError(
                f"`{name}` must be 3-D (n_samples, T, {self.n_inputs}) for this recurrent "
                f"network (n_inputs={self.n_inputs}). Received shape {arr.shape}.{hint}"
            )
        return np.ascontiguousarray(arr)

    def prepare_targets(self, y: Any, loss: Loss, X: np.ndarray, name: str = "y") -> np.ndarray:
        """Targets validated for ``loss``: (n, n_outputs), or (n, T, n_outputs) when the
        network outputs a sequence."""
        if not self.sequence_output:
            Y = loss.prepare_targets(y, self.n_outputs, self.dtype)
            check_lengths(X, Y)
            return Y
        n, T = X.shape[:2]
        arr = np.asarray(y)
        k = self.n_outputs
        ok = arr.ndim == 3 and arr.shape[:2] == (n, T)
        ok = ok or (arr.ndim == 2 and arr.shape == (n, T) and (k == 1 or loss.name == "cce"))
        if not ok:
            raise ValueError(
                f"`{name}` must have shape (n_samples, T, {k}) = ({n}, {T}, {k}) to match "
                f"a network that outputs a sequence"
                + (f" (or ({n}, {T}))" if k == 1 or loss.name == "cce" else "")
                + f". Received shape {arr.shape}."
            )
        flat = arr.reshape(n * T, *arr.shape[2:])
        return loss.prepare_targets(flat, k, self.dtype).reshape(n, T, k)

    # --------------------------------------------------------------- forward
    def forward_unchecked(self, X: np.ndarray, training: bool) -> np.ndarray:
        """``forward`` for X already validated (``check_input``); outputs as the layers
        lay them out ((n T, k) when a recurrent network outputs sequences)."""
        for layer in self._run:
            X = layer.forward(X, training)
        return X

    def forward(self, X: Any, training: bool = False) -> np.ndarray:
        """Return the network's output for X (n, n_inputs) -> (n, n_outputs).

        Recurrent networks take X (n, T, n_inputs) and return (n, n_outputs),
        or (n, T, n_outputs) when the last recurrent layer returns sequences.
        ``training=True`` uses batch statistics in BatchNorm layers (and updates
        their running averages); the default uses the running averages.
        """
        X = self.check_input(X)
        out = self.forward_unchecked(X, training)
        if self.sequence_output:
            out = out.reshape(X.shape[0], X.shape[1], -1)
        return out

    def reset_states(self) -> None:
        """Reset the carried state of every stateful recurrent layer."""
        for layer in self.layers:
            if getattr(layer, "recurrent", False):
                layer.reset_states()

    predict = forward

    def __call__(self, X: Any) -> np.ndarray:
        return self.forward(X)

    # -------------------------------------------------------------- backward
    def output_fusion(self, loss: Loss) -> bool:
        """True if the last layer's activation is the loss's link (fused gradient)."""
        if loss.link is None:
            return False
        if self._top is not self.layers[-1] or getattr(self._top, "recurrent", False):
            raise ValueError(
                f"The {loss.name!r} loss needs logits: end the recurrent network with a "
                "Dense layer (e.g. Dense(k) for logits)."
            )
        act = self.layers[-1].activation
        if act is not None and act.name == loss.link:
            return True
        if act is None or isinstance(act, Identity):
            return False
        raise ValueError(
            f"The {loss.name!r} loss expects logits or {loss.link!r} outputs, but the last "
            f"layer's activation is {act.name!r}. End the network with activation="
            f"'identity' (logits) or {loss.link!r}."
        )

    def backward(self, d_out: np.ndarray, *, from_z: bool = False) -> None:
        """Backpropagate dL/d(output) through every layer, filling ``self.grad``.

        The chain rule, output to input: each layer turns dL/d(its output) into
        the gradients of its parameters and dL/d(its input), which is
        dL/d(output) of the layer before. The first layer skips dL/dx (no one
        needs the gradient with respect to the data). ``from_z=True``: d_out
        is dL/dz of the last layer (the fused cross-entropy gradient).
        """
        layers = self._run
        last = len(layers) - 1
        top = layers[last]  # the output layer: from dL/da, or from dL/dz when fused
        d = top.backward_from_z(d_out, last > 0) if from_z else top.backward(d_out, last > 0)
        for i in range(last - 1, -1, -1):
            d = layers[i].backward(d, i > 0)  # the first layer (i = 0) skips dL/dx

    def loss_and_grad_unchecked(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        loss: Loss,
        sample_weight: np.ndarray | None = None,
        l2: float = 0.0,
        fused: bool | None = None,
    ) -> float:
        """Unchecked core of ``loss_and_grad``: returns L, leaves dL/dtheta in ``self.grad``."""
        if fused is None:
            fused = self.output_fusion(loss)
        if self.sequence_output:  # every time step is a sample of the loss
            Y = Y.reshape(-1, Y.shape[-1])
            if sample_weight is not None and sample_weight.shape[0] != Y.shape[0]:
                sample_weight = np.repeat(sample_weight, X.shape[1])
        out = X
        if self._batchnorms:  # weighted batch statistics (weight k = k repeated rows)
            for bn in self._batchnorms:
                bn.sample_weight = sample_weight
        for layer in self._hidden:  # forward pass, caching what backward needs
            out = layer.forward(out, True)
        # a fused loss applies the output activation itself: only z is needed
        top = self._top
        out = top.forward_logits(out, True) if fused else top.forward(out, True)
        if fused:
            logits = self.layers[-1].z  # the loss reads z; dL/dz = link(z) - y
            value, d = loss.value_and_gradient(logits, Y, sample_weight)
            self.backward(d, from_z=True)
        else:
            value, d = loss.value_and_gradient(out, Y, sample_weight)
            self.backward(d)
        if self._batchnorms:
            for bn in self._batchnorms:
                bn.sample_weight = None
        if l2:
            theta, grad = self.theta, self.grad
            for start, stop in self._decay:
                w = theta[start:stop]
                value += 0.5 * l2 * float(np.dot(w, w))  # (l2/2) ||W||^2
                grad[start:stop] += l2 * w  # d/dW (l2/2)||W||^2 = l2 W
        return value

    def loss_and_grad(
        self,
        X: Any,
        y: Any,
        loss: str | dict[str, Any] | Loss = "mse",
        *,
        sample_weight: Any = None,
        l2: float = 0.0,
    ) -> tuple[float, np.ndarray]:
        """Return (L, dL/dtheta) at the current parameters, without updating them.

        The gradient is ``self.grad`` itself (1-D, aligned with ``theta``);
        the next call overwrites it, so copy it to keep it. Runs in training
        mode (BatchNorm uses batch statistics). ``l2`` adds (l2/2) * sum ||W||^2
        over weight matrices (not biases).
        """
        X, Y, loss_obj, sw = self.prepare(X, y, loss, sample_weight)
        if l2 != 0.0:
            l2 = check_float("l2", l2, minimum=0.0)
        value = self.loss_and_grad_unchecked(X, Y, loss_obj, sw, l2)
        return value, self.grad

    def prepare(self, X, y, loss, sample_weight):
        """(X, Y, Loss, sample_weight) validated for ``loss_and_grad_unchecked``."""
        loss_obj = get_loss(loss)
        X = self.check_input(X)
        Y = self.prepare_targets(y, loss_obj, X)
        sw = check_sample_weight(sample_weight, X.shape[0], self.dtype)
        self.output_fusion(loss_obj)  # reject a loss/last-activation mismatch early
        return X, Y, loss_obj, sw

    def loss(
        self, X: Any, y: Any, loss: str | dict[str, Any] | Loss = "mse", *, l2: float = 0.0
    ) -> float:
        """Return L on (X, y) in inference mode, without touching gradients."""
        X, Y, loss_obj, _ = self.prepare(X, y, loss, None)
        return self.loss_unchecked(X, Y, loss_obj, None, l2)

    def loss_unchecked(self, X, Y, loss_obj, sw, l2=0.0) -> float:
        """``loss`` for inputs already validated (``prepare``)."""
        out = self.forward_unchecked(X, False)
        if self.sequence_output:
            Y = Y.reshape(-1, Y.shape[-1])
            if sw is not None and sw.shape[0] != Y.shape[0]:
                sw = np.repeat(sw, X.shape[1])
        if self.output_fusion(loss_obj):
            out = self.layers[-1].z
        value = loss_obj.value(out, Y, sw)
        for start, stop in self._decay if l2 else ():
            w = self.theta[start:stop]
            value += 0.5 * l2 * float(np.dot(w, w))
        return value

    def loss_at_end(self, X, Y, loss_obj, sw=None, bounded: bool = True) -> float | None:
        """The end-of-fit check's loss on (X, Y) at the current weights (inference mode:
        what predictions would be): None when the weights' sizes prove it finite
        (``loss_surely_finite``, no forward pass; ``bounded``: ``loss_obj`` is one that
        bound covers), NaN when a weight is not finite, else the loss computed with
        numpy's overflow warnings silenced (the caller judges the value)."""
        if bounded and self.loss_surely_finite(X, Y, sw, self.output_fusion(loss_obj)):
            return None
        if not np.isfinite(self.theta).all():
            return math.nan
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self.loss_unchecked(X, Y, loss_obj, sw)

    def loss_surely_finite(self, X, Y, sample_weight=None, logits: bool = False) -> bool:
        """True when the loss on (X, Y) at the current weights is surely finite, judged
        from norms in O(P + X.size), without a forward pass (False: unsure, compute it).

        Each layer's ``output_bound`` bounds |output| (the last layer's |z| with
        ``logits``) by B, given max |X|; the squared error and the cross-entropies (on
        logits or clipped probabilities: every loss of mlplab and of its estimators but
        Poisson's) are then at most 64 (B + max|y| + 1)^2 per entry, and their sums stay
        below the dtype's largest float. A layer without a bound (recurrent, BatchNorm,
        PReLU) or a bound that overflows gives False.
        """
        bound = max(float(X.max()), -float(X.min())) if X.shape[0] else 0.0
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            output_bound = getattr(layer, "output_bound", None)
            if output_bound is None:
                return False
            bound = output_bound(bound, logits and i == last)
        sw = sample_weight
        w = 1.0 if sw is None else max(1.0, float(sw.max()), -float(sw.min()))
        limit = float(np.finfo(self.dtype).max) / 64
        y_max = max(float(Y.max()), -float(Y.min()))
        return bound + y_max + 1.0 < math.sqrt(limit / (Y.size * w))

    # ----------------------------------------------------------------- train
    def fit(self, X: Any, y: Any, **kwargs: Any):
        """Train the network; see :func:`mlplab.training.fit` for every option.

        Returns a ``History`` (loss and metrics per epoch).
        """
        return fit_network(self, X, y, **kwargs)

    # ----------------------------------------------------------- persistence
    def get_config(self) -> dict[str, Any]:
        """A JSON-able description of the architecture (no weights)."""
        return {
            "n_inputs": self.n_inputs,
            "dtype": self.dtype.name,
            "init": self.init.config(),
            "seed": self.seed,
            "layers": [layer.config() for layer in self.layers],
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        """Build a network from ``get_config()`` (freshly initialised weights)."""
        layers = [layer_from_config(c) for c in config["layers"]]
        return cls(
            layers,
            n_inputs=config["n_inputs"],
            init=config.get("init", "glorot_uniform"),
            seed=config.get("seed"),
            dtype=config.get("dtype", "float64"),
        )

    def __mlplab_state__(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        config = {"network": self.get_config()}
        arrays = self.state_dict()
        if self.optimizer is not None:
            config["optimizer"] = self.optimizer.config()
            for k, v in self.optimizer.state_dict(exact=True).items():  # resumes bit for bit
                arrays[f"optimizer.{k}"] = v
        return config, arrays

    @classmethod
    def __mlplab_restore__(
        cls, config: dict[str, Any], arrays: dict[str, np.ndarray]
    ) -> Sequential:
        from mlplab.optimizers import get_optimizer

        check_config_against_arrays(
            config["network"], {k: v for k, v in arrays.items() if not k.startswith("optimizer.")}
        )  # before anything is allocated: a forged config cannot make us allocate
        net = cls.from_config(config["network"])
        net.load_state_dict({k: v for k, v in arrays.items() if not k.startswith("optimizer.")})
        if "optimizer" in config:
            net.optimizer = get_optimizer(config["optimizer"])
            net.optimizer.load_state_dict(
                {k[len("optimizer.") :]: v for k, v in arrays.items() if k.startswith("optimizer.")}
            )
        return net

    def __reduce__(self):
        # Pickle (scikit-learn's convention for estimators) through the same
        # state as mlplab.save: the architecture and the arrays, not the caches.
        config, arrays = self.__mlplab_state__()
        return (_restore, (config, arrays))

    def summary(self) -> str:
        """A table of layers, output sizes and parameter counts."""
        lines = [f"Sequential(n_inputs={self.n_inputs}, dtype={self.dtype.name})"]
        for i, layer in enumerate(self.layers):
            n = sum(v.size for name, v in self.named_parameters() if name.startswith(f"{i}."))
            lines.append(f"  {i}: {layer!r:60s} -> {layer.n_out:5d} outputs, {n} params")
        lines.append(f"  total parameters: {self.n_params}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}], n_inputs={self.n_inputs})"

    def _repr_html_(self) -> str:
        """Jupyter's view: the network diagram (``mlplab.display.network_svg``)."""
        return network_html(self)


def _check_recurrent_order(layers: list[Layer]) -> None:
    """Recurrent layers first; each but the last must return sequences."""
    rec = [i for i, layer in enumerate(layers) if getattr(layer, "recurrent", False)]
    if not rec:
        return
    if rec != list(range(len(rec))):
        first_ff = next(i for i in range(rec[-1]) if i not in rec)
        raise ValueError(
            f"layers[{first_ff}] ({type(layers[first_ff]).__name__}) comes before the recurrent "
            f"layers[{rec[-1]}]: recurrent layers (SimpleRNN, LSTM, GRU) must come first, "
            "feed-forward layers after them."
        )
    for i in rec[:-1]:
        if not layers[i].return_sequences:
            raise ValueError(
                f"layers[{i}] ({type(layers[i]).__name__}) feeds another recurrent layer, so it "
                "must return its whole sequence: set return_sequences=True."
            )


def _restore(config: dict[str, Any], arrays: dict[str, np.ndarray]) -> Sequential:
    """Unpickle a Sequential (see ``Sequential.__reduce__``)."""
    return Sequential.__mlplab_restore__(config, arrays)


def check_config_against_arrays(config: dict[str, Any], arrays: dict[str, Any]) -> None:
    """Check every size a network config declares against the arrays actually stored,
    without building the network: the shapes come from each layer's ``build`` and
    ``param_specs``, which allocate nothing of the parameters' size. A mismatch is a
    ValueError naming the field, so that loading costs what the file really holds."""
    n = check_int("n_inputs", config["n_inputs"], minimum=1)
    dtype = check_dtype(config.get("dtype", "float64"))
    expected: dict[str, tuple[int, ...]] = {}
    where: dict[str, str] = {}
    for i, cfg in enumerate(config["layers"]):
        layer = layer_from_config(cfg)
        n_in = n
        # BatchNorm's own build allocates its running statistics: only the sizes here
        n = (
            Layer.build(layer, n_in, dtype)
            if isinstance(layer, BatchNorm)
            else layer.build(n_in, dtype)
        )
        specs = [(name, shape) for name, shape, _ in layer.param_specs()]
        if isinstance(layer, BatchNorm):  # its buffers, shaped as its input
            specs += [("running_mean", (n_in,)), ("running_var", (n_in,))]
        for name, shape in specs:
            expected[f"{i}.{name}"] = tuple(int(s) for s in shape)
            where[f"{i}.{name}"] = f"layers[{i}] ({cfg.get('class', '?')}, input size {n_in})"
        if len(expected) > len(arrays):
            break  # more parameters declared than stored: no need to read further
    for name, shape in expected.items():
        if name not in arrays:
            raise ValueError(
                f"the config's {where[name]} declares parameter {name!r} of shape {shape}, "
                "which the file does not hold"
            )
        if tuple(arrays[name].shape) != shape:
            raise ValueError(
                f"the config's {where[name]} declares {name!r} of shape {shape}; the file "
                f"holds shape {tuple(arrays[name].shape)}"
            )
    extra = sorted(set(arrays) - set(expected))
    if extra:
        raise ValueError(f"the file holds arrays the config does not declare: {extra[:5]}")
