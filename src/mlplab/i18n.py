"""The report's two languages, English and Portuguese, in one place.

* :class:`T` picks the text of a language: ``t = T("pt"); t("accuracy", "acurácia")``,
  looks a key up in a table of ``(en, pt)`` pairs (``t.lookup(NAMES, "tanh")``) and
  writes a number as the language does (``t.num(0.25, "g")`` is "0,25" in Portuguese).
* :func:`num` and :func:`localise` do the same for a language given by name: Portuguese
  writes a decimal comma, so every "." between two digits becomes ",".
* :func:`set_language` chooses the language of what mlplab shows when a call does not
  name one (``mlplab.set_language("pt")`` at the top of a notebook: the network diagrams,
  the doctor's report, ``History.plot`` and ``GradientFlow.plot``); :func:`resolve` gives a
  call's language, its own ``lang`` or that default.

This module is at the package's lowest level: it imports only the standard library.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "LANGS",
    "T",
    "check_lang",
    "get_language",
    "localise",
    "num",
    "pick",
    "resolve",
    "set_language",
]

LANGS = ("en", "pt")

_DECIMAL = re.compile(r"(?<=[0-9])\.(?=[0-9])")


def check_lang(lang: Any) -> str:
    """Return ``lang`` if it is one of :data:`LANGS`, else raise a ValueError listing them."""
    if not isinstance(lang, str) or lang not in LANGS:
        choices = ", ".join(repr(c) for c in sorted(LANGS))
        raise ValueError(f"Unknown lang {lang!r}. Expected one of: {choices}.")
    return lang


_default = {"lang": "en"}


def set_language(lang: str) -> None:
    """Show what mlplab shows in ``lang`` ("en" or "pt") when a call names no language:
    the network diagrams of ``Sequential`` and the fitted estimators, ``diagnose``'s
    report, ``History.plot`` and ``GradientFlow.plot``. A call's own ``lang=`` wins."""
    _default["lang"] = check_lang(lang)


def get_language() -> str:
    """The language :func:`set_language` chose ("en" until it is called)."""
    return _default["lang"]


def resolve(lang: str | None) -> str:
    """A call's language: ``lang`` checked, or :func:`get_language` when it is None."""
    return get_language() if lang is None else check_lang(lang)


def pick(texts: tuple[str, str], lang: str) -> str:
    """The text of ``lang`` from an ``(en, pt)`` pair."""
    return texts[1] if lang == "pt" else texts[0]


def localise(text: str, lang: str) -> str:
    """``text`` with the decimal separator of ``lang`` (Portuguese: a decimal comma)."""
    return _DECIMAL.sub(",", text) if lang == "pt" else text


def num(x: float, lang: str, fmt: str = ".3g") -> str:
    """The number ``x`` formatted with ``fmt`` as ``lang`` writes it: ``num(0.5, "pt")``
    is "0,5"."""
    return localise(format(x, fmt), lang)


class T:
    """Pick the text of the report's language: ``t = T(lang); t("accuracy", "acurácia")``."""

    def __init__(self, lang: str) -> None:
        self.lang = check_lang(lang)

    def __call__(self, en: str, pt: str) -> str:
        return pt if self.lang == "pt" else en

    def num(self, x: float, fmt: str = ".3g") -> str:
        """The number ``x`` as this language writes it (Portuguese: decimal comma)."""
        return num(x, self.lang, fmt)

    def lookup(self, table: Mapping[Any, tuple[str, str]], key: Any, default: Any = None) -> str:
        """The text of ``table[key]``, an ``(en, pt)`` pair; a missing key gives
        ``default`` (a pair, or one text for both languages), or KeyError without one."""
        texts = table.get(key, default)
        if texts is None:
            raise KeyError(key)
        return texts if isinstance(texts, str) else pick(texts, self.lang)
