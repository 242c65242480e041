"""Reading the app's own code without running it."""

from __future__ import annotations

import ast
import warnings


def parse_python(text: str) -> ast.Module | None:
    """The module's syntax tree, or None when it does not parse; the warnings Python gives about
    someone else's code (an invalid escape sequence) are not ours to print."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ast.parse(text)
        except (SyntaxError, ValueError):
            return None
