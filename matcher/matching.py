"""Matching rule 3 of the README as pure functions: SMS text → candidate codes.

A candidate is a word of exactly the code's length written only in the code's alphabet, or
consecutive such words joined by single spaces, hyphens or dots (``483 920``, ``483-920``).
Words are maximal runs of letters and digits, so ``4839201`` holds no 6-symbol candidate and
``Code: 483920`` holds one. An alphanumeric candidate holds at least one digit, as every
alphanumeric code does: ordinary words ("thanks") are never candidates.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from common.codes import MAX_LENGTH, MIN_LENGTH, Alphabet, is_candidate, spec

# One SMS can never use more attempts than a challenge may have, so later candidates are moot.
MAX_CANDIDATES = 10
SEPARATORS = frozenset(" -.")


def normalize(text: str) -> str:
    """NFKC, every Unicode decimal digit as its ASCII digit, letters upper-cased."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(_ascii_digit(char) for char in folded).upper()


def _ascii_digit(char: str) -> str:
    digit = unicodedata.decimal(char, None)
    return str(digit) if digit is not None else char


def _words(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each maximal run of letters and digits."""
    start = None
    for index, char in enumerate(text):
        if char.isalnum():
            if start is None:
                start = index
        elif start is not None:
            yield start, index
            start = None
    if start is not None:
        yield start, len(text)


def _chains(text: str, symbols: frozenset[str]) -> Iterator[list[str]]:
    """Runs of words written in ``symbols`` and joined by exactly one separator each."""
    chain: list[str] = []
    previous_end = -1
    for start, end in _words(text):
        word = text[start:end]
        if not symbols.issuperset(word):
            if chain:
                yield chain
            chain, previous_end = [], -1
            continue
        joined = start - previous_end == 1 and text[previous_end] in SEPARATORS
        if chain and not joined:
            yield chain
            chain = []
        chain.append(word)
        previous_end = end
    if chain:
        yield chain


def candidates(text: str, length: int, alphabet: Alphabet) -> list[str]:
    """The distinct candidates of one code shape, in the order they appear in ``text``."""
    return _candidates(normalize(text), length, alphabet)


def _candidates(normalized: str, length: int, alphabet: Alphabet) -> list[str]:
    symbols = frozenset(alphabet.symbols)
    found: dict[str, None] = {}
    for chain in _chains(normalized, symbols):
        for first in range(len(chain)):
            token = ""
            for word in chain[first:]:
                token += word
                if len(token) >= length:
                    break
            if len(token) == length and is_candidate(token, alphabet):
                found.setdefault(token)
                if len(found) == MAX_CANDIDATES:
                    return list(found)
    return list(found)


def candidates_by_spec(text: str) -> dict[str, list[str]]:
    """Candidates for every code shape a challenge can have, keyed by ``alphabet:length``.

    The matcher does not know which shapes the pending challenges use before the atomic step,
    so it offers them all; the step picks the list of each challenge's own shape.
    """
    normalized = normalize(text)
    result = {}
    for alphabet in Alphabet:
        for length in range(MIN_LENGTH, MAX_LENGTH + 1):
            found = _candidates(normalized, length, alphabet)
            if found:
                result[spec(alphabet, length)] = found
    return result
