"""The one error type the library raises for anything a user can cause.

The CLI prints it as `error: <message>` and, when there is one, `hint: <hint>`,
then exits non-zero. Nothing below the CLI prints or exits.
"""

from __future__ import annotations


class HfspaceError(Exception):
    def __init__(self, message: str, hint: str | None = None, exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code
