"""The one base of every error the core raises on purpose, and the exit code each kind maps to.

Each package keeps its own typed errors (``SourceError``, ``StoreError``, ``TraceError``...)
as subclasses of :class:`InspectorError`, so a caller (the CLI, the app, a plugin) can catch
"anything the core refused, with a message for the user" in one ``except`` clause. The CLI
turns them into exit codes through :func:`exit_code` and nowhere else.
"""

from __future__ import annotations


class InspectorError(Exception):
    """Base of the core's typed errors. The message says what happened and what to do.

    ``exit_code`` is what the ``inspector`` command returns for it (2: the input or the
    request is wrong; the user can fix it and run again).
    """

    exit_code: int = 2


class UsageError(InspectorError):
    """A request the user can fix: a missing option, an unknown id, an empty query."""


class NotFound(UsageError, LookupError):
    """The thing asked for (an inspection, a work order) does not exist."""


class LineError(InspectorError):
    """The inspection line cannot run (no source, part not taught)."""

    exit_code = 3


def exit_code(exc: BaseException) -> int | None:
    """The command's exit code for a typed core error, None for anything else (a bug: traceback).

    Only :class:`InspectorError` and its subclasses (``WorkOrderError``, ``ModelError``,
    ``StoreError``, ``TraceError``...) count: the type decides, never the class name.
    """
    if isinstance(exc, InspectorError):
        return exc.exit_code
    return None


def describe(exc: BaseException) -> str:
    """The user-facing text of an error: typed core errors as they are, others with their type."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, KeyError) and exc.args:
        text = str(exc.args[0])
    if isinstance(exc, InspectorError | KeyError):
        return text
    return f"{type(exc).__name__}: {text}"
