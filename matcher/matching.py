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
_SYMBOL_SETS = {alphabet: frozenset(alphabet.symbols) for alphabet in Alphabet}


def normalize(text: str) -> str:
    """NFKC, every Unicode decimal digit as its ASCII digit, letters upper-cased."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(_ascii_digit(char) for char in folded).upper()


def _ascii_digit(char: str) -> str:
    digit = unicodedata.decimal(char, None)
    return str(digit) if digit is not None else char


def _words(text: str) -> list[tuple[int, int]]:
    """(start, end) of each maximal run of letters and digits."""
    words = []
    start = None
    for index, char in enumerate(text):
        if char.isalnum():
            if start is None:
                start = index
        elif start is not None:
            words.append((start, index))
            start = None
    if start is not None:
        words.append((start, len(text)))
    return words


def _chains(text: str, words: list[tuple[int, int]], symbols: frozenset[str]) -> Iterator[list[str]]:
    """Runs of words written in ``symbols`` and joined by exactly one separator each."""
    chain: list[str] = []
    previous_end = -1
    for start, end in words:
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
    """The distinct candidates of one code shape (a length a code can have), in the order they
    appear in ``text``."""
    normalized = normalize(text)
    return _by_length(normalized, _words(normalized), alphabet).get(length, [])


def _by_length(normalized: str, words: list[tuple[int, int]], alphabet: Alphabet) -> dict[int, list[str]]:
    """The candidates of every length in one alphabet: each chain is walked once, and each
    token that starts at one of its words is a candidate of its own length."""
    found: dict[int, dict[str, None]] = {}
    for chain in _chains(normalized, words, _SYMBOL_SETS[alphabet]):
        for first in range(len(chain)):
            token = ""
            for word in chain[first:]:
                token += word
                if len(token) > MAX_LENGTH:
                    break
                if len(token) >= MIN_LENGTH and is_candidate(token, alphabet):
                    of_length = found.setdefault(len(token), {})
                    if len(of_length) < MAX_CANDIDATES:
                        of_length.setdefault(token)
    return {length: list(tokens) for length, tokens in sorted(found.items())}


def candidates_by_spec(text: str) -> dict[str, list[str]]:
    """Candidates for every code shape a challenge can have, keyed by ``alphabet:length``.

    The matcher does not know which shapes the pending challenges use before the atomic step,
    so it offers them all; the step picks the list of each challenge's own shape.
    """
    normalized = normalize(text)
    words = _words(normalized)
    return {
        spec(alphabet, length): found
        for alphabet in Alphabet
        for length, found in _by_length(normalized, words, alphabet).items()
    }
