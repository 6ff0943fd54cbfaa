"""What Jupyter shows for an mlplab estimator: once fitted, the network diagram
(``mlplab.display.network_svg``) above scikit-learn's own view of the estimator and its
parameters; unfitted, scikit-learn's view alone. scikit-learn's ``display="text"``
configuration turns both off, as for any estimator."""

from __future__ import annotations

from typing import Any

from sklearn import get_config
from sklearn.utils import estimator_html_repr

from mlplab.display import network_html

__all__ = ["NetworkView", "output_names"]


def output_names(estimator: Any, n_outputs: int) -> list[str] | None:
    """Names of the network's output nodes: the classes of a classifier (P(c) for the
    single output of a binary one), None (y1, y2, …) otherwise."""
    classes = getattr(estimator, "classes_", None)
    if classes is None or not hasattr(classes, "__len__"):
        return None
    if len(classes) == n_outputs:
        return [str(c) for c in classes]
    if n_outputs == 1 and len(classes) == 2:
        return [f"P({classes[1]})"]
    return None


class NetworkView:
    """Mixin of the estimators (before ``BaseEstimator`` in the bases)."""

    def _network_view(self) -> str:
        html = estimator_html_repr(self)
        net = self.__dict__.get("net_")
        if net is None:  # not fitted: scikit-learn's view alone
            return html
        names = self.__dict__.get("feature_names_in_")
        diagram = network_html(
            net,
            title=type(self).__name__,
            input_names=None if names is None or len(names) != net.n_inputs else names,
            output_names=output_names(self, net.n_outputs),
        )
        return diagram + html

    @property
    def _repr_html_(self):
        """The HTML view (for front ends that do not read ``_repr_mimebundle_``)."""
        if get_config()["display"] != "diagram":
            raise AttributeError(
                "_repr_html_ is only defined when scikit-learn's 'display' configuration "
                "is 'diagram'"
            )
        return self._network_view

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        """Jupyter's view: the text repr, and the HTML one unless display="text"."""
        out = {"text/plain": repr(self)}
        if get_config()["display"] == "diagram":
            out["text/html"] = self._network_view()
        return out
