"""Domain errors: each means a user mistake or a refused action, mapped once to an exit code (and,
later, an HTTP status). Anything else is a bug and shows a traceback."""

from __future__ import annotations

from collections.abc import Sequence


class DomainError(Exception):
    exit_code = 1
    http_status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """Bad input; `problems` are "path: message" strings, all of them at once."""

    http_status = 422

    def __init__(self, problems: Sequence[str], what: str = "input") -> None:
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(f"{what}: {count} problem{'s' if count != 1 else ''}, nothing was changed\n"
                         + "\n".join(f"  {p}" for p in self.problems))


class NotFound(DomainError):
    http_status = 404


class Conflict(DomainError):
    http_status = 409
