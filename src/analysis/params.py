"""Parameter files (`params/<variant>.yaml`): read and validated before anything runs.

A parameter file holds keys common to every notebook (`as_of`, `first_quarter`, ...) and a
`notebooks:` mapping `<notebook stem>: {parameter: value}`. A notebook receives the common keys
its `parameters` cell declares plus its own section. Checked here, each with the one error type
of the project (`DataValidationError`: file, line, key, value, expectation):

- `PARAMS` names a YAML file (not a folder, not another kind of file);
- the YAML is well formed (the error points at the line at fault), safe-loaded, no key twice;
- every top-level key is declared by at least one notebook's parameters cell (or `notebooks`);
- every `notebooks:` entry names a section notebook, and every parameter in it is declared by
  that notebook; a value has the kind of the notebook's default (number, text, list, ...);
- `as_of` is `latest` or a real ISO date within the data: not before the company's first price,
  not after the last date in the data.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import DataValidationError, display_path

SUFFIXES = (".yaml", ".yml")
NOTEBOOKS_KEY = "notebooks"
#: set by the build for each notebook, never by a parameter file
BUILD_INJECTED = frozenset({"results_dir"})
#: common keys a notebook's own section may not override (the note has one as-of date)
NOT_PER_NOTEBOOK = frozenset({"as_of"})
LATEST = "latest"
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class DataRange:
    """Dates an `as_of` may take: from the company's first price to the last date in the data."""

    first: str  # ISO date
    first_source: str  # where it comes from, e.g. "the first CRWV price in data/prices/CRWV.csv"
    last: str
    last_source: str


def check_path(arg) -> Path:
    """The parameter file named by `PARAMS=...`: an existing `.yaml` file, else an error."""
    text = str(arg)
    path = Path(text)
    if text.strip() and path.suffix in SUFFIXES and path.is_file():
        return path
    shown = text if text else "''"
    available = ", ".join(sorted(display_path(p) for p in _available())) or "none found"
    if not text.strip():
        raise DataValidationError("PARAMS", None, None, text, f"a parameter file such as params/default.yaml ({available})")
    if path.is_dir() or text.endswith(("/", "\\")):
        raise DataValidationError(f"PARAMS={shown}", None, None, text,
                                  f"a YAML parameter file, not a folder: PARAMS={text.rstrip('/')}/<name>.yaml ({available})")
    if path.suffix not in SUFFIXES:
        raise DataValidationError(f"PARAMS={shown}", None, None, text, f"a YAML file ending in .yaml ({available})")
    if not path.is_file():
        raise DataValidationError(f"PARAMS={shown}", None, None, text, f"an existing parameter file ({available})")
    return path


def _available() -> list[Path]:
    """The parameter files in params/ (listed in errors about PARAMS)."""
    from . import paths

    return [p for p in paths.params_dir().glob("*") if p.suffix in SUFFIXES and p.is_file()]


def _yaml_error(exc: yaml.YAMLError, file: str, lines: list[str]) -> DataValidationError:
    """A YAML syntax error at the line at fault: where an unclosed bracket or quote opens, else
    where the parser stopped."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    mark = getattr(exc, "problem_mark", None)
    ctx_mark = getattr(exc, "context_mark", None)
    if ctx_mark is not None and context and context.startswith(("while parsing a flow", "while scanning a quoted")):
        stop = f" (at line {mark.line + 1})" if mark is not None and mark.line != ctx_mark.line else ""
        mark, problem = ctx_mark, f"{context}: {problem}{stop}"
    line = mark.line + 1 if mark is not None else None
    text = lines[line - 1].strip() if line and line <= len(lines) else None
    return DataValidationError(file, line, None, text, f"valid YAML ({problem})")


def read_yaml(path: Path) -> tuple[object, dict[tuple, int]]:
    """Safe-load a YAML file; also returns {key path: line} of every mapping key. A key given
    twice in one mapping is an error (YAML would silently keep the last)."""
    file = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataValidationError(file, None, None, repr(exc.object[exc.start:exc.end]), "UTF-8 text") from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        doc = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, file, text.splitlines()) from None
    finally:
        loader.dispose()
    lines: dict[tuple, int] = {}

    def walk(n, prefix):
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                key = (*prefix, k.value)
                if key in lines:
                    raise DataValidationError(file, k.start_mark.line + 1, ".".join(map(str, key)), k.value,
                                              f"each key once (also on line {lines[key]})")
                lines[key] = k.start_mark.line + 1
                walk(v, key)

    walk(node, ())
    return doc, lines


def _suggest(name, known) -> str:
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _kind(value) -> str | None:
    """The kind of a default value a parameter must keep (None: anything goes)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "a boolean (true/false)"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return None


def _has_kind(value, kind: str) -> bool:
    return {"a boolean (true/false)": lambda v: isinstance(v, bool),
            "a number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "text": lambda v: isinstance(v, str),
            "a list": lambda v: isinstance(v, list),
            "a mapping": lambda v: isinstance(v, dict)}[kind](value)


