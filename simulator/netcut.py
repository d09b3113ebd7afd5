"""A device's network cable: a loopback TCP relay between one device and the broker that can
be cut (open connections dropped, new ones refused) and mended, as a pulled cable or a dead
switch port would do. The device's config points at the relay's port instead of the broker's.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any


class Cables:
    """All relays of a hall on one asyncio loop in a background thread."""

    def __init__(self, broker_host: str, broker_port: int) -> None:
        self.broker = (broker_host, broker_port)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="yp-cables", daemon=True)
        self._thread.start()
        self._cables: dict[str, Cable] = {}

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def add(self, name: str) -> int:
        """A relay for device `name`; returns the loopback port the device connects to."""
        cable = Cable(self.broker)
        self._cables[name] = cable
        return int(self._run(cable.listen()))

    def cut(self, name: str) -> None:
        self.loop.call_soon_threadsafe(self._cables[name].cut)

    def mend(self, name: str) -> None:
        self.loop.call_soon_threadsafe(self._cables[name].mend)

    def close(self) -> None:
        for cable in self._cables.values():
            self._run(cable.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


class Cable:
    def __init__(self, broker: tuple[str, int]) -> None:
        self.broker = broker
        self.is_cut = False
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def listen(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    def cut(self) -> None:
        self.is_cut = True
        for writer in list(self._writers):
            writer.transport.abort()  # no FIN handshake: the far end just stops hearing
        self._writers.clear()

    def mend(self) -> None:
        self.is_cut = False

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.is_cut:
            writer.transport.abort()
            return
        self._writers.add(writer)  # before the await: a cut meanwhile must reach this one too
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.broker)
        except OSError:
            writer.transport.abort()
            return
        if self.is_cut:  # cut while the upstream connection was being made
            writer.transport.abort()
            up_writer.transport.abort()
            return
        self._writers.add(up_writer)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()
