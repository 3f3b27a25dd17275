"""The project's one error type for bad input."""

from __future__ import annotations

from pathlib import Path


class DataValidationError(ValueError):
    """Bad input: names the file, the 1-based line, the column, the bad value and what was expected.

    `line` counts physical lines of the file as a text editor shows them (the header is line 1);
    for YAML files it is the line of the offending entry, and `column` names the field.
    """

    def __init__(self, file, line, column, value, expected: str):
        self.file = str(file)
        self.line = line
        self.column = column
        self.value = value
        self.expected = expected
        where = self.file
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: got {value!r}; expected {expected}")


def display_path(path) -> str:
    """Path relative to the current directory when possible (short, clickable in a terminal)."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)
