"""`python -m bot run`: one process among any number on one database; the active one works.

Every process registers (storage/instances.py) and stands by until it takes the active
lock (bot/leadership.py). Only then does it build the Application, which reads from the
database everything a process keeps in memory (conversations, who is unreachable, which
manager waits for a reply), and start receiving updates (long polling, or the webhook
door), sending the outbox and running the scheduled work. When it loses the lock it stops
all three at once: the fence refuses its Bot API calls from that moment, and the
Application is stopped and thrown away. Then it stands by again, and a later turn builds
a fresh Application from the database as it is then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from telegram import Update
from telegram.ext import Application

from bot import metrics, webhook
from bot.config import ConfigError, Settings
from bot.health import HealthServer
from bot.leadership import Leadership
from bot.updates import ChatOrderedProcessor
from services.clock import Clock, SystemClock
from storage import instances
from storage.connect import open_database
from storage.leadership import leader_lock
from storage.migrations import migrate

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0
# After losing the lock, how long a process waits before it tries to take it again
# (standbys try every second).
STAND_ASIDE_SECONDS = 3.0
# Registry rows of processes gone this long are deleted (status would only list them).
FORGET_AFTER = timedelta(days=1)
# Long polling: how long a getUpdates waits for an update. Short enough that a fenced
# process's poll in flight is cancelled quickly; the fence throws away what it brings.
POLL_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Identity:
    id: str
    host: str
    pid: int


def identity() -> Identity:
    host, pid = socket.gethostname(), os.getpid()
    return Identity(f"{host}:{pid}:{secrets.token_hex(2)}", host, pid)


@dataclass
class WebhookOptions:
    listen: str
    port: int
    webhook_url: str
    secret: str


# build(fence, instance id) -> the Application, its Bot API calls behind the fence.
Build = Callable[[Callable[[], bool], str], Application]


class Instance:
    def __init__(
        self,
        settings: Settings,
        build: Build,
        *,
        webhook_options: WebhookOptions | None = None,
        me: Identity | None = None,
        clock: Clock | None = None,
        leadership: Leadership | None = None,
    ) -> None:
        self.settings = settings
        self.build = build
        self.webhook_options = webhook_options
        self.me = me or identity()
        self.clock = clock or SystemClock()
        self.leadership = leadership or Leadership(leader_lock(settings.database, self.me.id))
        self.registry = open_database(settings.database, application_name=f"loanbot {self.me.id}")
        self.stop = asyncio.Event()
        self.door = webhook.Door()

    def is_active(self) -> bool:
        return self.leadership.is_active()

    async def run(self) -> None:
        """Until `stop` is set (SIGTERM, SIGINT): stand by, act while active, repeat."""
        await self.registry.open()
        server = health = None
        try:
            await migrate(self.registry.conn)  # once per start, under the migration lock
            async with self.registry.transaction() as conn:
                now = self.clock.now()
                await instances.forget_stale(conn, now - FORGET_AFTER)
                await instances.register(conn, self.me.id, self.me.host, self.me.pid, now)
            if self.settings.health_port is not None:
                health = HealthServer(
                    self.registry,
                    self.is_active,
                    listen=self.settings.health_listen,
                    port=self.settings.health_port,
                    clock=self.clock,
                    timezone=self.settings.tz,
                )
                await health.start()
            if self.webhook_options is not None:
                options = self.webhook_options
                server = webhook.make_server(self.door, options.secret)
                try:
                    server.listen(options.port, address=options.listen)
                except OSError as error:  # in use, or an address this machine does not have
                    raise ConfigError(
                        f"WEBHOOK_PORT: cannot listen on {options.listen}:{options.port}"
                        f" ({error.strerror})"
                    ) from None
            heartbeat = asyncio.create_task(self._heartbeat(), name="instance-heartbeat")
            try:
                while await self.leadership.wait_until_active(self.stop):
                    await self._act()
            finally:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat
        finally:
            if server is not None:
                server.stop()
                await server.close_all_connections()
            if health is not None:
                await health.stop()
            await self.leadership.release()
            await self._set_role(instances.STOPPED)
            await self.registry.close()

    async def _act(self) -> None:
        """Work while active; return once stopped or fenced."""
        log.info("active: receiving updates, sending, running the scheduled work")
        metrics.set_active(True)
        await self._set_role(instances.ACTIVE)
        keeper = asyncio.create_task(self.leadership.keep(), name="active-lock")
        try:
            application = self.build(self.is_active, self.me.id)
        except BaseException:
            keeper.cancel()
            raise
        try:
            started = asyncio.create_task(self._start(application))
            ended = asyncio.create_task(_first(self.stop, self.leadership.lost))
            await asyncio.wait({started, ended}, return_when=asyncio.FIRST_COMPLETED)
            if not started.done():
                started.cancel()
            try:
                await started
            except asyncio.CancelledError:
                pass
            except Exception as error:  # the database or Telegram went away meanwhile
                log.error("could not start working (%s); standing by", error)
                ended.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ended
        finally:
            self.door.application = None
            metrics.set_active(False)
            if self.leadership.lost.is_set():
                # Another process may be taking over: what is still running here stops
                # now, not after the stop's wait for it.
                processor = application.update_processor
                if isinstance(processor, ChatOrderedProcessor):
                    processor.cancel_running()
            # The lease is kept through a stop's wind-down, so the outbox's last sends
            # and the updates in hand still go out; after a loss it is gone already.
            try:
                await webhook.wind_down(application)
            except Exception as error:
                log.warning("stopping work did not finish cleanly: %s", error)
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            if not self.stop.is_set():
                await self.leadership.release()
                await self._set_role(instances.STANDBY)
                # Whatever cut this process off may strike again: a standby in good
                # health takes over first.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), STAND_ASIDE_SECONDS)

    async def _start(self, application: Application) -> None:
        options = self.webhook_options
        if options is not None:
            await webhook.start_serving(application, self.door, options.webhook_url, options.secret)
            return
        await application.initialize()
        if application.post_init is not None:
            await application.post_init(application)
        assert application.updater is not None
        await application.updater.start_polling(
            allowed_updates=Update.ALL_TYPES, timeout=POLL_TIMEOUT_SECONDS
        )
        await application.start()

    async def _set_role(self, role: str) -> None:
        """Describe the change in the registry; the lock, not this row, decides."""
        try:
            async with self.registry.transaction() as conn:
                await instances.set_role(conn, self.me.id, role, self.clock.now())
        except Exception as error:
            log.warning("the registry could not record %s: %s", role, error)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await instances.seen(self.registry.conn, self.me.id, self.clock.now())
            except Exception as error:  # the database is away: the lock's loop says so
                log.debug("heartbeat not written: %s", error)


async def _first(*events: asyncio.Event) -> None:
    waits = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


def run_until_signalled(instance: Instance) -> None:
    """`instance.run()` until SIGTERM or SIGINT."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(number, instance.stop.set)
        await instance.run()

    asyncio.run(main())
