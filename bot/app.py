"""The composition root: builds the python-telegram-bot Application from Settings.

Everything is wired here and nowhere else: the database, the policy, the clock, the
templates, the outbox sender, the handlers and the scheduled work.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    Defaults,
    Job,
)
from telegram.request import BaseRequest, HTTPXRequest

import handlers
from bot import jobs, metrics
from bot.config import Settings
from bot.flood import FloodGate
from bot.leadership import FencedRequest
from bot.outbox import OutboxSender
from bot.rate_limits import ChatRateLimiter
from bot.state_writes import write_changed_state
from bot.updates import ChatOrderedProcessor
from handlers.common import flood_notice
from handlers.managers import menu as managers_menu
from lending.policy import Policy, load_policy
from services.clock import Clock, SystemClock
from services.leads import cards as lead_cards
from services.leads import relay as lead_relay
from services.loans import book as loans
from services.loans import reminders
from services.people.users import load_unreachable, note_unreachable
from services.rendering import Renderer
from services.runtime import Runtime
from storage.connect import open_database
from storage.errors import is_database_error
from storage.migrations import migrate
from storage.persistence import SqlitePersistence

log = logging.getLogger(__name__)

# The update in hand's failures, for its outcome in the metrics: process_update puts a list
# here, and process_error (called inside it for a handler's exception) adds to it.
_update_errors: ContextVar[list[BaseException] | None] = ContextVar("update_errors", default=None)

# Without a token (tests, the offline demo) the bot still needs a well-formed one.
SANDBOX_TOKEN = "123456:SANDBOX-TOKEN"
# A stop (SIGTERM) must be over within 10 s. Updates already fetched are all handled (PTB
# confirmed them to Telegram); no wait for Telegram inside them outlasts STOP_WAIT_SECONDS
# (bot/rate_limits.py); then the outbox gets OUTBOX_STOP_GRACE to finish its sends, and
# keeps every row it did not send for the next start.
STOP_WAIT_SECONDS = 5.0
OUTBOX_STOP_GRACE = 3.0

COMMANDS = {
    "en": [
        ("start", "Check what car loan you can get"),
        ("status", "Where your application stands"),
        ("calc", "Work out a monthly payment"),
        ("schedule", "Your repayment schedule"),
        ("loan", "Your loan: terms, paid so far, balance"),
        ("stop", "Pause reminders before the due date"),
        ("resume", "Turn those reminders back on"),
        ("mydata", "Everything we hold about you"),
        ("forget", "Delete your data"),
        ("help", "What I can do"),
        ("language", "中文 / English"),
        ("cancel", "Stop what we are doing"),
    ],
    "zh": [
        ("start", "看看能获得怎样的车贷"),
        ("status", "查看申请进度"),
        ("calc", "计算月供"),
        ("schedule", "查看还款计划"),
        ("loan", "贷款详情：条款、已还、余额"),
        ("stop", "暂停到期前的还款提醒"),
        ("resume", "恢复到期前的还款提醒"),
        ("mydata", "查看我们保存的您的全部信息"),
        ("forget", "删除您的信息"),
        ("help", "我可以帮您做什么"),
        ("language", "中文 / English"),
        ("cancel", "取消当前操作"),
    ],
}


class AutoloanApplication(Application):
    """An Application that opens and migrates its database before persistence loads,
    and closes it after everything else has shut down."""

    runtime: Runtime
    outbox: OutboxSender
    _state_lock: asyncio.Lock

    async def initialize(self) -> None:
        self._state_lock = asyncio.Lock()  # update_persistence: one run at a time
        await self.runtime.db.open()
        applied = await migrate(self.runtime.db.conn)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        await load_unreachable(self.runtime)
        await lead_relay.load_waits(self.runtime)
        await super().initialize()

    async def shutdown(self) -> None:
        await super().shutdown()
        await self.runtime.db.close()

    async def stop(self) -> None:
        """Stop as PTB does, after bounding every wait for Telegram (see STOP_WAIT_SECONDS)."""
        limiter = self.bot.rate_limiter
        if isinstance(limiter, ChatRateLimiter):
            limiter.stop_waiting_after(STOP_WAIT_SECONDS)
        await super().stop()

    async def process_update(self, update: object) -> None:
        """Handle the update, then write the conversation state it changed.

        PTB's persistence writes only every few seconds; writing after every update means
        a crash loses at most the update in hand. Here rather than in a last handler
        group, so an update a handler ended with ApplicationHandlerStop is saved too.
        With chats running side by side, a write may also carry another chat's data in
        the middle of its update; that update writes again when it ends.
        """
        errors: list[BaseException] = []
        token = _update_errors.set(errors)
        started = time.perf_counter()
        try:
            await super().process_update(update)
            await self.update_persistence()
        except Exception as error:
            errors.append(error)
            if is_database_error(error):
                metrics.count_database_error("update")
            raise
        finally:
            _update_errors.reset(token)
            metrics.count_update(
                metrics.update_kind(update),
                failed=bool(errors),
                seconds=time.perf_counter() - started,
            )

    async def process_error(
        self,
        update: object | None,
        error: Exception,
        job: Job[Any] | None = None,
        coroutine: Any = None,
    ) -> bool:
        """PTB's error handling (the error handlers log it and apologise), after noting the
        error for the update's outcome and counting a database error."""
        errors = _update_errors.get()
        if errors is not None and update is not None:
            errors.append(error)
        if is_database_error(error):
            metrics.count_database_error("update" if job is None else "jobs")
        return await super().process_error(update, error, job, coroutine)

    async def update_persistence(self) -> None:
        """PTB's write of changed state, without its copies and tasks (bot/state_writes.py).
        One run at a time, as PTB's: a scheduled run and an update's may overlap.

        Only while this process is the active one (bot/instance.py): the process that
        takes over reads the state when the last lease has run out, and from then on it
        writes it. A fenced process's handlers still finishing (their replies refused)
        and its stop's last write would put state it alone holds over the new one's."""
        persistence = self.persistence
        active = self.runtime.is_active
        if persistence is None or not active():
            return
        stored = persistence.store_data
        if stored.chat_data or stored.bot_data or stored.callback_data:
            await super().update_persistence()  # kinds of data write_changed_state leaves out
            return
        async with self._state_lock:
            await write_changed_state(self, allowed=active)


