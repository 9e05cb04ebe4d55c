"""Running members here, in worker processes or on a dask.distributed cluster."""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from gridcarbon.core.errors import InputError
from gridcarbon.ensembles.members import Member, Shared, run_member

#: s a dask scheduler has to answer before its address is an input error. ASSUMPTION: a
#: scheduler that is up answers within seconds, and a wrong address should fail soon
SCHEDULER_TIMEOUT_S = 10.0
#: environment variable overriding :data:`SCHEDULER_TIMEOUT_S` (s; e.g. short in the tests)
TIMEOUT_ENV = "GRIDCARBON_DASK_TIMEOUT"


def run_members(common: Shared, members: list[Member], folder: str | Path | None, *, jobs: int = 1,
                dask_scheduler: str | None = None) -> list[dict]:
    """Every member's :func:`run_member` result, in member order.

    ``jobs`` > 1: that many worker processes, each receiving the shared study area once (when
    it starts), then only its members; ``dask_scheduler``: the address of a dask.distributed
    scheduler, whose workers get the shared study area once (scattered) and must see ``folder``.
    """
    if dask_scheduler:
        return _on_cluster(common, members, folder, dask_scheduler)
    if jobs > 1 and len(members) > 1:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_receive, initargs=(common,)) as pool:
            futures = [pool.submit(_run_received, m, folder) for m in members]
            return [f.result() for f in futures]
    return [run_member(common, m, folder) for m in members]


#: the shared study area a worker process received when it started (:func:`_receive`)
_received: list[Shared] = []


def _receive(common: Shared) -> None:
    _received[:] = [common]


def _run_received(member: Member, folder: str | Path | None) -> dict:
    return run_member(_received[0], member, folder)


def scheduler_client(address: str):
    """A ``distributed.Client`` of the scheduler at ``address``; InputError if it does not answer
    within :data:`SCHEDULER_TIMEOUT_S` (or ``$GRIDCARBON_DASK_TIMEOUT``) seconds."""
    from distributed import Client

    timeout = float(os.environ.get(TIMEOUT_ENV, SCHEDULER_TIMEOUT_S))
    try:
        return Client(address, timeout=timeout)
    except OSError as exc:
        raise InputError(f"cannot reach the dask scheduler at {address} ({exc})", record="--dask-scheduler") from exc


def _on_cluster(common: Shared, members: list[Member], folder, address: str) -> list[dict]:
    with scheduler_client(address) as client:
        remote = client.scatter(common, broadcast=True)
        futures = [client.submit(run_member, remote, m, folder, pure=False) for m in members]
        return client.gather(futures)
