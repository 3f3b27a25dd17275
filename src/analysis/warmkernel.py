"""Warm kernels: notebook kernels forked from a process that has already imported the heavy libraries.

Every kernel of a build imports numpy, pandas, scipy, statsmodels, matplotlib and ipykernel
before it computes anything: about 1.5 s of CPU per notebook. The build instead asks a small
server (the *zygote*, one per checkout and environment, started on first use, gone after
`IDLE_SECONDS` without requests) to fork a kernel from its already-warm memory. The child then
becomes an ordinary ipykernel (`python -m ipykernel_launcher -f <connection file> ...`) with the
requester's environment and folder; nothing of the build's library (`analysis`) is preloaded,
so a library edit is always seen. Outputs are the same bytes as with a freshly started kernel
(tested), and anything unexpected falls back to starting the kernel the usual way.

`CRWV_WARM_KERNELS=0` turns it off. The server listens on an abstract Unix socket named after
the checkout, the environment and the environment variables that can matter at import, and
serves only processes of its own user.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import time

#: what every notebook kernel imports anyway (not the project's own library)
WARM_IMPORTS = ("numpy", "pandas", "scipy.stats", "scipy.optimize", "statsmodels.api", "matplotlib",
                "matplotlib.figure", "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger", "IPython")
IDLE_SECONDS = 30
START_TIMEOUT = 60
#: variables a kernel gets from its request, not from the server (they never matter at import)
VOLATILE_PREFIXES = ("CRWV_", "MAKE", "MFLAGS", "JPY_", "PYTEST_")
VOLATILE_NAMES = ("SOURCE_DATE_EPOCH", "PWD", "OLDPWD", "SHLVL", "_")
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


class Unavailable(Exception):
    """No warm kernel: start one the usual way."""


def enabled() -> bool:
    return os.environ.get("CRWV_WARM_KERNELS", "1") != "0" and hasattr(os, "fork") and sys.platform == "linux"


def _command_line_names(makeflags: str) -> set[str]:
    """Variables set on make's command line (`make report PARAMS=...`): make exports them to every
    recipe and lists them in MAKEFLAGS after ' -- '. They choose a variant, never an import."""
    _, sep, assigned = makeflags.partition(" -- ")
    return {word.split("=", 1)[0] for word in assigned.split() if "=" in word} if sep else set()


def _stable_env(env: dict) -> dict:
    """The environment a server is named after: without what varies between the requests of one
    checkout (make's, the build's and the variant's variables)."""
    volatile = set(VOLATILE_NAMES) | _command_line_names(env.get("MAKEFLAGS", ""))
    return {k: v for k, v in env.items() if k not in volatile and not k.startswith(VOLATILE_PREFIXES)}


def server_name(env: dict | None = None) -> str:
    """The abstract socket of the server for this interpreter, checkout and environment."""
    from . import paths

    lock = paths.ROOT / "uv.lock"
    ident = {"python": os.path.realpath(sys.executable), "prefix": sys.prefix, "root": str(paths.ROOT),
             "version": sys.version, "lock": hashlib.sha256(lock.read_bytes()).hexdigest() if lock.is_file() else "",
             "env": _stable_env(dict(os.environ if env is None else env)), "uid": os.getuid()}
    digest = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:32]
    return f"crwv-note-warm-kernel-{digest}"


# ----------------------------------------------------------------------------- client side

def _connect(name: str) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(START_TIMEOUT)
    s.connect("\0" + name)
    return s


def _spawn(name: str) -> None:
    from . import paths

    log = paths.cache_dir() / "warmkernel.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as fh:
        subprocess.Popen([sys.executable, "-m", "analysis.warmkernel", name], cwd=paths.ROOT, stdin=subprocess.DEVNULL,
                         stdout=fh, stderr=fh, start_new_session=True, env=_stable_env(dict(os.environ)))


def prestart() -> None:
    """Start this environment's server if none is up, without waiting: the plan calls it when a
    notebook will run, so the server warms up while make starts the executions."""
    if not enabled():
        return
    name = server_name()
    try:
        _connect(name).close()
    except OSError:
        _spawn(name)


