"""nbformat without its slowest import.

`import nbformat` imports jsonschema, whose format checkers import `rfc3987_syntax` when it is
installed (it is, beside jupyter), and that compiles a Lark grammar at import: about 1.4 s of the
~1.6 s nbformat costs on the CI machine. The grammar serves only the "iri" and "iri-reference" formats
of JSON Schema draft 7 and later; nbformat validates notebooks against draft-4 schemas, which have
neither. jsonschema treats the package as optional (it skips those two formats on ImportError), so the
kit's own processes import nbformat with `rfc3987_syntax` marked as absent, and unmark it after.
"""

from __future__ import annotations

import sys


def load_nbformat():
    """The nbformat module (imported once per process, rfc3987_syntax left out as described above)."""
    if "nbformat" in sys.modules:
        return sys.modules["nbformat"]
    blocked = "rfc3987_syntax" not in sys.modules and "jsonschema" not in sys.modules
    if blocked:
        sys.modules["rfc3987_syntax"] = None  # an import of it raises ImportError
    try:
        import nbformat
    finally:
        if blocked and sys.modules.get("rfc3987_syntax", 0) is None:
            del sys.modules["rfc3987_syntax"]
    return nbformat
