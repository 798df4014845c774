"""mkdocs hook: show the library's numpydoc cross-reference roles as plain code.

Docstrings are written for numpydoc (``:func:`ganeval.evaluate```); mkdocstrings renders the
role's text as it is. This hook drops the ``:func:``-style prefix before the code span and a
leading ``~`` inside it (Sphinx's "last component only" marker), so the API pages read
``ganeval.evaluate`` / ``DeviceError``.
"""

from __future__ import annotations

import re

_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|data|attr|exc|obj|const|ref|doc):(?=<code>)")
_TILDE = re.compile(r"<code>~(?:[\w.]+\.)?([\w]+)</code>")


def on_page_content(html: str, **kwargs) -> str:
    return _TILDE.sub(r"<code>\1</code>", _ROLE.sub("", html))