def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    policy: Policy | None = None,
    application_name: str | None = None,
) -> Runtime:
    return Runtime(
        db=open_database(settings.database, application_name=application_name),
        policy=policy or load_policy(settings.policy_path),
        clock=clock or SystemClock(),
        renderer=Renderer(settings.timezone),
        timezone=settings.tz,
        manager_chat_id=settings.manager_chat_id,
        manager_ids=settings.manager_ids,
        admin_ids=settings.admin_ids,
        default_locale=settings.default_locale,
    )


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
    clock: Clock | None = None,
    policy: Policy | None = None,
    rate_limiter: Any = "default",
    start_outbox: bool = True,
    persistence_interval: float = 5,
    fence: Callable[[], bool] | None = None,
    instance_id: str | None = None,
) -> AutoloanApplication:
    """Build the bot. Tests pass the sandbox's request and a ManualClock. With `fence`
    (bot/instance.py), no Bot API call goes out unless it answers True."""
    runtime = build_runtime(
        settings,
        clock=clock,
        policy=policy,
        application_name=f"loanbot {instance_id}" if instance_id else None,
    )
    processor = ChatOrderedProcessor(_flood_gate(settings, runtime), is_active=fence)
    token = (
        settings.telegram_bot_token.get_secret_value()
        if settings.telegram_bot_token
        else SANDBOX_TOKEN
    )
    builder = (
        ApplicationBuilder()
        .application_class(AutoloanApplication)
        .token(token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(file_base_url(settings.telegram_api_base_url))
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz))
        .persistence(SqlitePersistence(runtime.db, update_interval=persistence_interval))
        .post_init(_on_start)
        .post_stop(_on_stop)
        .concurrent_updates(processor)
    )
    if rate_limiter == "default":
        # Up to 3 waits on a 429 for every call, the outbox's too; the outbox reschedules
        # a row only if a 4th 429 comes.
        rate_limiter = ChatRateLimiter()
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    if fence is not None:
        proxy = settings.telegram_proxy_url
        # What PTB builds by default (a pool of 256 for calls, 1 for getUpdates), behind
        # the fence; PTB's proxy options do not combine with a request of our own.
        calls = request or HTTPXRequest(connection_pool_size=256, proxy=proxy)
        polls = updates_request or request or HTTPXRequest(connection_pool_size=1, proxy=proxy)
        request, updates_request = FencedRequest(calls, fence), FencedRequest(polls, fence)
    if request is not None:
        builder = builder.request(request).get_updates_request(updates_request or request)
    elif settings.telegram_proxy_url:  # HTTP or SOCKS, through PTB's own request options
        builder = builder.proxy(settings.telegram_proxy_url).get_updates_proxy(
            settings.telegram_proxy_url
        )
    application: AutoloanApplication = builder.build()  # type: ignore[assignment]
    application.runtime = runtime
    if fence is not None:
        runtime.is_active = fence
    application.bot_data["runtime"] = runtime
    application.outbox = _outbox_sender(runtime, application)
    runtime.wake_outbox = application.outbox.wake
    application.outbox.on_blocked = functools.partial(_on_blocked, runtime)
    application.bot_data["start_outbox"] = start_outbox
    application.bot_data["instance_id"] = instance_id
    processor.on_flood = functools.partial(_flood_notice, application)
    handlers.register_all(application)
    return application


