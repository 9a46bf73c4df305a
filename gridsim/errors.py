"""Problems a user can fix, and the one way gridsim reports them: one line each, on stderr, as
``gridsim: <what>: <path or key> (<what to do>)``, with exit code 2 (1 for a run that failed).

* :class:`UserError` is raised for anything the user can fix: a bad path, a file that does
  not parse, a folder that cannot be written. It names what, where and what to do.
* :func:`os_error` turns an :class:`OSError` from the file system (a folder under a file, a
  read-only place, a full disk, a name too long) into a :class:`UserError` that says so.
* :func:`report` prints any of these (and the list-of-lines errors of the config and scenario
  checks, which carry ``errors``) and returns the exit code. Commands call it at their top, so
  a user never sees a traceback for a problem of theirs.

This module sits below every layer of gridsim (it imports nothing of gridsim).
"""

from __future__ import annotations

import errno
import sys
from pathlib import Path
from typing import TextIO

__all__ = ["UserError", "os_error", "report"]


class UserError(Exception):
    """A problem the user can fix. ``lines`` are the problem lines (usually one)."""

    def __init__(self, what: str, where: str | Path | None = None, hint: str | None = None,
                 *, code: int = 2) -> None:
        line = what
        if where is not None and str(where) != "":
            line += f": {where}"
        if hint:
            line += f" ({hint})"
        self.lines = [line]
        self.code = code
        super().__init__(line)


_OS_HINTS = {
    errno.ENOTDIR: ("a part of the path is a file, not a folder",
                    "choose a folder path whose parents are folders"),
    errno.EEXIST: ("a file is in the way", "remove it or choose another path"),
    errno.EISDIR: ("a folder is in the way", "remove it or choose another path"),
    errno.EACCES: ("permission denied", "choose a place you may write to"),
    errno.EPERM: ("permission denied", "choose a place you may write to"),
    errno.EROFS: ("the file system is read-only", "choose a place you may write to"),
    errno.ENOSPC: ("no space left on the device", "free some space or choose another disk"),
    errno.EDQUOT: ("disk quota exceeded", "free some space or choose another disk"),
    errno.ENAMETOOLONG: ("a file name is too long for the file system",
                         "shorten it: most file systems allow at most 255 bytes a name"),
    errno.ENOENT: ("no such file or folder", "check the path"),
}


def os_error(exc: OSError, action: str = "cannot write") -> UserError:
    """A :class:`UserError` for a file-system error, e.g. ``cannot write the run folder: no space
    left on the device: out/run (free some space or choose another disk)``."""
    what, hint = _OS_HINTS.get(exc.errno or -1, (exc.strerror or type(exc).__name__, None))
    where = exc.filename if exc.filename is not None else ""
    return UserError(f"{action}: {what}", where, hint)


def report(exc: BaseException, stream: TextIO | None = None) -> int:
    """Print ``exc`` as ``gridsim: ...`` lines and return the exit code it calls for."""
    out = stream if stream is not None else sys.stderr
    if isinstance(exc, OSError) and not isinstance(exc, UserError):
        exc = os_error(exc)
    lines: list[str]
    code = 2
    if isinstance(exc, UserError):
        lines, code = exc.lines, exc.code
    elif isinstance(getattr(exc, "errors", None), list):  # ConfigError, ScenarioDataError
        lines = [str(e) for e in exc.errors]  # type: ignore[attr-defined]
    else:
        lines = [f"{type(exc).__name__}: {exc}"]
        code = 1
    for line in lines:
        out.write(f"gridsim: {line}\n")
    out.flush()
    return code
