"""Problems found in scenario data, collected all at once and reported one per line."""

from __future__ import annotations

from collections import Counter

__all__ = ["Problems", "ScenarioDataError", "feature", "row"]

#: At most this many lines per (file, field); the rest are counted in one closing line.
MAX_PER_FIELD = 50


class ScenarioDataError(ValueError):
    """Scenario data that cannot be simulated. ``errors`` lists every problem found, one line each:
    ``file: feature/row N (id X): field: what was expected, got what``."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        n = len(self.errors)
        head = f"{n} problem{'s' if n != 1 else ''} in the scenario data"
        super().__init__(head + ":\n" + "\n".join(f"  {e}" for e in self.errors))


def feature(i: int, ident: object = None) -> str:
    """Where a GeoJSON feature is: ``feature 3`` (the index in ``features``, from 0) and its id."""
    return f"feature {i}" + (f" (id {ident})" if ident is not None else "")


def row(line: int, ident: object = None) -> str:
    """Where a CSV row is: ``row 5`` (its line in the file; the header is line 1)."""
    return f"row {line}" + (f" ({ident})" if ident is not None else "")


class Problems:
    """A collector of problem lines. ``add`` keeps the order of discovery; a field with very many
    problems (a whole column of a large file) is cut to :data:`MAX_PER_FIELD` lines plus a count."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._count: Counter[tuple[str, str]] = Counter()

    def add(self, file: str, where: str, field: str, msg: str) -> None:
        key = (file, field)
        self._count[key] += 1
        if self._count[key] <= MAX_PER_FIELD:
            self.lines.append(": ".join(p for p in (file, where, field, msg) if p))

    def __bool__(self) -> bool:
        return bool(self._count)

    @property
    def count(self) -> int:
        """Problems added so far (also those not listed)."""
        return sum(self._count.values())

    def errors(self) -> list[str]:
        out = list(self.lines)
        for (file, field), n in self._count.items():
            if n > MAX_PER_FIELD:
                out.append(f"{file}: {field}: ... and {n - MAX_PER_FIELD} more problems of "
                           "this field (not listed)")
        return out

    def raise_if_any(self) -> None:
        if self:
            raise ScenarioDataError(self.errors())
