"""The lecture's worked examples of backpropagation, by hand, against the engine.

Example 1: two logistic neurons in series,
    g1 = x w1,  z1 = f(g1),  g2 = z1 w2,  y_hat = f(g2),  J_e = (1/N) sum (y_hat - y)^2,
with f the logistic function. mlplab's "mse" loss is exactly J_e (no factor 1/2).

Example 2: three nodes h, g, f in series with weights w, 1, 1 (biases 0):
    y_hat = f(1 * g(1 * h(w x))),   dy_hat/dw = f'(.) g'(.) h'(.) x.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mlplab

# ------------------------------------------------------------------ example 1, by hand
X_1, Y_1 = 1.0, 0.0
W1, W2 = 0.5, -0.3
#
# forward pass (N = 1 sample):
#   g1 = x w1            = 1.0 * 0.5                      = 0.5
#   z1 = f(g1)           = 1 / (1 + e^-0.5)               = 0.622459331
#   g2 = z1 w2           = 0.622459331 * -0.3             = -0.186737799
#   y_hat = f(g2)        = 1 / (1 + e^0.186737799)        = 0.453450740
#   J_e = (y_hat - y)^2  = 0.453450740^2                  = 0.205617574
#
# chain factors:
#   dJ/dy_hat   = 2 (y_hat - y)          = 2 * 0.453450740          = 0.906901480
#   dy_hat/dg2  = y_hat (1 - y_hat)      = 0.453450740 * 0.546549260 = 0.247833166
#   dg2/dw2     = z1                                                 = 0.622459331
#   dg2/dz1     = w2                                                 = -0.3
#   dz1/dg1     = z1 (1 - z1)            = 0.622459331 * 0.377540669 = 0.235003712
#   dg1/dw1     = x                                                  = 1.0
#
# delta2 = dJ/dg2 = 0.906901480 * 0.247833166 = 0.224760265
#   dJ/dw2 = delta2 * z1                   = 0.224760265 * 0.622459331        = 0.139904124
#   dJ/dw1 = delta2 * w2 * z1 (1 - z1) * x = 0.224760265 * -0.3 * 0.235003712 = -0.015845849
#
# ratio dJ/dw1 / dJ/dw2 = w2 z1 (1 - z1) x / z1 = w2 (1 - z1) x = -0.3 * 0.377540669 = -0.113262201
HAND = {
    "z1": 0.622459331,
    "y_hat": 0.453450740,
    "J": 0.205617574,
    "dJ_dyhat": 0.906901480,
    "dyhat_dg2": 0.247833166,
    "dz1_dg1": 0.235003712,
    "dJ_dw2": 0.139904124,
    "dJ_dw1": -0.015845849,
    "ratio": -0.113262201,
}


def _two_neuron_net() -> mlplab.Sequential:
    net = mlplab.Sequential(
        [
            mlplab.Dense(1, activation="logistic", bias_init="zeros"),
            mlplab.Dense(1, activation="logistic"),
        ],
        n_inputs=1,
    )
    net.theta[:] = [W1, 0.0, W2, 0.0]  # theta = (w1, b1, w2, b2), written in place
    return net


def test_layout_of_theta_is_w1_b1_w2_b2():
    net = _two_neuron_net()
    params = dict(net.named_parameters())
    assert list(params) == ["0.W", "0.b", "1.W", "1.b"]
    assert params["0.W"].item() == W1 and params["1.W"].item() == W2
    assert params["0.b"].item() == 0.0 and params["1.b"].item() == 0.0


def test_hand_numbers_are_consistent():
    """The hand-worked numbers above agree with one another (catches a typo in them)."""
    h = HAND
    assert h["dJ_dyhat"] * h["dyhat_dg2"] * h["z1"] == pytest.approx(h["dJ_dw2"], abs=2e-9)
    assert h["dJ_dyhat"] * h["dyhat_dg2"] * W2 * h["dz1_dg1"] * X_1 == pytest.approx(
        h["dJ_dw1"], abs=2e-9
    )
    assert h["dJ_dw1"] / h["dJ_dw2"] == pytest.approx(h["ratio"], abs=1e-8)
    assert 1 / (1 + math.exp(-W1 * X_1)) == pytest.approx(h["z1"], abs=1e-9)


def test_forward_pass_matches_hand_numbers():
    net = _two_neuron_net()
    y_hat = net.forward(np.array([[X_1]]))
    assert y_hat.shape == (1, 1)
    assert y_hat[0, 0] == pytest.approx(HAND["y_hat"], abs=1e-6)
    assert net.layers[0].a[0, 0] == pytest.approx(HAND["z1"], abs=1e-6)  # z1, the hidden output


def test_gradient_matches_hand_chain_rule():
    net = _two_neuron_net()
    J, grad = net.loss_and_grad(np.array([[X_1]]), np.array([Y_1]), loss="mse")
    assert J == pytest.approx(HAND["J"], abs=1e-6)  # mlplab's mse is J_e: no factor 1/2
    g = dict(net.named_gradients())
    assert g["1.W"].item() == pytest.approx(HAND["dJ_dw2"], abs=1e-6)
    assert g["0.W"].item() == pytest.approx(HAND["dJ_dw1"], abs=1e-6)
    # the flat gradient is aligned with theta = (w1, b1, w2, b2)
    assert grad[0] == pytest.approx(HAND["dJ_dw1"], abs=1e-6)
    assert grad[2] == pytest.approx(HAND["dJ_dw2"], abs=1e-6)
    # bias gradients: x0 = 1, so dJ/db2 = delta2 and dJ/db1 = delta2 w2 z1 (1 - z1)
    delta2 = HAND["dJ_dyhat"] * HAND["dyhat_dg2"]
    assert grad[3] == pytest.approx(delta2, abs=1e-6)
    assert grad[1] == pytest.approx(delta2 * W2 * HAND["dz1_dg1"], abs=1e-6)


def test_earlier_weight_gets_smaller_gradient_by_the_hand_ratio():
    """Vanishing gradient in miniature: dJ/dw1 carries the extra factors w2 z1 (1 - z1) / z1."""
    net = _two_neuron_net()
    _, grad = net.loss_and_grad(np.array([[X_1]]), np.array([Y_1]), loss="mse")
    g = dict(net.named_gradients())
    d_w1, d_w2 = g["0.W"].item(), g["1.W"].item()
    assert abs(d_w1) < abs(d_w2)
    z1 = HAND["z1"]
    assert d_w1 / d_w2 == pytest.approx(W2 * z1 * (1 - z1) * X_1 / z1, abs=1e-6)
    assert d_w1 / d_w2 == pytest.approx(HAND["ratio"], abs=1e-6)


def test_one_gradient_step_lowers_J_e():
    """w <- w - lr dJ/dw with the hand gradient lowers the hand cost."""
    lr = 0.5
    w1 = W1 - lr * HAND["dJ_dw1"]
    w2 = W2 - lr * HAND["dJ_dw2"]
    net = _two_neuron_net()
    net.theta[:] = [w1, 0.0, w2, 0.0]
    J_new = net.loss(np.array([[X_1]]), np.array([Y_1]), loss="mse")
    s = lambda t: 1 / (1 + math.exp(-t))  # noqa: E731
    assert J_new == pytest.approx((s(w2 * s(w1 * X_1)) - Y_1) ** 2, abs=1e-12)
    assert J_new < HAND["J"]


# ------------------------------------------------------------------ example 2, by hand
# Node functions and their derivatives, written out by hand (math module, no engine):
def _logistic(t):
    return 1.0 / (1.0 + math.exp(-t))


HAND_FUNCS = {
    "logistic": (_logistic, lambda t: _logistic(t) * (1.0 - _logistic(t))),
    "tanh": (math.tanh, lambda t: 1.0 - math.tanh(t) ** 2),
    "relu": (lambda t: max(t, 0.0), lambda t: 1.0 if t > 0 else 0.0),
}


@pytest.mark.parametrize("act", sorted(HAND_FUNCS))
@pytest.mark.parametrize("w", [0.8, -0.6, 2.5])
def test_three_nodes_in_series_product_of_derivatives(act, w):
    """h, g, f in series with weights w, 1, 1 and x = 1:
    dy_hat/dw = f'(g(h(w x))) * g'(h(w x)) * h'(w x) * x, and with J = (y_hat - y)^2 (N = 1)
    dJ/dw = 2 (y_hat - y) * dy_hat/dw.
    """
    x, y = 1.0, 0.25
    fn, dfn = HAND_FUNCS[act]
    # forward by hand
    s1 = w * x  # input of h
    a1 = fn(s1)  # h(w x)
    s2 = 1.0 * a1  # input of g
    a2 = fn(s2)  # g(h(w x))
    s3 = 1.0 * a2  # input of f
    y_hat = fn(s3)
    dyhat_dw = dfn(s3) * dfn(s2) * dfn(s1) * x  # the product of the three derivatives, times x
    dJ_dw = 2.0 * (y_hat - y) * dyhat_dw

    net = mlplab.Sequential([mlplab.Dense(1, activation=act) for _ in range(3)], n_inputs=1)
    net.theta[:] = [w, 0.0, 1.0, 0.0, 1.0, 0.0]  # (w_h, b_h, w_g, b_g, w_f, b_f)
    J, grad = net.loss_and_grad(np.array([[x]]), np.array([y]), loss="mse")
    assert J == pytest.approx((y_hat - y) ** 2, rel=1e-12, abs=1e-15)
    assert grad[0] == pytest.approx(dJ_dw, rel=1e-10, abs=1e-15)
    # the same chain through the middle and last weight (their input is the node before)
    dJ_dyhat = 2.0 * (y_hat - y)
    assert grad[2] == pytest.approx(dJ_dyhat * dfn(s3) * dfn(s2) * a1, rel=1e-10, abs=1e-15)
    assert grad[4] == pytest.approx(dJ_dyhat * dfn(s3) * a2, rel=1e-10, abs=1e-15)


def test_three_logistic_nodes_shrink_the_gradient():
    """Each logistic factor is at most 1/4, so dy_hat/dw <= (1/4)^3 x."""
    for w in (-3.0, -0.5, 0.0, 0.5, 3.0):
        net = mlplab.Sequential(
            [mlplab.Dense(1, activation="logistic") for _ in range(3)], n_inputs=1
        )
        net.theta[:] = [w, 0.0, 1.0, 0.0, 1.0, 0.0]
        y_hat = net.forward(np.array([[1.0]]))[0, 0]
        y = y_hat - 0.5  # dJ/dy_hat = 2 (y_hat - y) = 1, so grad[0] = dy_hat/dw
        _, grad = net.loss_and_grad(np.array([[1.0]]), np.array([y]), loss="mse")
        assert 0 < grad[0] <= 0.25**3
