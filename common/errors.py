"""What the core refuses, by kind. The core never speaks HTTP: the servers' edge
(``common.web.edge``) gives each kind its status, in one table.
"""

from __future__ import annotations


class Refusal(Exception):
    """A request the core will not carry out; ``code`` is the stable name clients branch on."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class MalformedInput(Refusal):
    """A value that cannot be read at all (a cursor or a key of the wrong form)."""


class InvalidInput(Refusal):
    """A value that reads well but is outside what the operation accepts."""


class Conflict(Refusal):
    """The operation collides with the state of the thing it acts on; a retry may succeed."""
