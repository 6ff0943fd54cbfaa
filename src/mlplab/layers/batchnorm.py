"""Batch normalisation: normalise each unit over the batch, then scale and shift (learned)."""

from __future__ import annotations

import math

import numpy as np

from mlplab._checks import check_float
from mlplab.initializers import Ones, Zeros
from mlplab.layers.base import Layer


class BatchNorm(Layer):
    """Batch normalisation (Ioffe & Szegedy 2015) over the samples of a batch.

    Training: x_hat = (x - mean_batch) / sqrt(var_batch + eps), a = gamma x_hat + beta,
    and the running statistics move towards the batch's:
    running = (1 - momentum) running + momentum batch (the variance unbiased,
    n / (n - 1), as in PyTorch). Inference uses the running statistics.
    gamma and beta are trained; running_mean/running_var are buffers
    (saved, never touched by the optimizer).
    """

    def __init__(self, momentum: float = 0.1, eps: float = 1e-5) -> None:
        super().__init__()
        self.momentum = check_float("momentum", momentum, minimum=0.0, maximum=1.0)
        self.eps = check_float("eps", eps, minimum=0.0, strict_min=True)
        self.x_hat = self.inv_std = None
        self.training = False
        #: per-sample weights of the current training batch (set by Sequential)
        self.sample_weight: np.ndarray | None = None

    def build(self, n_in, dtype):
        super().build(n_in, dtype)
        self.running_mean = np.zeros(n_in, dtype=dtype)
        self.running_var = np.ones(n_in, dtype=dtype)
        return n_in

    def param_specs(self):
        return [("gamma", (self.n_in,), Ones()), ("beta", (self.n_in,), Zeros())]

    def buffers(self):
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def output_bound(self, m: float, logits: bool = False) -> float:
        """An upper bound of |a| in inference mode over every input with |x| <= m (see
        Dense.output_bound): max|gamma| (m + max|mean|) / sqrt(min var + eps) + max|beta|."""
        gamma, beta = self.params["gamma"], self.params["beta"]
        shift = m + float(np.max(np.abs(self.running_mean)))
        scale = float(np.max(np.abs(gamma))) / math.sqrt(float(np.min(self.running_var)) + self.eps)
        out = scale * shift + float(np.max(np.abs(beta)))
        return out if out < float(np.finfo(gamma.dtype).max) / 4 else math.inf

    def forward(self, x, training=False):
        gamma, beta = self.params["gamma"], self.params["beta"]
        self.training = training
        if training:
            p = self.sample_weight
            if p is None:
                n = x.shape[0]
                mean = x.mean(axis=0)
                xc = x - mean
                var = np.mean(xc * xc, axis=0)  # biased variance normalises the batch
            else:  # weighted statistics: weight k counts like k repeated rows
                n = float(p.sum())
                p = self._p = p / n
                mean = p @ x
                xc = x - mean
                var = p @ (xc * xc)
            self.inv_std = 1.0 / np.sqrt(var + self.eps)
            m = self.momentum
            self.running_mean *= 1.0 - m
            self.running_mean += m * mean
            self.running_var *= 1.0 - m
            self.running_var += m * var * (n / (n - 1) if n > 1 else 1.0)
            self.x_hat = xc * self.inv_std
        else:
            self.inv_std = 1.0 / np.sqrt(self.running_var + self.eps)
            self.x_hat = (x - self.running_mean) * self.inv_std
        return gamma * self.x_hat + beta  # shift and scale, both learned

    def backward(self, da, need_dx=True):
        gamma = self.params["gamma"]
        x_hat = self.x_hat
        np.sum(da * x_hat, axis=0, out=self.grads["gamma"])  # dL/dgamma = sum_n da x_hat
        np.sum(da, axis=0, out=self.grads["beta"])  # dL/dbeta = sum_n da
        if not need_dx:
            return None
        dx_hat = da * gamma
        if not self.training:  # running statistics are constants
            return dx_hat * self.inv_std
        # The batch mean and variance depend on every x_i of the batch:
        # dL/dx = inv_std / n * (n dx_hat - sum dx_hat - x_hat sum(dx_hat x_hat))
        if self.sample_weight is not None:
            # with weights p_i (sum 1): inv_std (dx_hat - p sum dx_hat - p x_hat sum(dx_hat x_hat))
            p = self._p[:, None]
            return self.inv_std * (
                dx_hat - p * dx_hat.sum(axis=0) - p * x_hat * np.sum(dx_hat * x_hat, axis=0)
            )
        n = da.shape[0]
        return (self.inv_std / n) * (
            n * dx_hat - dx_hat.sum(axis=0) - x_hat * np.sum(dx_hat * x_hat, axis=0)
        )

    def config(self):
        return {"class": "BatchNorm", "momentum": self.momentum, "eps": self.eps}
