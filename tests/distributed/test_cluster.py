"""chunkwise on real ``distributed`` components: worker processes, the CLI programs, faults, TLS.

Every component listens on 127.0.0.1 only (checked), with free ports, and no
dashboard. Fixtures tear everything down even when a test fails: clusters are
context managers, CLI processes run in their own process group which is
terminated, then killed, in a ``finally``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import operator
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")

import chunkwise  # noqa: E402
import chunkwise.array as da  # noqa: E402
from chunkwise import delayed  # noqa: E402
from chunkwise.base import graph_of  # noqa: E402
from chunkwise.distributed import to_dask_graph  # noqa: E402

pytestmark = pytest.mark.timeout(120)

LOOPBACK = "127.0.0.1"


# --- functions run on the workers (imported there by reference: tests run from the repo) ---------


class ClusterBoom(Exception):
    """An exception type that only this module defines."""


def explode(x):
    raise ClusterBoom(f"cluster boom {x}")


def explode_block(block):
    raise ClusterBoom(f"block of shape {block.shape}")


def inc(x):
    return x + 1


def where(x=None):
    """``"cluster"`` when run by a distributed worker, else ``"local"``."""
    try:
        distributed.get_worker()
    except ValueError:
        return "local"
    return "cluster"


def pid_block(block):
    """The block filled with the id of the process that computed it."""
    return np.full(block.shape, os.getpid(), dtype=np.int64)


def module_file():
    """The file of the module defining ``ClusterBoom``, as imported where this runs.

    Run on a worker, it shows that this module's functions and classes travel
    by reference (the worker imports this very file), not by value.
    """
    return sys.modules[ClusterBoom.__module__].__file__


def slow_block(block, delay, marker_dir=None):
    """``block + 1`` after ``delay`` seconds; leaves a marker file naming this process when done."""
    time.sleep(delay)
    if marker_dir is not None:
        Path(marker_dir, f"{os.getpid()}-{uuid.uuid4().hex}").touch()
    return block + 1


# --- helpers ------------------------------------------------------------------------------------


def wait_until(condition, timeout, what):
    """Poll ``condition()`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def scheduler_task_count(client):
    return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))


def listening_addresses(pids):
    """The (ip, port) pairs that the processes ``pids`` (and their children) listen on."""
    procs = []
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            procs.append(proc)
            procs.extend(proc.children(recursive=True))
        except psutil.NoSuchProcess:
            continue
    found = set()
    for proc in procs:
        try:
            conns = proc.net_connections(kind="inet")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        found.update(tuple(c.laddr)[:2] for c in conns if c.status == psutil.CONN_LISTEN)
    return found


def assert_only_loopback(pids):
    addrs = listening_addresses(pids)
    assert addrs, "expected the cluster processes to listen somewhere"
    assert {ip for ip, _ in addrs} == {LOOPBACK}, f"non-loopback listening sockets: {sorted(addrs)}"


def low_level_future(client, collection):
    """``collection`` computed on ``client`` as a Future, without the dask collection protocol.

    chunkwise's optimized graph, converted by ``to_dask_graph``, submitted with
    ``client.get(..., sync=False)``.
    """
    graph, (key,) = graph_of([collection], optimize_graph=True)
    return client.get(to_dask_graph(graph), key, sync=False)


def submit(client, collection):
    """``collection`` computed on ``client`` as a Future: ``client.compute`` when chunkwise
    collections implement the dask collection protocol, else :func:`low_level_future`."""
    if hasattr(collection, "__dask_graph__"):
        return client.compute(collection)
    return low_level_future(client, collection)


def worker_pids(client):
    return sorted(client.run(os.getpid).values())


# --- (a) LocalCluster with worker processes --------------------------------------------------------


@pytest.fixture(scope="module")
def proc_cluster():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host=LOOPBACK,
        dashboard_address=None,  # no dashboard; its HTTP server (health, metrics) still runs:
        scheduler_kwargs={"dashboard_address": f"{LOOPBACK}:0"},  # on loopback, a free port
        worker_dashboard_address=None,
    ) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def proc_client(proc_cluster):
    """A client of the processes cluster that is not the default client."""
    with distributed.Client(proc_cluster, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=60)
        yield client


@pytest.fixture
def healthy(proc_client):
    """``proc_client``, with both workers back and nothing left on the cluster after the test."""
    proc_client.wait_for_workers(2, timeout=60)
    try:
        yield proc_client
    finally:
        proc_client.wait_for_workers(2, timeout=60)
        wait_until(
            lambda: scheduler_task_count(proc_client) == 0, 30, "the cluster to forget every task"
        )


@pytest.fixture
def active(healthy):
    """The processes cluster's client, made the active (default) client for the test."""
    with healthy.as_current():
        assert distributed.default_client() is healthy
        yield healthy


def test_processes_cluster_listens_on_loopback_only(proc_cluster, proc_client):
    pids = [os.getpid(), *worker_pids(proc_client)]
    assert all(
        addr.startswith(f"tcp://{LOOPBACK}:") for addr in proc_client.scheduler_info()["workers"]
    )
    assert proc_cluster.scheduler_address.startswith(f"tcp://{LOOPBACK}:")
    assert_only_loopback(pids)


def test_processes_array_results_match_numpy(active):
    data = np.arange(600 * 600, dtype=np.float64).reshape(600, 600) % 997
    x = da.from_array(data, chunks=(150, 200))
    np.testing.assert_allclose((x + x.T).mean(axis=0).compute(), (data + data.T).mean(axis=0))

    rechunked = x.rechunk((130, 70))
    assert rechunked.chunks == ((130,) * 4 + (80,), (70,) * 8 + (40,))
    np.testing.assert_array_equal(rechunked.compute(), data)
    np.testing.assert_allclose(rechunked.T.sum(axis=1).compute(), data.sum(axis=0))

    # a random array with a seed: the cluster gives exactly what the local threads give
    r = da.random.default_rng(42).random((500, 400), chunks=(100, 150))
    reduced = (r - r.mean(axis=0)).std(axis=1)
    on_cluster = reduced.compute()
    np.testing.assert_array_equal(on_cluster, reduced.compute(scheduler="threads"))
    local = r.compute(scheduler="threads")
    np.testing.assert_allclose(on_cluster, (local - local.mean(axis=0)).std(axis=1))


def test_processes_active_client_is_picked_and_threads_forces_local(active):
    x = da.ones((40, 40), chunks=10)
    pids = set(np.unique(x.map_blocks(pid_block, dtype=np.int64).compute()).tolist())
    workers = set(worker_pids(active))
    assert pids and pids <= workers and os.getpid() not in pids
    assert delayed(where)(delayed(inc)(1)).compute() == "cluster"

    local = x.map_blocks(pid_block, dtype=np.int64).compute(scheduler="threads")
    assert set(np.unique(local).tolist()) == {os.getpid()}
    assert delayed(where)(delayed(inc)(1)).compute(scheduler="threads") == "local"
    with chunkwise.config.set(scheduler="threads"):
        assert delayed(where)(1).compute() == "local"
    # explicit selection
    assert delayed(where)(1).compute(scheduler=active) == "cluster"
    assert delayed(where)(1).compute(scheduler="distributed") == "cluster"


def test_processes_delayed(healthy):
    leaves = [delayed(inc)(i) for i in range(32)]
    while len(leaves) > 1:
        leaves = [delayed(operator.add)(a, b) for a, b in zip(leaves[::2], leaves[1::2])]
    total = leaves[0]
    assert total.compute(scheduler=healthy) == sum(range(1, 33))
    doubled = delayed(operator.mul)(total, 2)
    assert chunkwise.compute(total, {"k": [doubled]}, scheduler=healthy) == (528, {"k": [1056]})
    # a delayed computation mixing an array
    x = da.arange(100, chunks=7)
    assert delayed(int)(x.sum()).compute(scheduler=healthy) == 4950


@pytest.mark.parametrize("how", ["client.get", "client.compute"])
def test_processes_futures(healthy, how):
    x = da.arange(60, chunks=9) * 3
    if how == "client.get":
        future = low_level_future(healthy, x)
    else:
        if not hasattr(x, "__dask_graph__"):
            pytest.skip("chunkwise collections do not implement the dask collection protocol yet")
        future = healthy.compute(x)
    assert isinstance(future, distributed.Future)
    np.testing.assert_array_equal(future.result(timeout=60), np.arange(60) * 3)


# --- (c) faults -----------------------------------------------------------------------------------


def test_exception_keeps_its_type(healthy):
    # the workers import this module: ClusterBoom is sent by reference, so the type is the same
    assert set(healthy.run(module_file).values()) == {module_file()}
    with pytest.raises(ClusterBoom, match="cluster boom 3") as info:
        delayed(explode)(delayed(inc)(2)).compute(scheduler=healthy)
    assert type(info.value) is ClusterBoom

    x = da.ones((20, 20), chunks=10)
    with pytest.raises(ClusterBoom, match=r"block of shape \(10, 10\)") as info:
        x.map_blocks(explode_block, dtype=x.dtype).sum().compute(scheduler=healthy)
    assert type(info.value) is ClusterBoom


def test_killed_worker_result_still_correct(healthy, tmp_path):
    markers = tmp_path / "done"
    markers.mkdir()
    nblocks, size = 24, 10
    x = da.arange(nblocks * size, chunks=size)
    # the result concatenates every block: blocks done on the killed worker are lost and recomputed
    y = x.map_blocks(slow_block, delay=0.25, marker_dir=str(markers), dtype=x.dtype)
    victim = worker_pids(healthy)[0]

    def done_by(pid):
        return [p for p in markers.iterdir() if p.name.startswith(f"{pid}-")]

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        running = pool.submit(y.compute, scheduler=healthy)
        wait_until(
            lambda: len(done_by(victim)) >= 2 or running.done(), 60, "the victim to finish 2 blocks"
        )
        assert not running.done(), "the computation finished before a worker could be killed"
        os.kill(victim, signal.SIGKILL)
        result = running.result(timeout=90)
    np.testing.assert_array_equal(result, np.arange(nblocks * size) + 1)
    assert victim not in worker_pids(healthy)
    assert len(list(markers.iterdir())) > nblocks, "the lost blocks should have been recomputed"


def test_cancel_frees_keys(healthy):
    assert scheduler_task_count(healthy) == 0
    x = da.arange(80, chunks=1)
    y = x.map_blocks(slow_block, delay=0.5, dtype=x.dtype).sum()
    future = submit(healthy, y)
    wait_until(
        lambda: scheduler_task_count(healthy) > 0, 30, "the computation to reach the scheduler"
    )
    wait_until(
        lambda: any(healthy.processing().values()) or future.done(),
        30,
        "tasks to start on the workers",
    )
    assert not future.done()
    future.cancel()
    wait_until(lambda: future.cancelled(), 30, "the future to be cancelled")
    assert future.status == "cancelled"
    wait_until(
        lambda: scheduler_task_count(healthy) == 0, 30, "the scheduler to forget the cancelled keys"
    )
    wait_until(
        lambda: not any(healthy.has_what().values()), 30, "the workers to release their data"
    )


# --- (b) scheduler and workers started with the `dask` command-line programs -----------------------


def _dask_cli():
    path = Path(sys.executable).parent / "dask"
    if not path.exists():
        pytest.skip(f"the dask command-line program is not installed next to {sys.executable}")
    return path


def _stop_group(proc, timeout=20):
    """Terminate ``proc``'s process group, then kill it if it lingers."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
    # the group may outlive its leader (a nanny's worker): kill whatever is left
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=timeout)


def _scheduler_address(scheduler_file):
    """The address in ``scheduler_file`` once the scheduler has written it completely, else None."""
    try:
        return json.loads(scheduler_file.read_text())["address"]
    except (OSError, ValueError, KeyError):
        return None


@pytest.fixture(scope="module")
def cli_cluster(tmp_path_factory):
    """A scheduler and two workers run as separate ``dask`` CLI processes.

    Yields ``(scheduler_file, pids, logdir)``. Each program runs in its own
    process group, terminated and then killed in a ``finally``; as a safety net
    against a killed test process, the scheduler stops after 5 idle minutes
    and the workers a minute after losing it.
    """
    dask = _dask_cli()
    tmp = tmp_path_factory.mktemp("cli_cluster")
    scheduler_file = tmp / "scheduler.json"
    # the workers import this module's functions by reference, as the test process names it
    module_root = Path(__file__).resolve().parents[__name__.count(".")]
    pythonpath = os.pathsep.join(filter(None, [str(module_root), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": pythonpath}
    # the HTTP server (health checks, metrics) runs even without a dashboard: keep it on loopback
    common = ["--host", LOOPBACK, "--no-dashboard", "--dashboard-address", f"{LOOPBACK}:0"]
    procs = []
    logs = []

    def start(name, *args):
        log = open(tmp / f"{name}.log", "wb")  # noqa: SIM115 (closed in the finally)
        logs.append(log)
        proc = subprocess.Popen(
            [str(dask), *args, *common],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=tmp,
            env=env,
            start_new_session=True,  # its own process group, killed as a whole
        )
        procs.append(proc)
        return proc

    try:
        scheduler = start(
            "scheduler", "scheduler", "--port", "0", "--scheduler-file", str(scheduler_file),
            "--idle-timeout", "300s",
        )  # fmt: skip
        wait_until(
            lambda: _scheduler_address(scheduler_file) or scheduler.poll() is not None,
            60,
            "the scheduler to write its address",
        )
        assert scheduler.poll() is None, (tmp / "scheduler.log").read_text()
        for i in range(2):
            start(
                f"worker{i}", "worker", "--scheduler-file", str(scheduler_file),
                "--nworkers", "1", "--nthreads", "1", "--death-timeout", "60",
                "--local-directory", str(tmp / f"worker{i}"),
            )  # fmt: skip
        yield scheduler_file, [p.pid for p in procs], tmp
    finally:
        for proc in reversed(procs):  # workers first, then the scheduler
            _stop_group(proc)
        for log in logs:
            log.close()


@pytest.fixture(scope="module")
def cli_client(cli_cluster):
    scheduler_file, _, logdir = cli_cluster
    address = _scheduler_address(scheduler_file)
    assert address.startswith(f"tcp://{LOOPBACK}:"), address
    with distributed.Client(address, set_as_default=False, timeout=60) as client:
        try:
            client.wait_for_workers(2, timeout=90)
        except TimeoutError as e:
            logs = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in logdir.glob("*.log"))
            raise AssertionError(f"the CLI workers did not connect: {e}\n{logs}") from None
        yield client


def test_cli_cluster_runs_chunkwise(cli_cluster, cli_client):
    _, pids, _ = cli_cluster
    assert cli_client.scheduler.address.startswith(f"tcp://{LOOPBACK}:")
    assert len(cli_client.scheduler_info()["workers"]) == 2
    assert_only_loopback(pids)

    data = np.arange(300 * 200, dtype=np.float64).reshape(300, 200) % 101
    x = da.from_array(data, chunks=(70, 60))
    np.testing.assert_allclose(
        (x @ x.T).mean(axis=0).compute(scheduler=cli_client), (data @ data.T).mean(axis=0)
    )
    r = da.random.default_rng(7).random((400, 400), chunks=100)
    assert (r + r.T).sum().compute(scheduler=cli_client) == (r + r.T).sum().compute(
        scheduler="threads"
    )
    with cli_client.as_current():
        assert delayed(where)(delayed(inc)(1)).compute() == "cluster"
        np.testing.assert_array_equal(x.rechunk((50, 200)).compute(), data)
    blocks = da.ones(40, chunks=5).map_blocks(pid_block, dtype=np.int64)
    ran_on = set(np.unique(blocks.compute(scheduler=cli_client)).tolist())
    assert ran_on and ran_on <= set(worker_pids(cli_client)) and os.getpid() not in ran_on
    assert set(cli_client.run(module_file).values()) == {module_file()}
    with pytest.raises(ClusterBoom, match="cluster boom 1") as info:
        delayed(explode)(1).compute(scheduler=cli_client)
    assert type(info.value) is ClusterBoom


# --- (d) TLS ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_cluster():
    pytest.importorskip(
        "cryptography", reason="Security.temporary() needs the cryptography package"
    )
    from distributed.security import Security

    security = Security.temporary()
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tls://",
        host=LOOPBACK,
        security=security,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": f"{LOOPBACK}:0"},
    ) as cluster:
        yield cluster, security


def test_tls_cluster(tls_cluster):
    cluster, security = tls_cluster
    assert security.require_encryption
    with distributed.Client(cluster, security=security, set_as_default=False) as client:
        assert client.scheduler.address.startswith(f"tls://{LOOPBACK}:")
        assert cluster.scheduler_address.startswith("tls://")
        assert all(a.startswith(f"tls://{LOOPBACK}:") for a in client.scheduler_info()["workers"])
        x = da.random.default_rng(3).random((300, 300), chunks=100)
        y = (x + x.T).mean(axis=0)
        np.testing.assert_array_equal(y.compute(scheduler=client), y.compute(scheduler="threads"))
        assert delayed(where)(delayed(inc)(1)).compute(scheduler=client) == "cluster"
        assert_only_loopback([os.getpid()])
    # certificates from another authority are refused
    from distributed.comm.core import FatalCommClosedError
    from distributed.security import Security

    with pytest.raises(FatalCommClosedError, match="TLS certificate does not match"):
        distributed.Client(
            cluster.scheduler_address,
            security=Security.temporary(),
            timeout=10,
            set_as_default=False,
        )
