"""The one error type of work-order parsing; it carries every problem found, like a compiler."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from inspector.errors import InspectorError


@dataclass(frozen=True)
class Problem:
    """One problem of a work order: what is wrong and where (1-based line and column, or None)."""

    problem: str
    line: int | None = None
    column: int | None = None

    def where(self, source: str) -> str:
        if self.line is None:
            return source
        col = f" column {self.column}" if self.column else ""
        return f"{source} line {self.line}{col}"


class WorkOrderError(InspectorError, ValueError):
    """A work order cannot be read. Carries what the person fixing the file needs.

    Attributes:
        problems: every problem found, in document order (at least one); a file with three
            mistakes reports all three at once.
        line: 1-based line of the first problem, or ``None`` when it concerns the whole
            document (empty file, missing order id).
        column: 1-based column of the first problem where it helps, else ``None``.
        source: the file name (or ``"<text>"``) the document came from.
        problem: the first problem alone, without source and line, e.g.
            ``"unknown unit 'furlong' in 'scratches up to 2 furlong'"``.

    ``str(err)`` reads ``"WO-1234.txt line 7: unknown unit 'furlong' in '...'"``, one line per
    problem when there are several.
    """

    def __init__(
        self,
        problem: str = "",
        *,
        line: int | None = None,
        source: str = "<text>",
        column: int | None = None,
        problems: Iterable[Problem] | None = None,
    ) -> None:
        found = list(problems or ())
        if not found:
            found = [Problem(problem, line, column)]
        self.problems: tuple[Problem, ...] = tuple(found)
        first = self.problems[0]
        self.problem = first.problem
        self.line = first.line
        self.column = first.column
        self.source = source
        super().__init__(self._message())

    def _message(self) -> str:
        return "\n".join(f"{p.where(self.source)}: {p.problem}" for p in self.problems)

    def __reduce__(self):  # keep the attributes through pickling (worker processes)
        return (_rebuild, (self.problems, self.source))

    def with_source(self, source: str) -> WorkOrderError:
        """The same error reported against another source name."""
        return WorkOrderError(source=source, problems=self.problems)

    @classmethod
    def of(cls, errors: Iterable[WorkOrderError]) -> WorkOrderError:
        """One error carrying every problem of ``errors``, sorted by line (whole-document ones first)."""
        probs = [p for e in errors for p in e.problems]
        unique = list(dict.fromkeys(probs))
        unique.sort(key=lambda p: (p.line is not None, p.line or 0, p.column or 0))
        return cls(problems=unique)


def _rebuild(problems: tuple[Problem, ...], source: str) -> WorkOrderError:
    return WorkOrderError(source=source, problems=problems)


class Collector:
    """Gathers WorkOrderErrors so a reader can go on and report them all at the end."""

    def __init__(self) -> None:
        self.errors: list[WorkOrderError] = []

    def add(self, err: WorkOrderError) -> None:
        self.errors.append(err)

    def raise_if_any(self) -> None:
        if self.errors:
            raise WorkOrderError.of(self.errors)
