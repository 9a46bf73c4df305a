"""Ctrl-C and SIGTERM for a whole command: both stop it the same way, with exit code 130
(SIGINT) or 143 (SIGTERM) and one line, never a traceback.

Python turns SIGINT into a KeyboardInterrupt raised wherever the program happens to be. In the
middle of a library's clean-up code that exception can turn into another one: OmegaConf,
interrupted while composing, raises ``AttributeError: 'NoneType' object has no attribute
'_invalidate_flags_cache'`` from its ``finally`` blocks, and Hydra reports that as a failed
job. :func:`interrupts` therefore records the signal as well as raising: whatever exception
comes out of the command once a signal came, the command was interrupted.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType

from gridsim.output.run_folder import Terminated

__all__ = ["Interrupts", "exit_code", "interrupts", "message"]


@dataclass
class Interrupts:
    """The signal that stopped the command, if one did."""

    received: int | None = None


@contextlib.contextmanager
def interrupts() -> Iterator[Interrupts]:
    """While the block runs (in the main thread), SIGINT raises KeyboardInterrupt and SIGTERM
    raises :class:`~gridsim.output.run_folder.Terminated`, and the signal is recorded. The
    previous handlers are restored after."""
    state = Interrupts()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        first = state.received is None
        state.received = signum
        if first:  # a second signal during the clean-up does not interrupt the clean-up
            raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    previous: dict[int, object] = {}
    for sig in (signal.SIGINT, getattr(signal, "SIGTERM", None)):
        if sig is None:
            continue
        with contextlib.suppress(ValueError, OSError):  # not settable here
            previous[sig] = signal.signal(sig, handler)
    try:
        yield state
    finally:
        for sig, old in previous.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(sig, old if old is not None else signal.SIG_DFL)  # type: ignore


def exit_code(exc: BaseException | None, state: Interrupts) -> int:
    """130 for Ctrl-C, 143 for SIGTERM (from the exception, or else the recorded signal)."""
    if isinstance(exc, Terminated) or state.received == getattr(signal, "SIGTERM", -1):
        return Terminated.exit_code
    return 130


def message(exc: BaseException | None, state: Interrupts) -> str:
    """The one line of an interrupted command."""
    what = ("terminated by SIGTERM" if exit_code(exc, state) == Terminated.exit_code
            else "interrupted (Ctrl-C)")
    folder = getattr(exc, "run_folder", None)
    if folder is not None:
        return (f"{what}: the run in {folder} is marked interrupted; run the same command "
                "again to run it")
    return what
