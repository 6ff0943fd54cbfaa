"""The session hub: every Session of one app, its lock, its WebSocket clients and its play loop.

Training runs in this process, one ``Session`` per browser tab, kept in memory. While a session
is "playing", a background task runs a chunk of training steps plus ``Session.frame()`` in a
worker thread (so the event loop stays responsive) and sends the frame to the session's
WebSocket(s); the chunk size adapts so a chunk takes ~35 ms. The session's config key
``steps_per_second`` paces the loop (a chunk of ~35 ms worth of steps, at least one, then a sleep
until it is due: at 10 steps/s one step and one frame every 0.1 s); null runs at full speed.
Every call into a Session runs in a worker thread under the session's own ``asyncio.Lock``.

Time limits (``limits``): at most ``running_sessions`` sessions train at once (429 beyond); one
run of play lasts at most ``train_seconds`` of wall time, at any speed (a slow run holds one of
the ``running_sessions`` places as long as a fast one), then the session pauses and its
clients get ``{"type": "stopped", "reason": "time_limit"}``; a session with no request, no
WebSocket message and no training for ``idle_seconds`` is deleted by ``expire_idle`` (called by
the app's reaper task and before each new session), its clients get
``{"type": "stopped", "reason": "expired"}`` and then a close with code 4410.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException, WebSocket
from pydantic import ValidationError

from mlplab.web.config import ConfigError, TooLargeError
from mlplab.web.encoding import dumps
from mlplab.web.schemas import SESSION_ID, WsConfig, WsControl, validation_message
from mlplab.web.session import Session

__all__ = ["Entry", "Hub", "UserError", "user_call"]

log = logging.getLogger("mlplab.web")

EXPIRED_CLOSE = 4410  # the WebSocket close code of an expired session ("gone")
CHUNK_SECONDS = 0.035  # target duration of one training chunk (steps + frame): ~28 frames/s
SEND_TIMEOUT = 5.0  # a WebSocket client that does not read for this long is dropped
PACE_SLICE = 0.05  # paced play sleeps at most this long at once (pause, new speed: re-checked)
PACE_SLACK = 0.25  # paced play that fell this far behind its schedule does not catch up


@dataclass(eq=False)
class _Client:
    ws: WebSocket
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(eq=False)
class Entry:
    id: str
    session: Any
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    running: bool = False
    task: asyncio.Task | None = None
    clients: set[_Client] = field(default_factory=set)
    chunk_steps: int = 1
    last_active: float = 0.0  # the clock at the last request, message or end of training
    started: float = 0.0  # the clock when the current run of play started


class UserError(Exception):
    """A Session refused its input (``ConfigError``): 422 (413 for ``TooLargeError``)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def user_call(fn: Callable[..., Any], *args: Any) -> Any:
    """Call a Session method; its ``ConfigError`` becomes a ``UserError``."""
    try:
        return fn(*args)
    except ConfigError as exc:
        status = 413 if isinstance(exc, TooLargeError) else 422
        raise UserError(" ".join(str(exc).split()) or "invalid input", status) from exc


