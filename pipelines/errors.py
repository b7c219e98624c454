"""The exception boundary: a failure becomes one line with a stable code, never values.

A database error's text can carry the values of the row it was about (PostgreSQL's ``DETAIL:
Key (snils)=(…) already exists``), a parser's the bytes it choked on. Nothing of that leaves the
process: the command line and every DAG task end a failure through :func:`describe`, which says
what kind of failure it was and where (the file id), from the exception's type and codes alone.
"""

from __future__ import annotations

import contextvars
import errno
import functools
import logging
import traceback
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

# the received file being worked on, for the one line that says where a failure happened
current_file: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "erzl_current_file", default=None
)


class PipelineFailure(RuntimeError):
    """A failure already described without personal data: safe to log, print and re-raise."""

    def __init__(self, line: str) -> None:
        super().__init__(line)
        self.line = line


def describe(exc: BaseException) -> str:
    """``E<code> <what happened>[ (file <id>)]`` from the exception's type and codes only."""
    from sqlalchemy.exc import (
        ArgumentError,
        DBAPIError,
        NoSuchModuleError,
        OperationalError,
        SQLAlchemyError,
    )

    from pipelines.parse.xmlsafe import FileError

    if isinstance(exc, PipelineFailure):
        return exc.line
    if isinstance(exc, FileError):  # its detail is written value-free where it is raised
        line = f"{exc.code} {exc.detail}"
    elif isinstance(exc, (ArgumentError, NoSuchModuleError)):
        line = "E105 ERZL_DATABASE_URL is not a database URL this installation can use"
    elif isinstance(exc, DBAPIError):
        kind = type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__
        sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        # a failed connection has no SQLSTATE: its text (server, port, database — no person's
        # data) is read to classify it, and never printed
        said = str(exc.orig) if sqlstate is None and exc.orig is not None else ""
        if sqlstate == "3D000" or ("database" in said and "does not exist" in said):
            line = "E106 the database named by ERZL_DATABASE_URL does not exist"
        elif sqlstate in ("28000", "28P01") or "authentication failed" in said:
            line = "E107 the database refused the credentials in ERZL_DATABASE_URL"
        elif (
            exc.connection_invalidated
            or sqlstate in ("57P01", "57P02", "57P03", "08006", "08001")
            or (isinstance(exc, OperationalError) and sqlstate is None)
        ):
            line = f"E102 the database cannot be reached, or the connection was lost ({kind})"
        else:
            line = f"E101 database error: {kind}" + (f", SQLSTATE {sqlstate}" if sqlstate else "")
    elif isinstance(exc, SQLAlchemyError):
        line = f"E101 database error: {type(exc).__name__}"
    elif isinstance(exc, UnicodeError):
        line = "E104 the file is not text in the expected encoding (UTF-8)"
    elif isinstance(exc, OSError) and exc.errno is not None:
        name = errno.errorcode.get(exc.errno, str(exc.errno))
        line = f"E103 file system error: {exc.strerror or name} ({name})"
    else:
        line = f"E100 internal error: {type(exc).__name__}"
    file_id = current_file.get()
    return f"{line} (file {file_id})" if file_id is not None else line


def frames(exc: BaseException) -> str:
    """Where the failure happened — files, lines, functions — without any exception's text."""
    return "".join(traceback.format_tb(exc.__traceback__))


def boundary(fn: Callable[..., T]) -> Callable[..., T]:
    """Let ``fn`` fail only with a :class:`PipelineFailure` whose text holds no values; the
    original exception is not chained, so no traceback printer can show its message."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except PipelineFailure:
            raise
        except Exception as exc:
            line = describe(exc)
            log.error("%s failed: %s", fn.__name__, line)
            raise PipelineFailure(line) from None

    return wrapper
