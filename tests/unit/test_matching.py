"""Matching rule 3 (README): which candidates a text carries, for each code shape."""

import pytest

from common.codes import Alphabet, spec
from matcher.matching import MAX_CANDIDATES, candidates, candidates_by_spec, normalize

NUMERIC = Alphabet.NUMERIC
ALNUM = Alphabet.ALPHANUMERIC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("483920", ["483920"]),
        ("Code: 483920", ["483920"]),
        ("483920 is my Acme code", ["483920"]),
        ("mon code 483 920 merci", ["483920"]),
        ("483-920", ["483920"]),
        ("483.920", ["483920"]),
        ("4 8 3 9 2 0", ["483920"]),
        ("code:483920.", ["483920"]),
        ("12 483920", ["483920"]),
        ("4839201", []),
        ("48392", []),
        ("483--920", []),  # two separators do not join
        ("483  920", []),  # nor two spaces
        ("483_920", []),
        ("A483920", []),  # a letter makes the word not numeric
        ("", []),
        ("no digits at all", []),
    ],
)
def test_numeric_candidates(text, expected):
    assert candidates(text, 6, NUMERIC) == expected


@pytest.mark.parametrize(
    "text",
    [
        "\uff14\uff18\uff13\uff19\uff12\uff10",  # full-width digits
        "\u0664\u0668\u0663\u0669\u0662\u0660",  # Arabic-Indic digits
        "\u096a\u096e\u0969\u096f\u0968\u0966",  # Devanagari digits
        "\U0001d7d2\U0001d7d6\U0001d7d1\U0001d7d7\U0001d7d0\U0001d7ce",  # mathematical bold digits
        "\uff14\uff18\uff13\u3000\uff19\uff12\uff10",  # full-width, split by an ideographic space
    ],
)
def test_unicode_digits_count_as_ascii(text):
    assert candidates(text, 6, NUMERIC) == ["483920"]


def test_candidates_are_distinct_and_in_order():
    assert candidates("111111 222222 111111 483920", 6, NUMERIC) == ["111111", "222222", "483920"]


def test_candidates_are_capped_at_the_most_attempts_a_challenge_can_have():
    text = " ".join(f"{n:06d}" for n in range(50))
    found = candidates(text, 6, NUMERIC)
    assert len(found) == MAX_CANDIDATES
    assert found[0] == "000000"


def test_each_length_sees_its_own_candidates():
    text = "1234 567890"
    assert candidates(text, 4, NUMERIC) == ["1234"]
    assert candidates(text, 6, NUMERIC) == ["567890"]
    assert candidates(text, 10, NUMERIC) == ["1234567890"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AB3K9Z", ["AB3K9Z"]),
        ("ab3k9z", ["AB3K9Z"]),  # case is ignored
        ("my code is ab3k9z", ["AB3K9Z"]),  # "code" has an O, "is" an I: not candidates
        ("AB3-K9Z", ["AB3K9Z"]),
        ("\uff21\uff22\uff13\uff2b\uff19\uff3a", ["AB3K9Z"]),  # full-width letters
        ("AB0K9Z", []),  # 0 is not in the alphabet
        ("AB1K9Z", []),  # nor 1
        ("ABOK9Z", []),  # nor O
        ("ABIK9Z", []),  # nor I
    ],
)
def test_alphanumeric_candidates(text, expected):
    assert candidates(text, 6, ALNUM) == expected


def test_words_without_a_digit_are_no_alphanumeric_candidates():
    # Generated alphanumeric codes always hold a digit: an ordinary word can never be one.
    assert candidates("thanks AB3K9Z", 6, ALNUM) == ["AB3K9Z"]
    assert candidates("thanks", 6, ALNUM) == []
    assert candidates("bye bye", 6, ALNUM) == []  # joined by a space: still no digit


def test_an_alphanumeric_candidate_needs_a_digit_not_a_letter():
    assert candidates("483925", 6, ALNUM) == ["483925"]


def test_candidates_by_spec_offers_every_shape_present():
    found = candidates_by_spec("Code 483925")
    assert found[spec(NUMERIC, 6)] == ["483925"]
    assert found[spec(ALNUM, 6)] == ["483925"]  # digits 2-9 are alphanumeric symbols too
    assert spec(NUMERIC, 4) not in found


def test_normalize_folds_width_digits_and_case():
    assert normalize("\uff43\uff4f\uff44\uff45 \uff14\uff18\uff13") == "CODE 483"
