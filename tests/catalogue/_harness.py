"""Cases of the bad-input catalogue and their classification."""

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GOOD = ("clear", "correct")
KINDS = ("clear", "correct", "vague", "silent", "crash")


@dataclass(frozen=True)
class Raises:
    """The call must raise ``error`` with a message matching ``names``.

    ``names`` is a regular expression over the message (searched, case
    insensitive, ``.`` matches newlines) that covers both the problem and
    the fix, e.g. ``r"classes.*'ab'.*list of class names"``.
    """

    error: type[BaseException] | tuple[type[BaseException], ...]
    names: str


@dataclass(frozen=True)
class Warns:
    """The call must warn with ``category`` matching ``names``.

    Its result must also pass ``check``.
    """

    category: type[Warning]
    names: str
    check: Callable[[Any], bool] = field(default=lambda result: True)


@dataclass(frozen=True)
class Behaves:
    """The call must return a result for which ``check`` is true.

    An ``assert`` may fail inside ``check``: that counts as false.
    """

    check: Callable[[Any], bool]


@dataclass(frozen=True)
class Case:
    """One bad input: ``run(tmp_path)`` makes the call.

    ``expect`` says what a sound package does about it.
    """

    surface: str
    name: str
    run: Callable[[Path], Any]
    expect: Raises | Warns | Behaves

    @property
    def id(self):
        return f"{self.surface}: {self.name}"


@dataclass(frozen=True)
class Outcome:
    """What a case did: one of :data:`KINDS`, and the evidence."""

    kind: str
    detail: str


def _matches(pattern, message):
    return re.search(pattern, message, re.IGNORECASE | re.DOTALL) is not None


def _check(check, result):
    try:
        return bool(check(result)), ""
    except AssertionError as error:
        return False, f"check failed: {error}"


def classify(case, tmp_path):
    """Run ``case`` in ``tmp_path`` and classify what happened.

    Returns
    -------
    Outcome
        ``kind`` is ``clear`` or ``correct`` when the package did what
        ``case.expect`` asks; ``vague``, ``silent`` or ``crash`` otherwise,
        with ``detail`` holding the message or the result's evidence.
    """
    expect = case.expect
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = case.run(Path(tmp_path))
        except Exception as error:  # noqa: BLE001 - every exception is classified
            return _classify_error(expect, error)
    return _classify_result(expect, result, caught)


def _classify_error(expect, error):
    message = f"{type(error).__name__}: {error}"
    if isinstance(expect, Raises) and isinstance(error, expect.error):
        kind = "clear" if _matches(expect.names, str(error)) else "vague"
        return Outcome(kind, message)
    return Outcome("crash", message)


def _classify_result(expect, result, caught):
    if isinstance(expect, Raises):
        return Outcome("silent", f"no error; returned {_short(result)}")
    if isinstance(expect, Warns):
        named = [
            w
            for w in caught
            if issubclass(w.category, expect.category)
            and _matches(expect.names, str(w.message))
        ]
        if not named:
            seen = (
                "; ".join(f"{w.category.__name__}: {w.message}" for w in caught)
                or "none"
            )
            kind = (
                "vague"
                if any(issubclass(w.category, expect.category) for w in caught)
                else "silent"
            )
            return Outcome(kind, f"warnings seen: {seen}")
    passed, why = _check(expect.check, result)
    if not passed:
        return Outcome("silent", why or f"wrong result: {_short(result)}")
    return Outcome("clear" if isinstance(expect, Warns) else "correct", "")


def _short(value, limit=200):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def tally(outcomes):
    """Count outcomes per surface: ``{surface: {kind: count}}``, then ``"total"``."""
    counts = {}
    for case, outcome in outcomes:
        for surface in (case.surface, "total"):
            row = counts.setdefault(surface, dict.fromkeys(KINDS, 0))
            row[outcome.kind] += 1
    total = counts.pop("total", dict.fromkeys(KINDS, 0))
    return {**dict(sorted(counts.items())), "total": total}
