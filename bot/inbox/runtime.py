"""Record verified events before Slack gets its 200, then process them until done.

One writer thread owns every inbox write: events recorded while a commit is under way go
into the next commit together (group commit), so the acknowledgement path costs one queue
hand-off and a short wait, not a transaction per event. Workers process new events straight
from memory; a poller takes up what is due in the database (retries, and events whose
instance died before finishing them)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from bot.clock import Clock
from bot.db import SessionFactory
from bot.inbox import store
from bot.inbox.store import DueEvent, NewEvent
from models import InboxStatus

log = logging.getLogger(__name__)

_MAX_BATCH = 500


class InboxUnavailable(Exception):
    """The event could not be recorded: Slack must get a non-2xx and deliver it again."""


@dataclass(frozen=True)
class _Record:
    event: NewEvent
    answer: Future[bool]


@dataclass(frozen=True)
class _Done:
    event_id: str


_STOP = object()

Dispatch = Callable[[str], None]  # processes one event body; raises when it failed


def describe_failure(error: BaseException) -> str:
    """What an operator sees of a failure: its kind and first line, never a payload."""
    first_line = (str(error).splitlines() or [""])[0]
    return f"{type(error).__name__}: {first_line}"[:300]


class EventInbox:
    def __init__(
        self,
        session_factory: SessionFactory,
        clock: Clock,
        dispatch: Dispatch,
        *,
        workers: int = 4,
        lease: timedelta = timedelta(minutes=2),
        poll_seconds: float = 2.0,
        record_timeout: float = 2.0,
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._dispatch = dispatch
        self._worker_count = workers
        self._lease = lease
        self._poll_seconds = poll_seconds
        self._record_timeout = record_timeout
        self._writes: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._work: queue.Queue[object] = queue.Queue()
        self._unflushed_done: list[str] = []
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._in_hand: set[str] = set()  # queued or being processed here
        self._lock = threading.Lock()

    # -- the acknowledgement path -------------------------------------------------------

    def accept(self, event: NewEvent) -> bool:
        """Record the event durably; True if it is new (it will be processed), False for a
        redelivery. Raises InboxUnavailable when it could not be recorded in time."""
        if self._stopping.is_set() or not self._threads:
            raise InboxUnavailable("the inbox is not running")
        answer: Future[bool] = Future()
        self._writes.put(_Record(event, answer))
        try:
            return answer.result(timeout=self._record_timeout)
        except FutureTimeout as exc:
            # It may still commit: Slack's redelivery then finds it recorded, and it is
            # processed once either way.
            raise InboxUnavailable("recording timed out") from exc

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        self._stopping.clear()
        self._spawn("kyoso-inbox-writer", self._write_loop)
        for number in range(self._worker_count):
            self._spawn(f"kyoso-inbox-worker-{number}", self._work_loop)
        self._spawn("kyoso-inbox-poller", self._poll_loop)

    def stop(self, timeout: float = 10.0) -> None:
        """Finish what is in hand (until `timeout`); give back what could not be started."""
        if not self._threads:
            return
        self._stopping.set()
        for _ in range(self._worker_count):
            self._work.put(_STOP)  # behind the events already queued
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.name.startswith("kyoso-inbox-worker"):
                thread.join(max(0.0, deadline - time.monotonic()))
        not_started: list[str] = []
        while True:
            try:
                item = self._work.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, NewEvent | DueEvent):
                not_started.append(item.event_id)
        self._writes.put(_STOP)
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        try:
            with self._session_factory.begin() as session:
                store.complete(session, self._unflushed_done, clock=self._clock)
                store.release(session, not_started)
        except SQLAlchemyError as exc:
            log.warning("inbox: could not hand back events at stop (%s); leases will expire", exc)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # -- the writer -----------------------------------------------------------------------

    def _write_loop(self) -> None:
        while True:
            first = self._writes.get()
            if first is _STOP:
                return
            batch = [first]
            while len(batch) < _MAX_BATCH:
                try:
                    item = self._writes.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    self._writes.put(_STOP)  # finish this batch, then stop
                    break
                batch.append(item)
            self._write(batch)

    def _write(self, batch: list[object]) -> None:
        records = [item for item in batch if isinstance(item, _Record)]
        done = self._unflushed_done + [item.event_id for item in batch if isinstance(item, _Done)]
        unique: dict[str, NewEvent] = {}
        for record in records:
            unique.setdefault(record.event.event_id, record.event)
        try:
            with self._session_factory.begin() as session:
                new_ids = store.record(
                    session, list(unique.values()), clock=self._clock, lease=self._lease
                )
                store.complete(session, done, clock=self._clock)
        except SQLAlchemyError as exc:
            log.error("inbox: could not record %d event(s): %s", len(records), exc)
            self._unflushed_done = done
            for record in records:
                record.answer.set_exception(InboxUnavailable("database unavailable"))
            return
        self._unflushed_done = []
        for record in records:
            # A second copy in the same batch is a redelivery: only the copy recorded counts.
            event_id = record.event.event_id
            is_new = event_id in new_ids and unique[event_id] is record.event
            if is_new:
                self._hand_over(record.event)
            record.answer.set_result(is_new)

    # -- the workers ----------------------------------------------------------------------

    def _hand_over(self, event: NewEvent | DueEvent) -> None:
        with self._lock:
            if event.event_id in self._in_hand:
                return
            self._in_hand.add(event.event_id)
        self._work.put(event)

    def _work_loop(self) -> None:
        while True:
            item = self._work.get()
            if item is _STOP:
                return
            assert isinstance(item, NewEvent | DueEvent)
            try:
                self._process(item)
            finally:
                with self._lock:
                    self._in_hand.discard(item.event_id)

    def _process(self, event: NewEvent | DueEvent) -> None:
        try:
            self._dispatch(event.body)
        except Exception as exc:
            self._record_failure(event, describe_failure(exc))
            return
        self._writes.put(_Done(event.event_id))

    def _record_failure(self, event: NewEvent | DueEvent, error: str) -> None:
        try:
            with self._session_factory.begin() as session:
                status = store.fail(session, event.event_id, error, clock=self._clock)
        except SQLAlchemyError as exc:
            # The claim's lease runs out and the event is taken up again.
            log.warning(
                "inbox: event %s failed and could not be rescheduled: %s", event.event_id, exc
            )
            return
        if status is InboxStatus.DEAD:
            log.error(
                "inbox: event %s (%s) failed %d times and is set aside: %s "
                "(`kyoso events failed`, `kyoso events retry`)",
                event.event_id,
                event.event_type,
                store.MAX_ATTEMPTS,
                error,
            )
        else:
            log.warning(
                "inbox: event %s (%s) failed, will retry: %s",
                event.event_id,
                event.event_type,
                error,
            )

    # -- the poller -----------------------------------------------------------------------

    def _poll_loop(self) -> None:
        while not self._stopping.is_set():
            self.poll_once()
            self._stopping.wait(self._poll_seconds)

    def poll_once(self) -> int:
        """Take up due events when the workers have room; the number taken."""
        room = self._worker_count * 25 - self._work.qsize()
        if room <= 0:
            return 0
        try:
            with self._session_factory.begin() as session:
                due = store.claim_due(session, clock=self._clock, lease=self._lease, limit=room)
        except SQLAlchemyError as exc:
            log.warning("inbox: could not look for due events: %s", exc)
            return 0
        for event in due:
            self._hand_over(event)
        return len(due)
