"""Record which data files a notebook's kernel reads (imported at kernel start by the build).

The build starts each kernel with `--IPKernelApp.exec_lines=import analysis.readlog` and
`CRWV_READ_LOG=<file>`; an audit hook (PEP 578) then appends to that file every path under the
data folder that the kernel opens or lists, once each. The build compares the list with the
data files the notebook's content key covers (derived from the loaders it calls, see
`analysis.deps`), so a notebook can never read data that would not re-run it when it changes.
Without `CRWV_READ_LOG` (Lab, hand runs) importing this module does nothing.
"""

from __future__ import annotations

import os
import sys

_EVENTS = {"open", "os.listdir", "os.scandir"}


def _install(log_file: str, data_root: str) -> None:
    seen: set[str] = set()
    busy = False
    prefix = data_root.rstrip(os.sep) + os.sep

    def hook(event, args):
        nonlocal busy
        if event not in _EVENTS or busy or not args:
            return
        path = args[0]
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, str | os.PathLike):
            return
        full = os.path.abspath(os.fspath(path))
        if full != data_root and not full.startswith(prefix):
            return
        rel = os.path.relpath(full, data_root).replace(os.sep, "/")
        rel = "" if rel == "." else rel
        if event != "open":
            rel += "/"  # a listing: the set of files in that folder
        if rel in seen:
            return
        seen.add(rel)
        busy = True
        try:
            with open(log_file, "a", encoding="utf-8") as fh:
                fh.write(rel + "\n")
        finally:
            busy = False

    sys.addaudithook(hook)
    open(log_file, "a", encoding="utf-8").close()  # the file's existence says the hook is installed


if os.environ.get("CRWV_READ_LOG"):
    from . import paths

    _install(os.environ["CRWV_READ_LOG"], os.path.realpath(paths.data_dir()))
