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
    """A uniformly random code drawn with ``secrets`` (never ``random``).

    An alphanumeric code always holds at least one digit and one letter, so that an ordinary
    word ("thanks") can never be a code and never costs an attempt. Drawing again until it does
    keeps the code uniform over every such code (about one draw in three is redrawn at length 4).
    """
    symbols = alphabet.symbols
    while True:
        code = _uniform_word(symbols, length)
        if alphabet is Alphabet.NUMERIC or (_has_digit(code) and not code.isdigit()):
            return code


def _uniform_word(symbols: str, length: int) -> str:
    """One of the ``len(symbols) ** length`` words, each as likely: one CSPRNG draw written in
    base ``len(symbols)`` (a draw per symbol read the OS's random source once per symbol)."""
    value = secrets.randbelow(len(symbols) ** length)
    word = []
    for _ in range(length):
        value, place = divmod(value, len(symbols))
        word.append(symbols[place])
    return "".join(word)


def _has_digit(code: str) -> bool:
    return any(char.isdigit() for char in code)


def is_candidate(token: str, alphabet: Alphabet) -> bool:
    """Whether a token written in ``alphabet`` may be a code of it: alphanumeric ones hold a digit."""
    return alphabet is Alphabet.NUMERIC or _has_digit(token)


def spec(alphabet: Alphabet | str, length: int) -> str:
    """The name of a (alphabet, length) pair, as the matcher and the store exchange it."""
    return f"{alphabet}:{length}"