def _describe(exc: BaseException) -> str:
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class Hub:
    """All sessions of one app, their locks and training tasks."""

    def __init__(
        self,
        limits: dict[str, Any],
        session_limits: dict[str, int],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits
        self.session_limits = session_limits
        self.clock = clock
        self.entries: dict[str, Entry] = {}

    def get(self, sid: str) -> Entry:
        entry = self.entries.get(sid)
        if entry is None:
            raise HTTPException(404, "no such session")
        entry.last_active = self.clock()
        return entry

    def running_count(self) -> int:
        return sum(1 for e in self.entries.values() if e.running)

    @staticmethod
    def frame(entry: Entry, points: bool | None = None) -> dict[str, Any]:
        """``Session.frame()`` plus ``running`` (call it in a worker thread)."""
        frame = dict(entry.session.frame(points))
        frame["running"] = entry.running
        return frame

    async def run(self, entry: Entry, work: Callable[[], Any]) -> Any:
        """Run ``work`` in a worker thread, under the session's lock."""
        async with entry.lock:
            return await asyncio.to_thread(work)

    async def create(self, config: dict[str, Any] | None) -> bytes:
        await self.expire_idle()
        cap = self.limits["sessions"]
        if len(self.entries) >= cap:
            raise HTTPException(429, f"too many sessions (limit {cap}); delete one first")

        def build() -> Any:
            return user_call(lambda: Session(config, limits=self.session_limits or None))

        session = await asyncio.to_thread(build)
        if len(self.entries) >= cap:  # another request won the last place meanwhile
            raise HTTPException(429, f"too many sessions (limit {cap}); delete one first")
        entry = Entry(id=secrets.token_urlsafe(12), session=session, last_active=self.clock())
        self.entries[entry.id] = entry
        return await self.describe(entry)

    async def describe(self, entry: Entry) -> bytes:
        """``{"id", "config", "running", "frame"}`` of a session (the frame with its points)."""

        def work() -> bytes:
            return dumps(
                {
                    "id": entry.id,
                    "config": entry.session.config,
                    "running": entry.running,
                    "frame": self.frame(entry, True),
                }
            )

        return await self.run(entry, work)

    async def delete(self, sid: str, notice: dict[str, Any] | None = None) -> None:
        """Stop and forget a session; its WebSockets get ``notice`` (if any), then a close."""
        entry = self.entries.pop(sid, None)
        if entry is None:
            raise HTTPException(404, "no such session")
        await self._stop(entry)
        if notice is not None:
            await self.broadcast(entry, notice)
        code, reason = (EXPIRED_CLOSE, "session expired") if notice else (1000, "session deleted")
        for client in list(entry.clients):
            with contextlib.suppress(Exception):
                await client.ws.close(code=code, reason=reason)
        entry.clients.clear()

    async def expire_idle(self) -> list[str]:
        """Delete the sessions idle for ``idle_seconds`` (not training, no request or message);
        answer their ids."""
        limit = self.limits["idle_seconds"]
        now = self.clock()
        idle = [
            sid for sid, e in self.entries.items() if not e.running and now - e.last_active >= limit
        ]
        notice = {
            "type": "stopped",
            "reason": "expired",
            "seconds": limit,
            "running": False,
            "detail": f"session expired: no activity for {limit:g} s (the limit, `mlplab serve "
            "--idle-timeout`); open the page again or create a new session",
        }
        for sid in idle:
            with contextlib.suppress(HTTPException):
                await self.delete(sid, notice)
            log.info("session %s expired after %g s idle", sid, limit)
        return idle

    async def reap(self) -> None:
        """Run ``expire_idle`` forever, a few times per ``idle_seconds`` (the app's lifespan
        task)."""
        period = min(max(self.limits["idle_seconds"] / 4, 0.05), 30.0)
        while True:
            await asyncio.sleep(period)
            try:
                await self.expire_idle()
            except Exception:  # never let the reaper die
                log.warning("expiring idle sessions failed", exc_info=True)

    async def _stop(self, entry: Entry) -> None:
        entry.running = False
        task, entry.task = entry.task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def shutdown(self) -> None:
        for sid in list(self.entries):
            with contextlib.suppress(Exception):
                await self.delete(sid)

    # -- control -------------------------------------------------------------------------

    async def control(self, entry: Entry, action: str, steps: int) -> bytes:
        """Apply an action; answer ``{"running", "frame"}`` (JSON bytes)."""
        if action == "step" and steps > self.limits["steps_per_request"]:
            raise HTTPException(
                422, f"steps: at most {self.limits['steps_per_request']} per request"
            )
        if action == "play":
            if not entry.running:
                cap = self.limits["running_sessions"]
                if self.running_count() >= cap:
                    raise HTTPException(
                        429,
                        f"too many sessions training at once: {cap} already are (the limit, "
                        "`mlplab serve --max-training`); pause one, or wait: a run pauses by "
                        f"itself after {self.limits['train_seconds']:g} s",
                    )
                entry.running = True
                entry.started = self.clock()
            if entry.task is None or entry.task.done():
                entry.task = asyncio.create_task(self._train(entry))
        elif action in ("pause", "reset"):
            entry.running = False

        def work() -> bytes:
            if action == "step":
                user_call(entry.session.step, steps)
            elif action == "reset":
                entry.session.reset()
            return dumps({"running": entry.running, "frame": self.frame(entry)})

        try:
            return await self.run(entry, work)
        except UserError:
            raise
        except Exception as exc:  # a crash pauses this session only
            entry.running = False
            log.warning("session %s: %s crashed", entry.id, action, exc_info=True)
            raise HTTPException(500, f"{action} failed: {_describe(exc)}") from exc

    async def _train(self, entry: Entry) -> None:
        """The play loop: chunks of steps + a frame in a worker thread, then broadcast."""

        def chunk(k: int) -> tuple[str, float, float, str | None]:
            t0 = time.perf_counter()
            entry.session.step(k)
            t1 = time.perf_counter()
            frame = self.frame(entry)
            error = frame.get("error")
            if error:  # diverged: the session keeps its last finite weights; pause
                entry.running = False
                frame["running"] = False
            return dumps(frame).decode(), t1 - t0, time.perf_counter() - t1, error

        due: float | None = None  # when the next chunk may start (paced play)
        try:
            while entry.running:
                rate = entry.session.steps_per_second
                k = entry.chunk_steps
                if rate is not None:  # a paced chunk: ~CHUNK_SECONDS worth of steps, >= 1
                    k = max(1, min(k, round(rate * CHUNK_SECONDS)))
                async with entry.lock:
                    if not entry.running:
                        break
                    try:
                        text, t_step, t_frame, error = await asyncio.to_thread(chunk, k)
                    except Exception as exc:  # a crash pauses this session only
                        entry.running = False
                        if isinstance(exc, ConfigError):  # e.g. the epoch limit
                            detail = " ".join(str(exc).split())
                        else:
                            log.warning("session %s: training crashed", entry.id, exc_info=True)
                            detail = f"training stopped: {_describe(exc)}"
                        error_message = {"type": "error", "detail": detail, "running": False}
                        await self.broadcast(entry, error_message)
                        break
                await self.broadcast(entry, text)
                if error:
                    await self.broadcast(
                        entry, {"type": "error", "detail": str(error), "running": False}
                    )
                    break
                if entry.running and self.clock() - entry.started >= self.limits["train_seconds"]:
                    await self._time_limit(entry)
                    break
                per_step = max(t_step / k, 1e-6)
                budget = max(CHUNK_SECONDS - t_frame, 0.25 * CHUNK_SECONDS)
                target = int(budget / per_step)
                entry.chunk_steps = max(1, min(target, 2 * k, self.limits["steps_per_request"]))
                due = await self._pace(entry, k, due)
        finally:
            entry.last_active = self.clock()  # idle from the end of training
            if entry.task is asyncio.current_task():
                entry.task = None

    @staticmethod
    async def _pace(entry: Entry, k: int, due: float | None) -> float | None:
        """After a chunk of ``k`` steps: at full speed (``steps_per_second`` None) just let
        control messages and other sessions in; else sleep until ``k / rate`` seconds after
        the previous chunk's due time (a loop that fell behind, e.g. on a busy machine, starts
        afresh rather than rushing). Sleeps in slices, so that a pause or a new speed takes
        effect within ``PACE_SLICE`` s. Answers the next chunk's due time."""
        rate = entry.session.steps_per_second
        if rate is None:
            await asyncio.sleep(0.001)
            return None
        now = time.monotonic()
        if due is None or due < now - PACE_SLACK:
            due = now
        due += k / rate
        while entry.running:
            left = due - time.monotonic()
            if left <= 0:
                break
            await asyncio.sleep(min(left, PACE_SLICE))
            if entry.session.steps_per_second != rate:
                return None  # a new speed: start its clock now
        return due

    async def _time_limit(self, entry: Entry) -> None:
        """Pause a run that reached ``train_seconds``; tell its clients why."""
        limit = self.limits["train_seconds"]
        entry.running = False
        await self.broadcast(
            entry,
            {
                "type": "stopped",
                "reason": "time_limit",
                "seconds": limit,
                "running": False,
                "detail": f"training paused after {limit:g} s, the limit of one run (`mlplab "
                "serve --max-train-seconds`); press play to continue",
            },
        )

    async def broadcast(self, entry: Entry, message: dict[str, Any] | str) -> None:
        text = message if isinstance(message, str) else dumps(message).decode()
        for client in list(entry.clients):
            try:
                await self._send(client, text)
            except Exception:  # gone or stuck: drop it
                entry.clients.discard(client)
                with contextlib.suppress(Exception):
                    await client.ws.close(code=1011)

    @staticmethod
    async def _send(client: _Client, message: dict[str, Any] | str) -> None:
        text = message if isinstance(message, str) else dumps(message).decode()
        async with client.lock:
            await asyncio.wait_for(client.ws.send_text(text), SEND_TIMEOUT)

    # -- the WebSocket ---------------------------------------------------------------------

    async def websocket(self, ws: WebSocket, sid: str) -> None:
        entry = self.entries.get(sid) if re.fullmatch(SESSION_ID, sid) else None
        if entry is None:
            await ws.close(code=4404, reason="no such session")
            return
        if len(entry.clients) >= self.limits["ws_clients_per_session"]:
            await ws.close(code=1008, reason="too many connections to this session")
            return
        await ws.accept()
        entry.last_active = self.clock()
        client = _Client(ws)
        entry.clients.add(client)
        try:
            first = await self.run(entry, lambda: dumps(self.frame(entry, True)).decode())
            await self._send(client, first)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if message["type"] != "websocket.receive":
                    continue
                entry.last_active = self.clock()
                raw = message.get("text")
                if raw is None:
                    raw = (message.get("bytes") or b"").decode("utf-8", "replace")
                reply = await self._ws_message(entry, raw)
                if reply is not None:
                    await self._send(client, reply)
                if sid not in self.entries:
                    break
        except Exception:  # a broken connection must not take anything else down
            log.debug("websocket of session %s ended", sid, exc_info=True)
        finally:
            entry.clients.discard(client)

    async def _ws_message(self, entry: Entry, raw: str) -> dict[str, Any] | None:
        """Handle one client message; answer an error for this client only, or None."""
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            return {"type": "error", "detail": "malformed JSON"}
        kind = data.get("type") if isinstance(data, dict) else None
        try:
            if kind == "control":
                msg = WsControl.model_validate(data)
                answer = await self.control(entry, msg.action, msg.steps)
                if msg.action != "play":  # while playing, frames flow anyway
                    await self.broadcast(entry, json.loads(answer)["frame"])
                return None
            if kind == "config":
                cfg = WsConfig.model_validate(data)
                answer = await self.apply(entry, cfg.config.patch())
                await self.broadcast(entry, json.loads(answer)["frame"])
                return None
        except ValidationError as exc:
            return {"type": "error", "detail": validation_message(exc.errors()), "status": 422}
        except HTTPException as exc:
            return {"type": "error", "detail": str(exc.detail), "status": exc.status_code}
        except UserError as exc:
            return {"type": "error", "detail": str(exc), "status": exc.status}
        except Exception as exc:
            log.warning("session %s: websocket message failed", entry.id, exc_info=True)
            return {"type": "error", "detail": f"failed: {_describe(exc)}", "status": 500}
        return {"type": "error", "detail": 'unknown message type (expected "control" or "config")'}

    async def call(
        self, entry: Entry, method: Callable[..., Any], *args: Any, config: bool = False
    ) -> bytes:
        """Call a Session method in a worker thread; answer with the frame (and the config)."""

        def work() -> bytes:
            user_call(method, *args)
            out = {"config": entry.session.config} if config else {}
            out["frame"] = self.frame(entry)
            return dumps(out)

        return await self.run(entry, work)

    async def apply(self, entry: Entry, patch: dict[str, Any]) -> bytes:
        return await self.call(entry, entry.session.apply, patch, config=True)
