"""Writing files so that a reader never sees half of one: the one atomic-write helper.

Every file gridsim writes goes through :func:`write_atomic` (text or bytes) or
:func:`atomic_target` (for writers that want a file name: matplotlib, pyarrow). The content goes
to a temporary file beside the target, ``<name>.part``, which is renamed into place when
complete; on any error, Ctrl-C included, the temporary file is removed and the target is left as
it was. A ``*.part`` file is therefore only ever left by a process that was killed outright
(``SIGKILL``); :func:`remove_partial_files` clears those.

This module sits below every layer of gridsim (it imports nothing of gridsim).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["PARTIAL_SUFFIX", "atomic_target", "file_sha256", "remove_partial_files",
           "write_atomic"]

#: The suffix of a file being written (renamed into place when complete).
PARTIAL_SUFFIX = ".part"


def _partial(path: Path) -> Path:
    return path.with_name(path.name + PARTIAL_SUFFIX)


@contextlib.contextmanager
def atomic_target(path: Path | str) -> Iterator[Path]:
    """A temporary path to write ``path``'s content to; renamed to ``path`` when the block ends
    without an exception, removed when it raises (the exception propagates)."""
    path = Path(path)
    tmp = _partial(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_atomic(path: Path | str, content: str | bytes) -> Path:
    """Write ``content`` (text as UTF-8 with ``\\n`` line ends as given, or bytes) to ``path``
    through a temporary file and a rename; returns ``path``."""
    path = Path(path)
    with atomic_target(path) as tmp:
        if isinstance(content, bytes):
            tmp.write_bytes(content)
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                fh.write(content)
    return path


def remove_partial_files(folder: Path | str) -> list[Path]:
    """Delete the ``*.part`` files a killed process left in ``folder`` (not in sub-folders);
    returns them."""
    folder = Path(folder)
    found = sorted(folder.glob(f"*{PARTIAL_SUFFIX}")) if folder.is_dir() else []
    for f in found:
        f.unlink(missing_ok=True)
    return found


#: A file's state that a change of content changes: size, modification and change times, inode.
_Stat = tuple[int, int, int, int]
#: A file whose modification time is this close to when it was digested may still change
#: within the same timestamp tick: its content is hashed again (the "racy" case).
_RACY_NS = 2_000_000_000
#: path -> (state when hashed, SHA-256, when hashed): the digests of this process.
_DIGESTS: dict[str, tuple[_Stat, str, int]] = {}


def _stat(path: str) -> _Stat | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def file_sha256(path: Path | str) -> str | None:
    """The SHA-256 of a file's content, ``None`` if it does not exist; other ``OSError``s
    propagate. The content is read once per process while the file's size, times and inode
    stay the same (and its last change is more than a timestamp tick older than the digest),
    so asking again for an unchanged file costs one ``stat``."""
    key = os.path.abspath(path)
    stat = _stat(key)
    if stat is None:
        _DIGESTS.pop(key, None)
        return None
    known = _DIGESTS.get(key)
    if known is not None and known[0] == stat and known[2] - stat[1] > _RACY_NS:
        return known[1]
    h = hashlib.sha256()
    with open(key, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    digest = h.hexdigest()
    _DIGESTS[key] = (stat, digest, time.time_ns())
    return digest
