"""Commands packed by hiredis's C packer instead of redis-py's Python loop.

redis-py's sync connection packs with ``hiredis.pack_command``; its asyncio connection never
does. Packing a challenge creation's four commands took 30 to 42 µs in redis-py's loop and 5 to 7 µs
in hiredis (microbenchmark, this machine), and every hot path sends several commands per
request. Whatever hiredis would refuse or write differently goes to redis-py's own packer: a
command name of several words (``CONFIG GET``), a string that is not strict UTF-8 (our clients
write surrogates as the bytes they stood for), a memoryview. Bools, which redis-py refuses,
are never sent: commands are typed ``EncodableT``.
"""

from __future__ import annotations

from typing import Any

import hiredis
from redis.asyncio.connection import Connection, SSLConnection
from redis.typing import EncodableT


class HiredisPacking:
    """Mixin for a redis-py asyncio connection class."""

    def pack_command(self, *args: EncodableT) -> list[bytes]:
        name = args[0]
        one_word = (isinstance(name, str) and " " not in name) or (isinstance(name, bytes) and b" " not in name)
        if one_word:
            try:
                return [hiredis.pack_command(args)]  # type: ignore[arg-type]  # its stub types a 1-tuple
            except (TypeError, UnicodeEncodeError):
                pass
        packed: list[bytes] = super().pack_command(*args)  # type: ignore[misc]
        return packed

    def pack_commands(self, commands: Any) -> list[bytes]:
        return [b"".join(chunk for command in commands for chunk in self.pack_command(*command))]


class HiredisPackingConnection(HiredisPacking, Connection):
    pass


class HiredisPackingSSLConnection(HiredisPacking, SSLConnection):
    pass


def connection_class_for(url: str) -> type[Connection]:
    """The connection class for ``url``: naming one replaces the TLS class ``rediss://`` implies."""
    return HiredisPackingSSLConnection if url.startswith("rediss://") else HiredisPackingConnection
