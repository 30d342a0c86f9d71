"""One writer of index files per data directory: an exclusive ``flock`` on ``<data_dir>/index.lock``.

The process that holds the lock is the *writer* (``schrijver``): it embeds what changed and writes
``<data_dir>/index/*``. Every other process is a *reader* (``lezer``): it loads the saved index files,
embeds no bestand, and writes no index file (:mod:`matching.index_sync`). So a service with several
worker processes, or the CLI next to a running service, never starts a second embedding run, and two
processes never write the same index files.

The lock is the kernel's: it is released when the holder exits, also when it crashes, so a stale
lock file means nothing. The file holds the writer's pid, for the status of the others. Inside one
process the lease is shared (counted), so several matchers of one process (tests, a benchmark) all
write, as one process did before; ``flock`` would otherwise refuse a second open of the same file.
"""

from __future__ import annotations

import fcntl
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

LOCK_NAME = "index.lock"


@dataclass
class _Lease:
    handle: IO[str]
    holders: int


_leases: dict[Path, _Lease] = {}
_guard = threading.Lock()


def lock_path(data_dir: Path) -> Path:
    """Where the lock of ``data_dir`` lives (absolute, so two spellings of one directory agree)."""
    return (Path(data_dir) / LOCK_NAME).resolve()


def acquire(data_dir: Path) -> bool:
    """Become (or stay) the writer of ``data_dir``'s indexes; False when another process is.

    Never waits: a process that does not get the lock reads instead (and may ask again later).
    """
    path = lock_path(data_dir)
    with _guard:
        lease = _leases.get(path)
        if lease is not None:
            lease.holders += 1
            return True
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+", encoding="ascii")  # "a+": never truncates the holder's pid before we hold it
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        _leases[path] = _Lease(handle, 1)
        return True


def release(data_dir: Path) -> None:
    """Give one lease back; the last one of this process unlocks (another process may then write)."""
    path = lock_path(data_dir)
    with _guard:
        lease = _leases.get(path)
        if lease is None:
            return
        lease.holders -= 1
        if lease.holders > 0:
            return
        del _leases[path]
        lease.handle.seek(0)
        lease.handle.truncate()  # no pid left behind for a lock nobody holds
        fcntl.flock(lease.handle, fcntl.LOCK_UN)
        lease.handle.close()


def writer_pid(data_dir: Path) -> int | None:
    """The pid of the process that writes ``data_dir``'s indexes now; None when none does.

    Asks the kernel (a shared lock that cannot be had means a writer holds the exclusive one), so a
    crashed writer's pid, still in the file, is not reported. 0 when a writer holds the lock but has
    not written its pid yet.
    """
    path = lock_path(data_dir)
    with _guard:
        if path in _leases:
            return os.getpid()
    try:
        handle = path.open(encoding="ascii")
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = handle.read().strip()
            return int(text) if text.isdigit() else 0
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None
