"""Challenge codes: their alphabets and their generation from the OS CSPRNG."""

from __future__ import annotations

import enum
import secrets


class Alphabet(enum.StrEnum):
    NUMERIC = "numeric"
    # Uppercase letters and digits without the look-alikes 0/O and 1/I.
    ALPHANUMERIC = "alphanumeric"

    @property
    def symbols(self) -> str:
        return _SYMBOLS[self]


_SYMBOLS = {
    Alphabet.NUMERIC: "0123456789",
    Alphabet.ALPHANUMERIC: "23456789ABCDEFGHJKLMNPQRSTUVWXYZ",
}

MIN_LENGTH = 4
MAX_LENGTH = 10


def generate_code(length: int, alphabet: Alphabet) -> str:
    """A uniformly random code drawn with ``secrets`` (never ``random``)."""
    symbols = alphabet.symbols
    return "".join(secrets.choice(symbols) for _ in range(length))


def spec(alphabet: Alphabet | str, length: int) -> str:
    """The name of a (alphabet, length) pair, as the matcher and the store exchange it."""
    return f"{alphabet}:{length}"