def _plain(value):
    """YAML dates become ISO strings (what a notebook parameter can hold)."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def check_as_of(value, file: str, line: int | None, data_range: DataRange | None):
    """`as_of` as the build uses it: 'latest' or an ISO date string within the data's range."""
    expected = "'latest' or a real date YYYY-MM-DD"
    if isinstance(value, dt.datetime):
        raise DataValidationError(file, line, "as_of", value.isoformat(), expected + " (a day, no time)")
    if isinstance(value, dt.date):
        value = value.isoformat()
    if value == LATEST:
        return value
    if not isinstance(value, str) or not _ISO.fullmatch(value):
        raise DataValidationError(file, line, "as_of", value, expected)
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise DataValidationError(file, line, "as_of", value, expected + " (this day does not exist)") from None
    if data_range is not None:
        if value < data_range.first:
            raise DataValidationError(file, line, "as_of", value,
                                      f"a date on or after {data_range.first}, {data_range.first_source}")
        if value > data_range.last:
            raise DataValidationError(file, line, "as_of", value,
                                      f"a date on or before {data_range.last}, {data_range.last_source} "
                                      f"(or '{LATEST}')")
    return value


def load(params_file, declared: dict[str, dict] | None = None, data_range: DataRange | None = None) -> dict:
    """Read and validate a parameter file.

    `declared`: {notebook stem: {name: nbsource.Declared}} of the section notebooks (default:
    read from notebooks/); `data_range`: bounds for `as_of` (None: not checked).
    Returns {'name', 'file', 'common', 'notebooks', 'lines'}; YAML dates become ISO strings.
    """
    path = check_path(params_file)
    file = display_path(path)
    if declared is None:
        declared = declared_parameters()
    doc, lines = read_yaml(path)
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise DataValidationError(file, 1, None, doc, "a mapping of parameters (key: value lines)")
    common_known: dict[str, tuple[str, object]] = {}  # name -> (first notebook declaring it, its default)
    for stem, names in declared.items():
        for name, d in names.items():
            if name not in BUILD_INJECTED:
                common_known.setdefault(name, (stem, d.default if d.has_default else None))
    known_top = sorted({*common_known, NOTEBOOKS_KEY})
    shared = sorted({n for n in common_known if sum(n in names for names in declared.values()) > 1} | {NOTEBOOKS_KEY})
    common = {}
    for key, value in doc.items():
        line = lines.get((key,))
        if not isinstance(key, str):
            raise DataValidationError(file, line, None, key, "a parameter name (text)")
        if key == NOTEBOOKS_KEY:
            continue
        if key in BUILD_INJECTED:
            raise DataValidationError(file, line, key, value, "no results_dir: the build sets it")
        if key not in common_known:
            raise DataValidationError(file, line, key, value,
                                      f"a known key{_suggest(key, known_top)}: {', '.join(shared)}, or a parameter "
                                      "that a notebook's parameters cell declares")
        if key == "as_of":
            common[key] = check_as_of(value, file, line, data_range)
            continue
        stem, default = common_known[key]
        _check_kind(value, default, file, line, key, f"notebooks/{stem}.ipynb")
        common[key] = _plain(value)
    sections = doc.get(NOTEBOOKS_KEY)
    if sections is None:
        sections = {}
    if not isinstance(sections, dict):
        raise DataValidationError(file, lines.get((NOTEBOOKS_KEY,)), NOTEBOOKS_KEY, sections,
                                  "a mapping <notebook stem>: {parameter: value}")
    notebooks = {}
    for stem, own in sections.items():
        line = lines.get((NOTEBOOKS_KEY, stem))
        where = f"{NOTEBOOKS_KEY}.{stem}"
        if stem not in declared:
            raise DataValidationError(file, line, where, stem, f"a section notebook{_suggest(stem, declared)}: "
                                      + ", ".join(declared))
        own = own or {}
        if not isinstance(own, dict):
            raise DataValidationError(file, line, where, own, "a mapping parameter: value")
        names = declared[stem]
        out = {}
        for name, value in own.items():
            pline = lines.get((NOTEBOOKS_KEY, stem, name), line)
            key = f"{where}.{name}"
            if name in NOT_PER_NOTEBOOK:
                raise DataValidationError(file, pline, key, value, f"{name} once, at the top of the file")
            if name in BUILD_INJECTED or name not in names:
                usable = ", ".join(n for n in names if n not in BUILD_INJECTED) or "none"
                raise DataValidationError(file, pline, key, value,
                                          f"a parameter declared in notebooks/{stem}.ipynb{_suggest(name, names)}: {usable}")
            d = names[name]
            _check_kind(value, d.default if d.has_default else None, file, pline, key, f"notebooks/{stem}.ipynb")
            out[name] = _plain(value)
        notebooks[stem] = out
    return {"name": path.stem, "file": file, "path": path, "common": common, "notebooks": notebooks,
            "lines": {".".join(map(str, k)): v for k, v in lines.items()}}


def _check_kind(value, default, file, line, key, notebook) -> None:
    kind = _kind(default)
    if kind is not None and not _has_kind(_plain(value), kind):
        raise DataValidationError(file, line, key, value,
                                  f"{kind} like the default in {notebook} ({key.rsplit('.', 1)[-1]} = {default!r})")


def notebook_params(params: dict, stem: str, declared: dict) -> dict:
    """What the build injects into notebook `stem`: the common keys it declares + its own section."""
    out = {k: v for k, v in params["common"].items() if k in declared}
    out.update(params["notebooks"].get(stem) or {})
    return out


def declared_parameters(notebooks_dir=None) -> dict[str, dict]:
    """{stem: declared parameters} of every section notebook, in section order."""
    from . import nbsource, paths
    from .report.sections import discover

    folder = Path(notebooks_dir) if notebooks_dir is not None else paths.notebooks_dir()
    return {stem: nbsource.declared_parameters(nbsource.read(folder / f"{stem}.ipynb")) for stem in discover(folder)}
