"""Crash-safe file writes and folder locks shared by the run store and the notebook runner.

* :func:`atomic_write` writes ``data`` to a temporary file with a per-process name in the target's
  folder, flushes it to disk and renames it over the target: a reader (or a killed writer's next
  run) sees the old file or the new one, never a mix. A failed write removes its temporary; a
  full disk, a quota or a missing permission becomes one :class:`StoreError` naming the file and
  the fix.
* :class:`FolderLock` is an OS lock (``flock``) on ``<folder>/<name>``: the OS releases it when
  its holder dies, so a lock is never stale; the file keeps the last holder's host, pid and start
  time so a waiting process can say whom it waits for.

No torch here: the CLI imports this module.
"""

from __future__ import annotations

import datetime as _dt
import errno
import json
import os
import secrets
import socket
import sys
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover  (Windows: no flock; locking is a no-op there)
    fcntl = None

TMP_SUFFIX = ".tmp"
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


class StoreError(RuntimeError):
    """A file of the run store or of an output folder cannot be read or written; the message
    names the file and the fix (one line)."""


class LockBusy(StoreError):
    """Another process holds the lock (``owner`` describes it)."""

    def __init__(self, message: str, owner: str = ""):
        super().__init__(message)
        self.owner = owner


def first_line(exc: BaseException) -> str:
    """``"<ExceptionType>: <first line of its message>"``, for one-line errors."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def os_error(exc: OSError, path: Path, action: str = "write") -> StoreError:
    """One-line :class:`StoreError` for an ``OSError`` while writing ``path``."""
    folder = path.parent
    if exc.errno == errno.EFBIG:
        return StoreError(
            f"cannot {action} {path}: file size limit exceeded (the shell's `ulimit -f`); raise "
            "the limit (ulimit -f unlimited) and rerun: finished epochs and notebooks are kept"
        )
    if exc.errno in _DISK_FULL:
        why = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded"}[
            exc.errno
        ]
        return StoreError(
            f"cannot {action} {path}: {why}; free space in {folder} (or point the store/outputs "
            "elsewhere) and rerun: finished epochs and notebooks are kept"
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StoreError(
            f"cannot {action} {path}: permission denied ({os.strerror(exc.errno)}); make {folder} "
            "writable or point the store/outputs to a writable folder"
        )
    return StoreError(f"cannot {action} {path}: {first_line(exc)}")


def tmp_name(path: Path) -> Path:
    """A temporary name next to ``path``, unique to this process and call."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{TMP_SUFFIX}")


def _replace(src: Path, dst: Path) -> None:
    os.replace(src, dst)  # one indirection: the fault-injection tests patch it


def atomic_write(path: str | Path, data: bytes | str, fsync: bool = True) -> None:
    """Write ``data`` to ``path`` atomically (temporary + flush + rename); see the module doc."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    tmp = tmp_name(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        _replace(tmp, path)
    except BaseException as e:
        try:
            tmp.unlink()
        except OSError:
            pass
        if isinstance(e, OSError):
            raise os_error(e, path) from None
        raise


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write(path, json.dumps(obj, indent=1, default=str) + "\n", fsync=False)


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete the temporaries a killed writer left in ``folder`` (call while holding its lock)."""
    removed = []
    for p in folder.glob(f".*{TMP_SUFFIX}"):
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


class FolderLock:
    """Exclusive OS lock on ``folder/name`` (a context manager); see the module doc.

    ``acquire(wait=False)`` raises :class:`LockBusy` naming the holder when the lock is taken;
    ``wait=True`` blocks until it is free (printing once whom it waits for when ``say``).
    """

    def __init__(self, folder: str | Path, name: str = "lock", what: str = "this folder"):
        self.path = Path(folder) / name
        self.what = what
        self._fd: int | None = None

    def owner(self) -> str:
        try:
            info = json.loads(self.path.read_text())
            return f"pid {info['pid']} on {info['host']} since {info['since']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "another process"

    def acquire(self, wait: bool = False, say: bool = True) -> FolderLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as e:
            raise os_error(e, self.path, "lock") from None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = self.owner()
                if not wait:
                    os.close(fd)
                    raise LockBusy(
                        f"{self.what} is in use by {owner} (lock {self.path}); wait for it to "
                        "finish",
                        owner,
                    ) from None
                if say:
                    print(f"waiting for {self.what}, in use by {owner}", file=sys.stderr)
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError as e:  # ENOLCK, EOPNOTSUPP: a filesystem without locks
                print(
                    f"warning: cannot lock {self.path} ({first_line(e)}); {self.what} is not "
                    "protected against a second process using it at the same time",
                    file=sys.stderr,
                )
        info = {"host": socket.gethostname(), "pid": os.getpid(), "since": _now()}
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode(), 0)
        except OSError:
            pass  # the owner note is informative only
        self._fd = fd
        return self

    def held_elsewhere(self) -> bool:
        """Whether another process holds the lock now (without taking it)."""
        if fcntl is None or not self.path.exists():
            return False
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)  # no owner note once free
            except OSError:
                pass
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def __enter__(self) -> FolderLock:
        if self._fd is None:
            self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
