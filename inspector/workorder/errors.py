"""The one error type of work-order parsing."""

from __future__ import annotations


class WorkOrderError(ValueError):
    """A work order cannot be read. Carries what the person fixing the file needs.

    Attributes:
        line: 1-based line in the document where the problem is, or ``None`` when it
            concerns the whole document (empty file, missing order id).
        source: the file name (or ``"<text>"``) the document came from.
        problem: the problem alone, without source and line, e.g.
            ``"unknown unit 'furlong' in 'scratches up to 2 furlong'"``.

    ``str(err)`` reads ``"WO-1234.txt line 7: unknown unit 'furlong' in '...'"``.
    """

    def __init__(self, problem: str, *, line: int | None = None, source: str = "<text>") -> None:
        self.problem = problem
        self.line = line
        self.source = source
        super().__init__(self._message())

    def _message(self) -> str:
        where = self.source if self.line is None else f"{self.source} line {self.line}"
        return f"{where}: {self.problem}"

    def __reduce__(self):  # keep the attributes through pickling (worker processes)
        return (_rebuild, (self.problem, self.line, self.source))

    def with_source(self, source: str) -> WorkOrderError:
        """The same error reported against another source name."""
        return WorkOrderError(self.problem, line=self.line, source=source)


def _rebuild(problem: str, line: int | None, source: str) -> WorkOrderError:
    return WorkOrderError(problem, line=line, source=source)
