"""What a notebook depends on, derived from its code: library modules and data files.

- `closure(code, ...)`: every module of the `analysis` package that the code imports,
  transitively (parent packages included). A module that imports by name at run time
  (`importlib.import_module`) is taken to import each sibling module named by a string in it,
  or all its siblings if none is named.
- `loader_names(code, modules)`: the `analysis.data` functions that the code and those modules
  (other than `analysis.data` itself) refer to; `data_files(...)` maps them to data files with
  the data package's own knowledge of which loader reads which file (`validate.loaders_for`),
  so no list of data files is kept by hand. The build checks the mapping on every execution:
  a notebook that opens a data file outside its derived set fails (see `analysis.readlog`).

Parsing results are cached by source content in `.cache/plan/scans.json` (`ScanCache`).
"""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from . import atomic, paths

PACKAGE = "analysis"
DATA_PACKAGE = "analysis.data"
#: data-package functions that are not per-file loaders: the path prefix of the files they read
NON_LOADERS = {"price_tickers": "prices/", "validate_all": "", "validate_file": ""}


@dataclass
class ModuleInfo:
    """Imports (absolute `analysis.*` module candidates) and identifiers of one module."""

    imports: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    dynamic: list[str] | None = None  # string constants, if the module imports by name at run time


def sha256_bytes(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def library_files(lib: Path | None = None) -> dict[str, Path]:
    """{module name: file} of every module in the `analysis` package."""
    lib = Path(lib) if lib is not None else paths.library_dir()
    out = {}
    for p in sorted(lib.rglob("*.py")):
        rel = p.relative_to(lib.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = p
    return out


def _resolve(module: str | None, level: int, current: str, is_package: bool) -> str | None:
    if level == 0:
        return module
    base = current.split(".") if is_package else current.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def scan(source: str, current: str = "__main__", is_package: bool = False) -> ModuleInfo:
    """Imports, identifiers and (if it imports by name at run time) string constants of a module."""
    tree = ast.parse(source)
    imports: set[str] = set()
    names: set[str] = set()
    strings: set[str] = set()
    dynamic = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            mod = _resolve(node.module, node.level, current, is_package)
            if mod:
                imports.add(mod)
                imports.update(f"{mod}.{a.name}" for a in node.names)
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
            if node.attr == "import_module":
                dynamic = True
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.add(node.value)
    if "__import__" in names:
        dynamic = True
    return ModuleInfo(sorted(i for i in imports if i == PACKAGE or i.startswith(PACKAGE + ".")), sorted(names),
                      sorted(strings) if dynamic else None)


class ScanCache:
    """`scan` results by source hash, kept in a JSON file between builds."""

    def __init__(self, cache_file: Path | None = None):
        self.file = Path(cache_file) if cache_file is not None else None
        self.old: dict = {}
        if self.file is not None and self.file.is_file():
            try:
                self.old = json.loads(self.file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.old = {}
        self.new: dict = {}

    def scan(self, source: str, current: str = "__main__", is_package: bool = False) -> ModuleInfo:
        h = sha256_bytes(f"{current}\0{is_package}\0{source}".encode())
        entry = self.new.get(h) or self.old.get(h)
        if entry is None:
            try:
                entry = scan(source, current, is_package).__dict__
            except SyntaxError:  # reported where it matters: by the kernel, naming the cell or module
                entry = ModuleInfo().__dict__
        self.new[h] = entry
        return ModuleInfo(**entry)

    def save(self) -> None:
        if self.file is not None and self.new != self.old:
            _write_json(self.file, self.new)


class Library:
    """The `analysis` package's modules with their content hashes and parsed imports."""

    def __init__(self, lib: Path | None = None, cache: ScanCache | None = None):
        self.files = library_files(lib)
        self.bytes = {m: p.read_bytes() for m, p in self.files.items()}
        self.hashes = {m: sha256_bytes(b) for m, b in self.bytes.items()}
        cache = cache or ScanCache()
        self.info: dict[str, ModuleInfo] = {
            m: cache.scan(self.bytes[m].decode("utf-8"), m, p.name == "__init__.py") for m, p in self.files.items()}

    def rel(self, module: str) -> str:
        """Path of a module relative to the checkout (`src/analysis/x.py`)."""
        return self.files[module].relative_to(paths.ROOT).as_posix() if paths.ROOT in self.files[module].parents \
            else self.files[module].as_posix()

    def _expand(self, name: str) -> set[str]:
        """The modules importing `name` executes: it (if a module) and its parent packages."""
        out = set()
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            m = ".".join(parts[:i])
            if m in self.files:
                out.add(m)
        return out

    def closure(self, imports) -> set[str]:
        """Every `analysis` module loaded by importing `imports` (transitively)."""
        todo = set()
        for name in imports:
            todo |= self._expand(name)
        seen: set[str] = set()
        while todo:
            m = todo.pop()
            if m in seen:
                continue
            seen.add(m)
            info = self.info[m]
            for name in info.imports:
                todo |= self._expand(name) - seen
            if info.dynamic is not None:
                pkg = m if self.files[m].name == "__init__.py" else m.rpartition(".")[0]
                siblings = {s for s in self.files if s.rpartition(".")[0] == pkg and s != m}
                named = {s for s in siblings if s.rpartition(".")[2] in info.dynamic}
                todo |= (named or siblings) - seen
        return seen

    def names(self, modules) -> set[str]:
        out: set[str] = set()
        for m in modules:
            out.update(self.info[m].names)
        return out


def compile_library(lib: Library) -> int:
    """Write hash-checked bytecode for modules whose `.pyc` is missing or stale; returns how many.

    Processes started by the build (plan, kernels, note) then skip compiling the library even
    with PYTHONDONTWRITEBYTECODE=1 (which only stops Python from *writing* bytecode). A checked
    `.pyc` is used only if the hash of the source matches, so file times never matter."""
    import importlib.util
    import py_compile

    n = 0
    for m, path in lib.files.items():
        target = Path(importlib.util.cache_from_source(str(path)))
        want = importlib.util.source_hash(lib.bytes[m])
        try:
            with open(target, "rb") as fh:
                head = fh.read(16)
            if head[:4] == importlib.util.MAGIC_NUMBER and head[4:8] == b"\x03\x00\x00\x00" and head[8:16] == want:
                continue
        except OSError:
            pass
        try:
            py_compile.compile(str(path), cfile=str(target), doraise=True,
                               invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
            n += 1
        except (OSError, py_compile.PyCompileError):
            pass  # a read-only tree or a syntax error: Python compiles (and reports) at import
    return n


def code_info(sources: list[str], cache: ScanCache | None = None) -> ModuleInfo:
    """Imports and names of notebook code cells (each parsed on its own)."""
    imports: set[str] = set()
    names: set[str] = set()
    for src in sources:
        try:
            info = cache.scan(src) if cache is not None else scan(src)
        except SyntaxError:  # the cell fails when it runs, and the build names it
            continue
        imports.update(info.imports)
        names.update(info.names)
    return ModuleInfo(sorted(imports), sorted(names))


def loader_names(code: ModuleInfo, lib: Library, modules) -> set[str]:
    """Identifiers in the code and in `modules` outside the data package (candidates for loaders)."""
    outside = [m for m in modules if m != DATA_PACKAGE and not m.startswith(DATA_PACKAGE + ".")]
    return set(code.names) | lib.names(outside)


def loader_files(data_files: list[str]) -> dict[str, list[str]]:
    """{loader function name: data files it reads} from `analysis.data.validate.loaders_for`
    (own file and cross-file rules) for the files now in the data folder. Imports pandas."""
    from .data.validate import loaders_for

    out: dict[str, set[str]] = {}
    for rel in data_files:
        for name, _fn in loaders_for(rel):
            out.setdefault(name.split("(")[0], set()).add(rel)
    for name, prefix in NON_LOADERS.items():
        out[name] = {rel for rel in data_files if rel.startswith(prefix)}
    return {k: sorted(v) for k, v in sorted(out.items())}


def data_for(names: set[str], files_by_loader: dict[str, list[str]]) -> list[str]:
    """Data files read by the loaders among `names`."""
    out: set[str] = set()
    for n in names & set(files_by_loader):
        out.update(files_by_loader[n])
    return sorted(out)


def _write_json(path: Path, obj) -> None:
    atomic.write_text(path, json.dumps(obj, sort_keys=True))
