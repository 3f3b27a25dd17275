"""CoreWeave research-note analysis library."""

import sys as _sys

# jsonschema (imported by nbformat, papermill and nbconvert) tries its optional IRI format checker,
# rfc3987_syntax, at import, which compiles 39 Lark grammars: 1-2 s in every process that reads a
# notebook (python-jsonschema/jsonschema#1428). No schema this project validates (nbformat's) has
# an "iri" format, so the checker is kept out of the library's processes (jsonschema skips a
# format checker whose package cannot be imported); a process that imported it first keeps it.
_sys.modules.setdefault("rfc3987_syntax", None)
