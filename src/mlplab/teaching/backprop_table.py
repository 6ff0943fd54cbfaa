"""The table of :func:`mlplab.teaching.backprop.backprop_by_hand`: every number of one
backward pass, by hand, beside the engine's and a finite difference's, in English
or Portuguese (Markdown) and as plain text; and how its formulas write a number."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from mlplab.i18n import check_lang, localise, num, pick

__all__ = ["H", "BackpropTable", "factor", "number"]

#: Step of the central finite differences.
H = 1e-6

_KIND_TITLES = {
    "forward": ("Forward pass", "Propagação direta"),
    "cost": ("Cost", "Custo"),
    "backward": ("Backward pass: δ = ∂J/∂z", "Retropropagação: δ = ∂J/∂z"),
    "gradient": ("Gradients", "Gradientes"),
}


def number(v: float) -> str:
    """A number in a formula (6 significant digits)."""
    text = f"{v:.6g}"
    return "0" if text == "-0" else text


def factor(v: float) -> str:
    """A number as a factor: negatives in parentheses."""
    text = number(v)
    return f"({text})" if text.startswith("-") else text


def _fmt(v: float | None, lang: str = "en") -> str:
    if v is None:
        return "—"
    return num(v + 0.0, lang, ".10g")  # + 0.0: no "-0"


@dataclass
class BackpropTable:
    """Every number of one backward pass, by hand, beside the engine and finite differences.

    ``rows``: dicts with ``quantity`` (e.g. "δ₁⁽²⁾"), ``formula`` (the symbolic
    right-hand side, then the numbers plugged in), ``value`` (by hand),
    ``engine`` (mlplab's own number, or None), ``finite_difference`` (or None),
    ``error`` (the larger deviation of the two), ``kind`` ("forward", "cost",
    "backward", "gradient"), ``layer`` (1-based; 0 for the cost) and ``node``.
    ``layers``: per Dense layer the arrays x (its input), W, b, z, a, delta, dW, db
    (the network drawings read them). ``max_error`` = max of every row's error.
    """

    rows: list[dict[str, Any]]
    loss: str
    x: list[float]
    y: list[float]
    loss_value: float
    layers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def max_engine_error(self) -> float:
        return max(
            (abs(r["value"] - r["engine"]) for r in self.rows if r["engine"] is not None),
            default=0.0,
        )

    @property
    def max_fd_error(self) -> float:
        return max(
            (
                abs(r["value"] - r["finite_difference"])
                for r in self.rows
                if r["finite_difference"] is not None
            ),
            default=0.0,
        )

    @property
    def max_error(self) -> float:
        return max(self.max_engine_error, self.max_fd_error)

    def tolerance(self) -> float:
        """The smallest power of ten not below ``max_error`` ("matches to 1e-10")."""
        if self.max_error == 0:
            return 0.0
        return 10.0 ** math.ceil(math.log10(self.max_error))

    def row(self, quantity: str) -> dict[str, Any]:
        """The row of ``quantity`` (e.g. "∂J/∂w₁₁⁽¹⁾"); KeyError if there is none."""
        for r in self.rows:
            if r["quantity"] == quantity:
                return r
        raise KeyError(quantity)

    def _summary(self, lang: str) -> str:
        pt = lang == "pt"
        tol = self.tolerance()
        if tol == 0:
            agree = "confere exatamente" if pt else "matches exactly"
        else:
            agree = f"confere até {tol:.0e}" if pt else f"matches to {tol:.0e}"
        head = "desvio máximo" if pt else "max deviation"
        return (
            f"{head} {_fmt(self.max_error, lang)} ({agree}; "
            + ("motor" if pt else "engine")
            + f" {_fmt(self.max_engine_error, lang)}, "
            + ("diferenças finitas" if pt else "finite differences")
            + f" {_fmt(self.max_fd_error, lang)}, h = {_fmt(H, lang)})"
        )

    def _title(self, lang: str) -> str:
        pt = lang == "pt"
        xs = localise(", ".join(number(v) for v in self.x), lang)
        ys = localise(", ".join(number(v) for v in self.y), lang)
        sep = "; " if pt else ", "
        xs, ys = xs.replace(", ", sep), ys.replace(", ", sep)
        if pt:
            return f"Retropropagação à mão (custo {self.loss}, uma amostra x = ({xs}), y = ({ys}))"
        return f"Backpropagation by hand ({self.loss} loss, one sample x = ({xs}), y = ({ys}))"

    def to_markdown(self, lang: str = "en") -> str:
        """The table in Markdown, one section per kind of row, in English or Portuguese."""
        pt = check_lang(lang) == "pt"
        head = (
            ("grandeza", "fórmula e números", "à mão", "mlplab", "diferença finita")
            if pt
            else ("quantity", "formula and numbers", "by hand", "mlplab", "finite difference")
        )
        lines = [f"# {self._title(lang)}", "", self._summary(lang), ""]
        for kind, titles in _KIND_TITLES.items():
            rows = [r for r in self.rows if r["kind"] == kind]
            if not rows:
                continue
            lines += [f"## {pick(titles, lang)}", ""]
            lines.append("| " + " | ".join(head) + " |")
            lines.append("|" + "---|" * len(head))
            for r in rows:
                cells = (
                    r["quantity"],
                    localise(r["formula"], lang)
                    .replace(" if ", " se ")
                    .replace(", else ", ", senão ")
                    if pt
                    else r["formula"],
                    _fmt(r["value"], lang),
                    _fmt(r["engine"], lang),
                    _fmt(r["finite_difference"], lang),
                )
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
        return "\n".join(lines)

    def __str__(self) -> str:
        lines = [self._title("en"), self._summary("en")]
        for kind, titles in _KIND_TITLES.items():
            rows = [r for r in self.rows if r["kind"] == kind]
            if rows:
                lines.append(titles[0])
            for r in rows:
                checks = []
                if r["engine"] is not None:
                    checks.append(f"engine {r['engine']:.10g}")
                if r["finite_difference"] is not None:
                    checks.append(f"finite difference {r['finite_difference']:.10g}")
                tail = f"   [{', '.join(checks)}]" if checks else ""
                lines.append(f"  {r['quantity']} = {r['formula']} = {r['value']:.10g}{tail}")
        return "\n".join(lines)
