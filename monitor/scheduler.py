"""The `run` loop: each source on its own interval, each crawl followed at once by match, score and
alert; stops cleanly on Ctrl-C."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

from monitor.pipeline import Pipeline

log = logging.getLogger(__name__)
# A site that answers with its anti-bot check only tightens the block when asked again soon: each
# blocked crawl in a row doubles the wait before the next one, up to this many intervals.
BLOCKED_BACKOFF_MAX_INTERVALS = 16


def wait_after(interval: float, blocked_in_a_row: int) -> float:
    """Seconds until a source's next crawl: its interval, doubled for each blocked crawl in a row."""
    doublings: int = 2**blocked_in_a_row  # typeshed: int ** int is Any (a negative power is a float)
    return interval * min(doublings, BLOCKED_BACKOFF_MAX_INTERVALS)


def run_forever(
    pipeline: Pipeline,
    stop: threading.Event,
    clock: Callable[[], float] = time.monotonic,
    idle_poll: float = 5.0,
    on_cycle: Callable[[], None] | None = None,
) -> None:
    """Crawl each due source and process what it brought at once; sleep until the next source is due
    or `stop` is set.

    Processing (match, score, queue and deliver alerts) follows every source's crawl, so an alert
    from a quick source is not held back by a slow one later in the round; with nothing due it still
    runs, so alerts waiting for a retry go out on time. A source blocked by its site's anti-bot check
    waits longer after each blocked crawl in a row (`wait_after`).

    `stop` is only checked between sources and batches: a batch in flight is always finished and
    committed, so stopping never loses or half-stores anything.
    """
    sources = [s for s in pipeline.config.sources if s.enabled]
    next_due = {source.name: 0.0 for source in sources}
    blocked_in_a_row = {source.name: 0 for source in sources}
    while not stop.is_set():
        due = [s for s in sources if next_due[s.name] <= clock()]
        for source in due:
            if stop.is_set():
                break
            report = pipeline.crawl(source)
            blocked_in_a_row[source.name] = blocked_in_a_row[source.name] + 1 if report.blocked else 0
            wait = wait_after(source.interval, blocked_in_a_row[source.name])
            next_due[source.name] = clock() + wait
            if report.blocked:
                log.warning("%s: blocked by the site's anti-bot check; next try in %.0f s", source.name, wait)
            log.info(
                "%s: %d new, %d updated%s",
                source.name,
                report.new_items,
                report.updated,
                f", error: {report.error}" if report.error else "",
            )
            if not stop.is_set():
                _process(pipeline)
        if not due and not stop.is_set():
            _process(pipeline)
        if on_cycle:
            on_cycle()
        wait = min((t - clock() for t in next_due.values()), default=idle_poll)
        stop.wait(max(0.0, min(wait, idle_poll)))


def _process(pipeline: Pipeline) -> None:
    try:
        pipeline.process()
    except Exception:  # a locked database or a bad batch must not end the service
        log.exception("processing failed; the unprocessed rows stay queued for the next cycle")


def stop_on_signals(stop: threading.Event) -> None:
    """First Ctrl-C (or SIGTERM) asks the loop to stop after the current batch; a second one exits."""

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        log.warning("stopping after the current batch (press Ctrl-C again to quit now)")
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