def _server(name: str) -> socket.socket:
    """A connection to the server, starting it if there is none (a server that finds another
    one starting exits at once, so concurrent first requests start one; asked again each second)."""
    try:
        return _connect(name)
    except OSError:
        _spawn(name)
    start = time.monotonic()
    asked = start
    while time.monotonic() < start + START_TIMEOUT:
        try:
            return _connect(name)
        except OSError:
            time.sleep(0.05)
        if time.monotonic() - asked > 1:
            _spawn(name)
            asked = time.monotonic()
    raise Unavailable("the warm-kernel server did not start")


def fork_kernel(cmd: list[str], env: dict, cwd) -> int:
    """Ask the server to fork `python -m ipykernel_launcher ...` (`cmd`); returns the kernel's pid."""
    if len(cmd) < 3 or cmd[1:3] != ["-m", "ipykernel_launcher"] or os.path.realpath(cmd[0]) != os.path.realpath(sys.executable):
        raise Unavailable(f"not a kernel of this environment: {cmd[:3]}")
    name = server_name(env)
    request = {"args": cmd[3:], "env": dict(env), "cwd": str(cwd or os.getcwd())}
    try:
        with _server(name) as s:
            s.sendall(json.dumps(request).encode() + b"\n")
            reply = json.loads(s.makefile("rb").readline() or b"{}")
    except (OSError, ValueError) as exc:
        raise Unavailable(str(exc)) from None
    if "pid" not in reply:
        raise Unavailable(reply.get("error", "no reply"))
    return int(reply["pid"])


class ForkedProcess:
    """A kernel forked by the server, as much of `subprocess.Popen` as jupyter_client uses."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode = None
        self._fd = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else None

    def poll(self):
        if self.returncode is None:
            if self._fd is not None:
                if select.select([self._fd], [], [], 0)[0]:
                    os.close(self._fd)
                    self._fd, self.returncode = None, 0
            else:
                try:
                    os.kill(self.pid, 0)
                except ProcessLookupError:
                    self.returncode = 0
        return self.returncode

    def wait(self, timeout=None):
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, sig):
        if self.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def terminate(self):
        self.send_signal(signal.SIGTERM)

    def kill(self):
        self.send_signal(signal.SIGKILL)


def kernel_manager_class():
    """An AsyncKernelManager whose kernels are forked warm (falling back to a normal start)."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning import LocalProvisioner

    class WarmProvisioner(LocalProvisioner):
        async def launch_kernel(self, cmd, **kwargs):
            try:
                pid = fork_kernel(cmd, kwargs.get("env") or dict(os.environ), kwargs.get("cwd"))
            except Unavailable as exc:
                self.log.debug("warm kernel unavailable (%s): starting one", exc)
                return await super().launch_kernel(cmd, **kwargs)
            self.process = ForkedProcess(pid)
            self.pid = self.pgid = pid
            self.cwd = kwargs.get("cwd")
            return self.connection_info

    class WarmKernelManager(AsyncKernelManager):
        async def _async_pre_start_kernel(self, **kw):
            if self.provisioner is None:
                self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or __import__("uuid").uuid4().hex
                self.provisioner = WarmProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
            return await super()._async_pre_start_kernel(**kw)

    return WarmKernelManager


# ----------------------------------------------------------------------------- the server

def _reap(*_):
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _watch(owner: int) -> None:
    """Exit when the process that asked for this kernel is gone (as ipykernel's parent poller
    does for a kernel it started: a killed build leaves no kernel behind)."""
    try:
        fd = os.pidfd_open(owner)
        select.select([fd], [], [])
    except (AttributeError, OSError):
        while True:
            try:
                os.kill(owner, 0)
            except ProcessLookupError:
                break
            time.sleep(1)
    os._exit(1)


