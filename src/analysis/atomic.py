"""Atomic file writes (temp file in the same folder + rename): a reader, or an interrupted or
failed build, never sees a half-written file. Standard library only (cheap to import)."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from pathlib import Path


def write_bytes(target, data: bytes) -> None:
    """Write `data` to `target` atomically; an I/O error names `target`, not the temp file."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a note is for reading
        os.replace(tmp, target)
    except OSError as exc:  # disk full, file-size limit
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(target)) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(target, text: str) -> None:
    write_bytes(target, text.encode("utf-8"))


def write_if_changed(target, text: str) -> bool:
    """Write `text` atomically unless `target` already holds exactly that (its time stays, so
    make sees no change); True if written."""
    try:
        if Path(target).read_text(encoding="utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    write_text(target, text)
    return True


@contextlib.contextmanager
def signals_deferred():
    """Hold Ctrl-C/SIGTERM/SIGHUP until the block is done: files written together (the note's
    HTML and PDF) are all replaced or none is. A signal that arrives meanwhile acts right after."""
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