def _outbox_sender(runtime: Runtime, application: Application) -> OutboxSender:
    """The sender, with what the services name in their rows: the hooks run once a row is
    sent, the renderers that make a row's message when it leaves."""
    sender = OutboxSender(
        runtime.db,
        application.bot,
        runtime.clock,
        hooks={
            "lead_card": lead_cards.on_card_sent,
            "lead_digest": lead_cards.on_digest_sent,
            "lead_relay": lead_relay.relay_sent_hook(runtime),
        },
    )
    sender.renderers[lead_cards.DIGEST_RENDERER] = lead_cards.digest_for_send(runtime)
    sender.renderers[loans.CHART_RENDERER] = loans.chart_for_send(runtime)
    return sender


def _flood_gate(settings: Settings, runtime: Runtime) -> FloodGate:
    """The flood limit on the runtime's clock (a test's manual clock moves it)."""
    return FloodGate(
        settings.flood_max_updates,
        settings.flood_window_seconds,
        lambda: runtime.clock.now().timestamp(),
        staff_ids=runtime.manager_ids | runtime.admin_ids,
        staff_chat_id=runtime.manager_chat_id,
    )


async def _flood_notice(application: Application, update: Update) -> None:
    """The flood gate's one notice, sent as a handler would (it is not one: the update it
    answers is dropped before any handler sees it)."""
    context = application.context_types.context.from_update(update, application)
    try:
        await flood_notice(update, context)
    except Exception:  # a notice that cannot go is not worth an error for the user
        log.warning("flood notice not sent", exc_info=True)


async def _on_blocked(runtime: Runtime, chat_id: int) -> None:
    """A user blocked the bot (the outbox marked them unreachable): tell whoever must know."""
    note_unreachable(runtime, chat_id)
    await reminders.borrower_unreachable(runtime, chat_id)


def file_base_url(api_base_url: str) -> str:
    """Telegram serves files from /file/bot<token>/ beside /bot<token>/."""
    head, sep, tail = api_base_url.rpartition("/bot")
    return f"{head}/file/bot{tail}" if sep else api_base_url


async def _on_start(application: Application) -> None:
    app: AutoloanApplication = application  # type: ignore[assignment]
    for locale, commands in COMMANDS.items():
        await app.bot.set_my_commands(
            [BotCommand(name, text) for name, text in commands],
            language_code=None if locale == "en" else locale,
        )
    await managers_menu.set_desk_commands(app.bot, app.runtime)
    if app.bot_data.get("start_outbox", True):
        app.outbox.start()
    if app.job_queue is not None:
        jobs.schedule(app)
    # What start-up made (PTB, templates, fonts, the policy, the loaded user data) lives as
    # long as the process. Frozen, the collector stops walking it: a full collection took
    # ~40 ms, once every thousand-odd updates, inside whichever update set it off. Only
    # here, where one bot runs per process: tests build hundreds of Applications.
    gc.freeze()


async def _on_stop(application: Application) -> None:
    app: AutoloanApplication = application  # type: ignore[assignment]
    await app.outbox.stop(grace=OUTBOX_STOP_GRACE)
    # What _on_start froze can be collected again: a process that lost the active lock
    # builds a new Application when it next becomes active, and this one must not stay.
    gc.unfreeze()