def _child(req: dict, owner: int) -> None:
    """In the forked process: become `python -m ipykernel_launcher <args>` for the requester."""
    import random
    import runpy
    import threading

    os.setsid()
    if _lock_fd is not None:
        os.close(_lock_fd)  # the server's start lock is the server's, not its kernels'
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.chdir(req["cwd"])
    sys.path[0] = os.path.abspath(req["cwd"])  # as `python -m` run there would have it
    os.environ.clear()
    os.environ.update(req["env"])
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    random.seed()  # a fresh process's state, not a copy of the server's
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    for mod in [m for m in sys.modules if m == "analysis" or m.startswith("analysis.")]:
        del sys.modules[mod]  # the server's own (this module, paths): the kernel imports the library afresh
    sys.argv = ["ipykernel_launcher", *req["args"]]
    threading.Thread(target=_watch, args=(owner,), daemon=True, name="crwv-owner-watch").start()
    code = 0
    try:
        runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def registry():
    """Folder where running servers of this checkout leave their names (`.cache/warmkernel/`)."""
    from . import paths

    return paths.cache_dir() / "warmkernel"


def stop_all() -> tuple[float, float]:
    """Stop this checkout's servers; returns the CPU seconds (user, system) they and the kernels
    they forked used (`make bench` counts it: forked kernels are not the build's children)."""
    user = system = 0.0
    folder = registry()
    for f in sorted(folder.glob("crwv-note-warm-kernel-*")) if folder.is_dir() else []:
        if f.suffix == ".lock":
            continue
        try:
            with _connect(f.name) as s:
                s.sendall(b'{"stop": true}\n')
                reply = json.loads(s.makefile("rb").readline() or b"{}")
            user, system = user + reply.get("user", 0.0), system + reply.get("system", 0.0)
        except (OSError, ValueError):
            f.unlink(missing_ok=True)
    return user, system


#: this server's start lock (held for its life; closed in every forked kernel)
_lock_fd: int | None = None


def _claim(name: str) -> bool:
    """Whether this process is the one server of `name` (an exclusive lock on a file of the
    registry, taken before the imports: a second server started meanwhile exits at once)."""
    import fcntl

    global _lock_fd
    folder = registry()
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    _lock_fd = fd
    return True


def serve(name: str, idle: float = IDLE_SECONDS) -> None:
    if not _claim(name):
        return  # another server for the same environment is starting or up
    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)  # what ipykernel sets before any user import
    import importlib
    import threading

    for mod in WARM_IMPORTS:
        importlib.import_module(mod)
    if threading.active_count() != 1:
        raise SystemExit("warm kernels: an import started a thread; forking is not safe")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        srv.bind("\0" + name)
    except OSError:
        return  # another server for the same environment is already up
    srv.listen(16)
    srv.settimeout(idle)
    signal.signal(signal.SIGCHLD, _reap)
    mark = registry() / name
    mark.parent.mkdir(parents=True, exist_ok=True)
    mark.write_text(f"{os.getpid()}\n")
    try:
        _loop(srv, name)
    finally:
        mark.unlink(missing_ok=True)


def _reply(conn: socket.socket, msg: dict) -> None:
    """Answer a client; one that has gone (a probe, a killed build) is no error of the server's."""
    try:
        conn.sendall(json.dumps(msg).encode() + b"\n")
    except OSError:
        pass


def _loop(srv: socket.socket, name: str) -> None:
    creds = struct.Struct("3i")
    while True:
        try:
            conn, _ = srv.accept()
        except TimeoutError:
            return
        with conn:
            peer, uid, _gid = creds.unpack(conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, creds.size))
            if uid != os.getuid():
                continue
            try:
                conn.settimeout(10)
                line = conn.makefile("rb").readline()
                if not line.strip():
                    continue  # a probe (`prestart`): connected, asked nothing
                req = json.loads(line)
                if req.get("stop"):
                    _reap()
                    t = os.times()
                    _reply(conn, {"user": t.user + t.children_user, "system": t.system + t.children_system})
                    return
                pid = os.fork()
            except (OSError, ValueError) as exc:
                _reply(conn, {"error": str(exc)})
                continue
            if pid == 0:
                srv.close()
                conn.close()
                _child(req, peer)
            _reply(conn, {"pid": pid})


if __name__ == "__main__":
    serve(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else IDLE_SECONDS)
