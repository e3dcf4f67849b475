"""The job service: long work in one pool, the analysis in its own lane, all cancelled at stop."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

import pytest

from ark_lsp.server.client_support import ClientSupport
from ark_lsp.server.jobs import Jobs, JobsStopped


@dataclass
class QuietServer:
    """A server whose client shows no progress."""

    client_support: ClientSupport = field(default_factory=ClientSupport)


def jobs_of() -> Jobs:
    return Jobs(QuietServer())  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_analysis_never_waits_behind_long_jobs() -> None:
    jobs = jobs_of()
    release = threading.Event()
    try:
        long_work = [asyncio.ensure_future(jobs.run(release.wait, 10)) for _ in range(8)]
        started = time.monotonic()
        assert await jobs.analyse(lambda: "analysed") == "analysed"
        assert time.monotonic() - started < 1
        assert not any(work.done() for work in long_work)
    finally:
        release.set()
        await asyncio.gather(*long_work)
        jobs.stop()


@pytest.mark.asyncio
async def test_analyses_run_one_at_a_time_in_order() -> None:
    jobs = jobs_of()
    order: list[int] = []

    def analyse(n: int) -> None:
        time.sleep(0.01 * (5 - n))
        order.append(n)

    await asyncio.gather(*(jobs.analyse(analyse, n) for n in range(5)))
    jobs.stop()
    assert order == list(range(5))


@pytest.mark.asyncio
async def test_stopping_cancels_every_job_and_refuses_new_ones() -> None:
    jobs = jobs_of()
    async with jobs.job("long", cancellable=True) as job:
        work = asyncio.ensure_future(jobs.run(job.cancelled.wait, 10))
        await asyncio.sleep(0.05)
        jobs.stop()
        assert await work is True
    assert jobs.stopping
    async with jobs.job("late") as late:
        assert late.is_cancelled()


@pytest.mark.asyncio
async def test_work_asked_for_after_stopping_is_refused_as_such() -> None:
    # A job begun before shutdown may ask for its work after it (an index refresh the
    # first diagnostics released, as the editor closes): it is told the server is stopping.
    jobs = jobs_of()
    async with jobs.job("begun before") as job:
        jobs.stop()
        assert job.is_cancelled()
        with pytest.raises(JobsStopped):
            await jobs.run(time.sleep, 0)
        with pytest.raises(JobsStopped):
            await jobs.analyse(time.sleep, 0)
