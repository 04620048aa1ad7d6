"""How the command line reads its words, before any service is involved."""

from __future__ import annotations

import pytest

from revotp.cli import _parser
from revotp.tools import key_id_is_no_option


@pytest.mark.parametrize("kid", ["-AbCdEfGhIjKlMnO", "--AbCdEfGhIjKlMn", "AbC-dEf_GhIjKlMn"])
def test_a_key_id_is_read_as_the_key_id_whatever_it_begins_with(kid: str):
    args = _parser().parse_args(key_id_is_no_option(["receipt-keys", "forget", kid]))
    assert (args.action, args.kid) == ("forget", kid)


def test_help_and_other_commands_are_left_as_they_are():
    for words in (
        ["receipt-keys", "forget", "-h"],
        ["receipt-keys", "forget", "--help"],
        ["receipt-keys", "forget", "--", "-AbC"],
        ["receipt-keys", "list"],
        ["tenant", "revoke-key", "acme", "-AbC"],
    ):
        assert key_id_is_no_option(words) == words
    with pytest.raises(SystemExit) as raised:
        _parser().parse_args(key_id_is_no_option(["receipt-keys", "forget", "-h"]))
    assert raised.value.code == 0
