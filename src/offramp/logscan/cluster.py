"""Run the partitions on a Dask cluster: a LocalCluster here, or any scheduler by address.

Each Dask task calls the same ``partition.scan_chunk`` as the local loop, with the job (term list
bytes, column roles, options) sent once to every worker. Workers read the log files themselves,
so the paths must be reachable from them (a shared file system or the same machine). Kubernetes
(dask-kubernetes) and HPC schedulers (dask-jobqueue) start a scheduler and workers; pass its
address, or its scheduler file, to ``--cluster``: no code change (docs/logscan.md).

Errors in a partition (bad input in fail mode) come back as values, not as remote tracebacks, so
the person running the scan sees the same one-line message as in a local run.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from offramp.errors import ConfigError, InputError, OfframpError
from offramp.logscan.partial import Partial
from offramp.logscan.partition import Job, scan_chunk
from offramp.logscan.sources import Chunk, Plan

ADDRESS_SCHEMES = ("tcp://", "tls://", "ucx://", "ws://", "wss://", "inproc://")


@dataclass(frozen=True, slots=True)
class Failure:
    """An OfframpError raised in a worker, carried back as plain data."""

    kind: str
    message: str

    def to_error(self) -> OfframpError:
        if self.kind == "InputError":
            return InputError(self.message)
        if self.kind == "ConfigError":
            return ConfigError(self.message)
        return OfframpError(self.message)


def scan_chunk_safely(chunk: Chunk, job: Job) -> Partial | Failure:
    """``scan_chunk`` for a worker: bad input comes back as a ``Failure`` value."""
    try:
        return scan_chunk(chunk, job)
    except InputError as exc:
        return Failure("InputError", str(exc))
    except OfframpError as exc:
        return Failure(type(exc).__name__, str(exc))


@contextmanager
def connect(cluster: str, workers: int | None) -> Iterator[Any]:
    """A dask.distributed Client for ``cluster`` ("local", an address, or a scheduler file)."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - dask is in the dev extra
        raise ConfigError(
            "--cluster needs Dask", hint="install offramp with the cluster extra: "
            "pip install 'offramp[cluster]'"
        ) from exc
    if cluster == "local":
        count = workers or 2
        # Each worker runs one partition at a time; Polars inside it gets an equal share of the
        # cores, so that workers do not fight over them.
        threads = max(1, (os.cpu_count() or 1) // count)
        with LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=count,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: 8787 may be taken by another cluster
            silence_logs=logging.ERROR,
            env={"POLARS_MAX_THREADS": str(threads)},
        ) as local, Client(local) as client:  # type: ignore[no-untyped-call]
            yield client
        return
    if workers is not None:
        raise ConfigError("--workers applies to --cluster local only; an existing cluster "
                          "has the workers it was started with")
    try:
        if cluster.startswith(ADDRESS_SCHEMES):
            client = Client(cluster, timeout="20s")  # type: ignore[no-untyped-call]
        elif cluster.endswith(".json") and Path(cluster).is_file():
            client = Client(  # type: ignore[no-untyped-call]
                scheduler_file=cluster, timeout="20s"
            )
        else:
            raise ConfigError(
                f"--cluster {cluster!r} is neither 'local', a scheduler address "
                "(tcp://host:8786) nor an existing scheduler file (.json)"
            )
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {cluster} ({exc})") from exc
    with client:
        yield client


def run_on_dask(
    plan: Plan,
    job: Job,
    accumulate: Callable[[Partial], None],
    cluster: str,
    workers: int | None,
) -> None:
    """Scan every partition on the cluster, feeding results to ``accumulate`` as they finish."""
    from dask.distributed import as_completed

    if not plan.chunks:
        return
    with connect(cluster, workers) as client:
        shared = client.scatter(job, broadcast=True)
        futures = client.map(scan_chunk_safely, list(plan.chunks), job=shared, pure=False)
        try:
            for future in as_completed(futures):  # type: ignore[no-untyped-call]
                result = future.result()
                future.release()
                if isinstance(result, Failure):
                    raise result.to_error()
                accumulate(result)
        finally:
            client.cancel(futures)
