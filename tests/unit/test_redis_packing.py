"""The hiredis packer writes every command byte for byte as redis-py's own packer does."""

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio.connection import Connection, SSLConnection

from common.redis_packing import HiredisPacking, HiredisPackingConnection, connection_class_for

_REDIS_PY = Connection(encoding_errors="surrogateescape")
_HIREDIS = HiredisPackingConnection(encoding_errors="surrogateescape")

arguments = st.one_of(
    st.text(),  # surrogates included: ingest writes a non-UTF-8 header into a key as its bytes
    st.binary(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False),
)
commands = st.tuples(st.sampled_from(["SET", "EVALSHA", "ZADD", b"HSET", "CONFIG GET"]), st.lists(arguments))


@given(commands)
def test_one_command_is_packed_as_redis_py_packs_it(command: tuple[str | bytes, list[Any]]):
    name, args = command
    assert b"".join(_HIREDIS.pack_command(name, *args)) == b"".join(_REDIS_PY.pack_command(name, *args))


@given(st.lists(commands, min_size=1, max_size=8))
def test_a_pipeline_is_packed_as_redis_py_packs_it(batch: list[tuple[str | bytes, list[Any]]]):
    pipeline = [(name, *args) for name, args in batch]
    assert b"".join(_HIREDIS.pack_commands(pipeline)) == b"".join(_REDIS_PY.pack_commands(pipeline))


def test_a_plain_url_and_a_tls_url_both_pack_with_hiredis_and_tls_stays_tls():
    assert connection_class_for("redis://127.0.0.1:6379/0") is HiredisPackingConnection
    tls = connection_class_for("rediss://redis.example:6380/0")
    assert issubclass(tls, HiredisPacking)
    assert issubclass(tls, SSLConnection)
