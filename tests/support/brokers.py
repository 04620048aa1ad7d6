"""A private RabbitMQ node and a private Redis, for tests that stop and restart them.

They run as the current user, listen on free loopback ports and keep their data in the test's
temporary folder, so breaking them touches nothing else on the machine.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import time
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import BusyLoadingError, RedisError

from revotp.replay.ceiling import free_port
from tests.support.processes import die_with_parent

# A test's own Redis answers in milliseconds; a reply slower than this is a hang worth naming.
REPLY_TIMEOUT_S = 10.0
SIGTERM_AGAIN_AFTER_S = 1.0  # a server that refused a shutdown is asked again


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


async def wait_listening(port: int, *, up: bool = True, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while _listening(port) != up:
        if time.monotonic() > deadline:
            raise TimeoutError(f"port {port} still {'closed' if up else 'open'} after {within} s")
        await asyncio.sleep(0.1)


def _rabbitmq_scripts() -> Path:
    """The broker's own scripts, not Debian's wrappers, which insist on running as root or rabbitmq."""
    packaged = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
    server = packaged if packaged.exists() else Path(shutil.which("rabbitmq-server") or "rabbitmq-server")
    return server.resolve().parent


class OwnRabbitMQ:
    """``rabbitmq-server`` as a second node of the current user (own name, ports, config and data)."""

    def __init__(self, base: Path) -> None:
        self.port = free_port()
        self.name = f"revotp{self.port}@localhost"
        self.base = base
        self.scripts = _rabbitmq_scripts()
        (base / "mnesia").mkdir(parents=True)
        (base / "log").mkdir()
        (base / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
        (base / "env.conf").write_text("")
        (base / "enabled_plugins").write_text("[].\n")
        self.env = {
            **os.environ,
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_CONF_ENV_FILE": str(base / "env.conf"),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_FEATURE_FLAGS_FILE": str(base / "mnesia" / "feature_flags"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }
        self.running = False

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def configure(self, *lines: str) -> None:
        """Add settings to the node's rabbitmq.conf, before it starts."""
        with (self.base / "rabbitmq.conf").open("a") as conf:
            conf.writelines(f"{line}\n" for line in lines)

    async def start(self) -> None:
        await self._run(str(self.scripts / "rabbitmq-server"), "-detached")
        await wait_listening(self.port, within=90)
        await self.ctl("await_startup")
        self.running = True

    async def stop(self) -> None:
        await self.ctl("stop")
        await wait_listening(self.port, up=False)
        self.running = False

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def kill(self) -> None:
        """``kill -9`` of the node's Erlang VM: no goodbye to the cluster, as a crashed machine."""
        pid = int((await self.ctl_output("eval", "os:getpid().")).strip().strip('"'))
        os.kill(pid, signal.SIGKILL)
        await wait_listening(self.port, up=False)
        self.running = False

    async def ctl(self, *arguments: str) -> None:
        await self._run(str(self.scripts / "rabbitmqctl"), "-n", self.name, *arguments)

    async def ctl_output(self, *arguments: str) -> str:
        process = await asyncio.create_subprocess_exec(
            str(self.scripts / "rabbitmqctl"),
            "-n",
            self.name,
            *arguments,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        output, _ = await asyncio.wait_for(process.communicate(), 90)
        return output.decode()

    async def _run(self, *command: str) -> None:
        process = await asyncio.create_subprocess_exec(
            *command, env=self.env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        await asyncio.wait_for(process.wait(), 90)


class OwnRedis:
    """``redis-server`` with append-only persistence, fsync on every write (``options`` add to
    or override the command line: a cluster node's, say)."""

    def __init__(self, base: Path, *options: str) -> None:
        self.port = free_port()
        self.base = base
        self.options = options
        base.mkdir(parents=True, exist_ok=True)
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.base),
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "",
            "--logfile",
            str(self.base / "redis.log"),
            *self.options,
            preexec_fn=die_with_parent,
        )
        await wait_listening(self.port)
        await self._wait_loaded()

    async def _wait_loaded(self, within: float = 60.0) -> None:
        """Listening is not serving: until its append-only file is read back, Redis answers
        every command with LOADING, and a test that reads then would blame the pipeline.

        The server that answers must also be this one: the port was free when it was chosen,
        but another process of a parallel run may have taken it since."""
        assert self.process is not None
        client = Redis.from_url(self.url, socket_timeout=REPLY_TIMEOUT_S)
        deadline = time.monotonic() + within
        try:
            while True:
                try:
                    await client.ping()  # refused while loading, unlike INFO
                    server = await client.info("server")
                    break
                except BusyLoadingError:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.05)
        except (RedisError, OSError) as error:
            raise RuntimeError(f"redis-server on {self.port} did not serve: {error}\n{self.log_tail()}") from error
        finally:
            await client.aclose()
        if server.get("process_id") != self.process.pid:
            raise RuntimeError(f"port {self.port} answers for another process\n{self.log_tail()}")

    async def stop(self, within: float = 30.0) -> None:
        """A clean shutdown (SIGTERM): Redis flushes its append-only file and exits.

        Redis refuses to shut down while it writes its first append-only file (a replica just
        after its full sync: "Writing initial AOF, can't exit"), and stays up; so SIGTERM is sent
        again each second. A server still up after ``within`` seconds is killed and the test
        fails, with its log."""
        if self.process is not None and self.process.returncode is None:
            deadline = time.monotonic() + within
            while self.process.returncode is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(self.process.wait(), SIGTERM_AGAIN_AFTER_S)
                except TimeoutError:
                    if time.monotonic() > deadline:
                        self.process.kill()
                        await self.process.wait()
                        raise RuntimeError(f"redis-server on {self.port} ignored SIGTERM\n{self.log_tail()}") from None
        await wait_listening(self.port, up=False)

    def log_tail(self, lines: int = 30) -> str:
        log = self.base / "redis.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else "(no log)"

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def kill(self) -> None:
        """``kill -9``: no flush, no goodbye, as a crashed machine."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
