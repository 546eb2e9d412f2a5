"""The job worker, kept running through database faults (``manage.py jobs_worker``).

procrastinate's own worker (``manage.py procrastinate worker``) stops for good on the
first database error in one of its side tasks (the LISTEN connection, the heartbeat,
the periodic deferrer: "Side task listener failed ... stopping worker") and crashes
on one while fetching a job. After a PostgreSQL restart, a read-only period or a
statement timeout, every job (every e-mail) then waits until someone restarts it.

``run_worker`` runs procrastinate's worker inside a loop instead. The contract:

- The process keeps going. Whatever ends a worker run other than a stop signal (a
  database error anywhere, or any other exception) ends that run only: its running
  job is allowed to finish, then a new run starts on a fresh connection pool, after
  a back-off (``JOBS_RECONNECT_BACKOFF``: first, then doubling, up to a maximum).
- One WARNING line per outage ("job worker: database unavailable (...); reconnecting
  with back-off"), one INFO line when a new run has lasted ``stable_seconds`` ("job
  worker: database back after N s"). The reason is the exception's type and first
  line, with anything shaped like a password removed; procrastinate's own
  traceback for the failed side task is not repeated.
- Jobs queued before or during the outage run once the database is back (they wait
  in the queue). A job whose outcome could not be recorded because the database was
  gone stays "doing" under the run that ended; that run's worker row is removed once
  the database is back, so the periodic ``retry_stalled_jobs`` re-queues the job at
  its next tick (jobs are idempotent: see ``concord.jobs``).
- SIGTERM or SIGINT stops it as procrastinate's does: the running job finishes, then
  the process exits 0. A second signal changes nothing (the job is not cut short);
  SIGKILL is the way to (systemd's TimeoutStopSec), and the job is then re-queued as
  stalled.

Whatever supervises the process (``infra/dev/run.sh``, systemd in production:
``infra/systemd/concord-worker.service``) restarts it if it exits anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
import time
from typing import Any

from procrastinate import worker as procrastinate_worker

logger = logging.getLogger("concord.worker")

POOL_WAIT_SECONDS = 10.0
_SECRET = re.compile(r"(password\s*=\s*)\S+|(://[^:/@\s]+:)[^@\s]+(@)", re.IGNORECASE)


def describe(exc: BaseException) -> str:
    """``Type: first line`` of an exception, short, with password-like parts removed."""
    cause = exc.__cause__ or exc.__context__
    if type(exc).__name__ == "ConnectorException" and cause is not None:
        exc = cause  # procrastinate wraps the driver's error; the driver's says what happened
    first = (str(exc).strip().splitlines() or [""])[0]
    first = _SECRET.sub(lambda m: f"{m.group(1) or m.group(2)}***{m.group(3) or ''}", first)
    return f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__


# procrastinate's records of a side task that failed: "Side task ... failed, stopping worker"
# (procrastinate.worker) and "<side task> error" (procrastinate.utils, as the run shuts down).
_SIDE_TASK_ACTIONS = {"side_task_failed"} | {
    f"{name}_error" for name in ("listener", "update_heartbeats", "deferrer", "poll_jobs_to_abort")
}


class _SideTaskFailure(logging.Filter):
    """Swallow procrastinate's records of a failed side task (each at ERROR with a traceback);
    remember the exception so the supervisor reports the outage in one line instead."""

    def __init__(self):
        super().__init__()
        self.last: BaseException | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "action", None) in _SIDE_TASK_ACTIONS:
            if self.last is None and record.exc_info and record.exc_info[1] is not None:
                self.last = record.exc_info[1]
            return False
        return True


class _Worker(procrastinate_worker.Worker):
    """procrastinate's worker, except that a job outcome it cannot record (the database went
    away as the job ended) ends this run, in one log line, instead of an unhandled task error.
    The job stays "doing"; once its run is unregistered it is re-queued as stalled."""

    failure: BaseException | None = None

    async def _persist_job_status(self, job, status, retry_decision, context, job_result):
        try:
            await super()._persist_job_status(job, status, retry_decision, context, job_result)
        except Exception as exc:  # noqa: BLE001 - recorded once the database is back (above)
            logger.warning(
                "job worker: the outcome of job %s (%s) could not be recorded (%s); it runs again once re-queued",
                job.id, job.task_name, describe(exc),
            )  # fmt: skip
            self.failure = self.failure or exc
            self.stop()


class WorkerSupervisor:
    """Runs procrastinate's worker until stopped, starting it again after any failure."""

    def __init__(
        self,
        app,
        *,
        worker_options: dict[str, Any],
        connect_kwargs: dict[str, Any] | None = None,
        first_wait: float = 1.0,
        max_wait: float = 20.0,
        stable_seconds: float = 5.0,
    ):
        self.app = app
        self.worker_options = {**app.worker_defaults, **worker_options, "install_signal_handlers": False}
        self.connect_kwargs = connect_kwargs  # psycopg.connect() arguments for the probe before each run
        self.first_wait = first_wait
        self.max_wait = max_wait
        self.stable_seconds = stable_seconds
        self.stopping = asyncio.Event()
        self.worker: procrastinate_worker.Worker | None = None
        self.failures = 0  # consecutive failed runs: the back-off grows with them
        self.outage_since: float | None = None  # monotonic time of the first failure of this outage
        self.dead_worker_ids: list[int] = []  # runs that ended without unregistering
        self._side_tasks = _SideTaskFailure()

    # --- Stopping ------------------------------------------------------------------

    def stop(self) -> None:
        """Stop after the running job (a signal handler; also for tests)."""
        if not self.stopping.is_set():
            logger.info("job worker: stop requested; finishing the running job")
        self.stopping.set()
        if self.worker is not None:
            self.worker.stop()

    def _install_signal_handlers(self, loop: asyncio.AbstractEventLoop) -> None:
        # Every signal means the same graceful stop: Ctrl-C reaches the worker and its supervisor
        # (infra/dev/keep-running.sh) at once, and the supervisor passes on a TERM of its own.
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop)

    # --- Running ---------------------------------------------------------------------

    async def run(self, *, install_signal_handlers: bool = True) -> None:
        self.app.perform_import_paths()
        if install_signal_handlers:
            self._install_signal_handlers(asyncio.get_running_loop())
        loggers = [logging.getLogger("procrastinate.worker"), logging.getLogger("procrastinate.utils")]
        loggers.append(loggers[0].getChild(self.worker_options.get("name") or procrastinate_worker.WORKER_NAME))
        for each in loggers:
            each.addFilter(self._side_tasks)
        try:
            while not self.stopping.is_set():
                error = await self._run_once()
                if self.stopping.is_set():
                    break
                self._failed(error)
                await self._wait(self._backoff())
        finally:
            for each in loggers:
                each.removeFilter(self._side_tasks)
            with contextlib.suppress(Exception):
                await self.app.connector.close_async()
        logger.info("job worker: stopped")

    async def _run_once(self) -> BaseException | None:
        """One run of procrastinate's worker on a fresh pool; the error that ended it, if any."""
        self._side_tasks.last = None
        watcher: asyncio.Task | None = None
        worker = _Worker(app=self.app, **self.worker_options)
        try:
            if self.connect_kwargs is not None:  # a quick probe first: an unreachable server is reported now
                await self._until_stopped(self._probe())
            await self._until_stopped(self.app.connector.open_async())
            await self._forget_dead_workers()
            if self.stopping.is_set():
                return None
            self.worker = worker
            watcher = asyncio.create_task(self._announce_when_stable(worker))
            await worker.run()
            # Returned by itself: a side task failed (procrastinate stopped the run), unless asked to stop.
            if self.stopping.is_set():
                return None
            return self._side_tasks.last or worker.failure or RuntimeError("the worker stopped")
        except Exception as exc:  # noqa: BLE001 - any failure ends this run only: the contract above
            return self._side_tasks.last or exc  # a failed side task, then a failed unregister: the first says why
        finally:
            self.worker = None
            if watcher is not None:
                watcher.cancel()
            if worker.worker_id is not None:  # the run could not unregister: done once the database is back
                self.dead_worker_ids.append(worker.worker_id)
            # A fresh pool next time: connections of a restarted server are all dead.
            with contextlib.suppress(Exception):
                await self.app.connector.close_async()

    async def _until_stopped(self, awaitable) -> None:
        """Await ``awaitable`` unless a stop is requested first (then cancel it)."""
        task = asyncio.ensure_future(awaitable)
        stop = asyncio.create_task(self.stopping.wait())
        try:
            await asyncio.wait([task, stop], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            return
        task.result()

    async def _probe(self) -> None:
        import psycopg

        connection = await psycopg.AsyncConnection.connect(**{"connect_timeout": 5, **self.connect_kwargs})
        await connection.close()

    async def _forget_dead_workers(self) -> None:
        """Unregister the runs that ended without doing so: their unfinished jobs then count
        as stalled at once (worker_id NULL) and ``retry_stalled_jobs`` re-queues them."""
        while self.dead_worker_ids:
            await self.app.job_manager.unregister_worker(self.dead_worker_ids[0])
            self.dead_worker_ids.pop(0)

    async def _announce_when_stable(self, worker: procrastinate_worker.Worker) -> None:
        await asyncio.sleep(self.stable_seconds)
        if self.outage_since is not None and worker.worker_id is not None:
            logger.info(
                "job worker: database back after %d s; running jobs again", time.monotonic() - self.outage_since
            )
        self.outage_since = None
        self.failures = 0

    def _failed(self, error: BaseException | None) -> None:
        self.failures += 1
        if self.outage_since is None:
            self.outage_since = time.monotonic()
            reason = describe(error) if error is not None else "the worker stopped"
            logger.warning("job worker: database unavailable (%s); reconnecting with back-off", reason)
        else:
            logger.debug("job worker: still unavailable (%s)", describe(error) if error else "stopped")

    def _backoff(self) -> float:
        return min(self.max_wait, self.first_wait * 2 ** (self.failures - 1))

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)


def run_worker(*, queues: list[str] | None = None, **worker_options: Any) -> None:
    """Run the job worker in this process until SIGTERM/SIGINT (what ``manage.py jobs_worker`` does)."""
    from django.conf import settings
    from procrastinate import psycopg_connector
    from procrastinate.contrib.django import app
    from procrastinate.contrib.django import settings as procrastinate_settings
    from procrastinate.contrib.django.utils import connector_params

    backoff = settings.JOBS_RECONNECT_BACKOFF
    # The pool retries connecting by itself and logs a WARNING per failed try; the
    # supervisor's one line per outage says it instead.
    logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
    # procrastinate's worker connector (``get_worker_connector``), with a shorter wait for a
    # pooled connection (30 s by default) so an outage is noticed, and a stop obeyed, sooner.
    alias = procrastinate_settings.settings.DATABASE_ALIAS
    params = connector_params(alias)
    connector = psycopg_connector.PsycopgConnector(kwargs=params, timeout=POOL_WAIT_SECONDS)
    with app.replace_connector(connector):
        supervisor = WorkerSupervisor(
            app,
            worker_options={"queues": queues, **worker_options},
            connect_kwargs=params,
            first_wait=backoff["first_seconds"],
            max_wait=backoff["max_seconds"],
            stable_seconds=backoff["stable_seconds"],
        )
        asyncio.run(supervisor.run())
