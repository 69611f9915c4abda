"""Shared fixtures. The expensive part, synthesizing the stacks, happens once per test session."""

from __future__ import annotations

import ast
import collections
import itertools
import json
import marshal
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from flightdeck.cdk_line import VARIABLE as CDK_LINE_VARIABLE
from flightdeck.cdk_line import activate
from verify.e2e import Emulator
from verify.policy import checkov_process

LINE = activate(os.environ)
"""The CDK line this session runs on (``FLIGHTDECK_CDK``): settled before any test module imports a binding."""

REPO = Path(__file__).resolve().parent.parent
ENVIRONMENTS = Path(__file__).resolve().parent / "fixtures" / "platform" / "environments"
"""The environments the product's tests synthesize: a fixture of their own (a copy of the examples as
they were), so a user's own ``environments/`` never breaks ``make test``."""
BOOTSTRAP = ENVIRONMENTS.parent / "bootstrap.yaml"
DATA = Path(__file__).resolve().parent / "data"


ENVIRON = dict(os.environ)
"""The process environment as the session began. The background jobs start their processes from
this copy, never from ``os.environ`` itself: a test on the main thread may set a variable
(``monkeypatch.setenv``) while a job's thread reads the environment, which fails half-way through
(``dictionary changed size during iteration``) or, for a child exec'ing it, with EFAULT."""


def clean_environ(**extra: str) -> dict[str, str]:
    """The session's environment (``ENVIRON``) without any Flightdeck or cdktf variables, plus ``extra``."""
    env = {k: v for k, v in ENVIRON.items() if not k.startswith(("FLIGHTDECK_", "CDKTF_")) or k == CDK_LINE_VARIABLE}
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    env.update(extra)
    return env


def run_main(outdir: Path, environments: Path | None = None, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """Run ``main.py`` as a user would, in a process of its own forked from one that has imported it
    (``tests/probes/fork_server.py``)."""
    return _FORKS.run(_environ(outdir, environments, extra_env))


def run_module(module: str, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """``python -m <module> ARG...`` as a user would run it, in a process of its own forked from one
    that has imported it (``tests/probes/fork_server.py``), with the Flightdeck-free environment plus
    ``extra_env``."""
    return _FORKS.run(clean_environ(**extra_env), module=module, argv=list(args))


class _Server:
    """One process of ``tests/probes/<script>.py`` answering request after request: a JSON line each way."""

    def __init__(self, script: str) -> None:
        self.script = REPO / "tests" / "probes" / f"{script}.py"
        self.lock = threading.Lock()
        self.process: subprocess.Popen[str] | None = None
        self.ahead: str | None = None
        """A request written before anyone asked it (``send_ahead``), whose answer is still unread."""

    def start(self) -> subprocess.Popen[str]:
        """The server's process, started now if it was not."""
        if self.process is None:
            self.process = subprocess.Popen(
                [sys.executable, str(self.script)],
                cwd=REPO,
                env=clean_environ(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        return self.process

    def send_ahead(self, environ: dict[str, str], **request: object) -> None:
        """Write a request now, before its job asks it (``ask`` with the same request reads its answer)."""
        with self.lock:
            self._write(json.dumps({"environ": environ, **request}))

    def ask(self, environ: dict[str, str], **request: object) -> dict[str, Any]:
        """The server's whole answer to one request."""
        line = json.dumps({"environ": environ, **request})
        with self.lock:
            if self.ahead != line:
                self._write(line)
            return self._answer()

    def _write(self, line: str) -> None:
        if self.ahead is not None:
            self._answer()  # a request sent ahead that no job asked (its tests were deselected)
        self.process = self.start()
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        self.ahead = line

    def _answer(self) -> dict[str, Any]:
        assert self.process is not None and self.process.stdout is not None
        answer = self.process.stdout.readline()
        assert answer, f"{self.script.name} ended"
        self.ahead = None
        return cast(dict[str, Any], json.loads(answer))

    def run(self, environ: dict[str, str], **request: object) -> subprocess.CompletedProcess[str]:
        result = self.ask(environ, **request)
        return subprocess.CompletedProcess(["main.py"], result["returncode"], result.get("stdout", ""), result["stderr"])

    def close(self) -> None:
        if self.process is not None and self.process.stdin is not None:
            self.process.stdin.close()
            self.process.wait(timeout=60)


_SERVERS = {lane: _Server("synthesis_server") for lane in ("aws", "gcp")}
"""The session's synthesis processes (``run_main_shared``), one per cloud: a synthesis on AWS never loads
the google bindings, nor one on GCP the aws ones (each is seconds of loading). Each begins with the
syntheses whose imports the binding test reads (``LANE_OPENINGS``)."""
LANE_OPENINGS = {"aws": ("synth_dir",), "gcp": ("existing_dir", "lazy_bindings", "gke_dir")}
"""The background jobs that make each synthesis process's first requests, in this order; every other
job of the lane waits for them. Each synthesis among them finds loaded only bindings it uses itself
(the existing cluster's kubernetes and helm, then the probe's datadog, are all GKE's too), so what
the process has loaded after it is what it loads: the binding test's evidence. The probe needs the
datadog binding not yet loaded."""
_FORKS = _Server("fork_server")
"""Where ``run_main`` forks each run from (``tests/probes/fork_server.py``)."""


# Head starts. A session of the whole suite spends its first second and a half importing and
# collecting the test modules, on one core: the processes that the background work will need
# and that take seconds to start (the synthesis processes loading the CDK core and its Node
# runtime, checkov's import, the emulator's) start then, before the work is known. A session of
# some of the tests starts each when a job first needs it, as before.

EMULATED_ACCOUNT = "555555555555"
"""The account of the session's emulator (``head_start("emulator")``)."""

_HEAD_STARTS: dict[str, Callable[[], Any]] = {
    "checkov": lambda: checkov_process(ENVIRON),  # for the policy scan (tests/test_policy.py)
    "emulator": lambda: Emulator(EMULATED_ACCOUNT, ENVIRON),  # for the schema guard's plan (tests/test_schema_guard.py)
}
_HEADED: dict[str, Any] = {}


def head_start(name: str) -> Any:
    """What the session started for ``name`` as it began (``_HEAD_STARTS``), handed over once: its taker
    stops it. None if the session did not start one (a run of some of the tests)."""
    return _HEADED.pop(name, None)


def _runs_whole_suite(config: pytest.Config) -> bool:
    """Whether the session's paths take in all of ``tests/`` (``make test``, ``pytest`` alone)."""
    here = Path(__file__).resolve().parent
    paths = [(config.invocation_params.dir / str(arg).split("::")[0]).resolve() for arg in config.args]
    return not config.option.collectonly and any(here.is_relative_to(path) for path in paths)


def pytest_configure(config: pytest.Config) -> None:
    if _runs_whole_suite(config):
        # Each lane's opening synthesis is asked at once: the whole suite needs it, and every other
        # synthesis of its cloud waits for it.
        for lane, server in _SERVERS.items():
            server.send_ahead(_environ(*_opening(LANE_OPENINGS[lane][0]), {}))
        for name, start in _HEAD_STARTS.items():
            _HEADED[name] = start()


def _stop_head_starts() -> None:
    """Stop what was started ahead and never taken (its tests were deselected, or failed before)."""
    for name in list(_HEADED):
        started = head_start(name)
        if isinstance(started, subprocess.Popen):
            started.kill()
            started.wait()
        else:
            started.stop()


def _environ(outdir: Path, environments: Path | None, extra_env: Mapping[str, str]) -> dict[str, str]:
    environ = clean_environ(CDKTF_OUTDIR=str(outdir), **extra_env)
    if environments is not None:
        environ["FLIGHTDECK_ENVIRONMENTS"] = str(environments)
    return environ


def run_main_shared(outdir: Path, environments: Path | None = None, *, lane: str = "aws", **extra_env: str) -> subprocess.CompletedProcess[str]:
    """``run_main`` in the session's synthesis process of ``lane`` (``_SERVERS``): the same
    environment, the same exit status and messages, without loading the bindings again. For syntheses
    a test only reads, from a background job of that lane; a test about how ``main.py`` ends (its
    status, its traceback-free output) runs it in a process of its own (``run_main``)."""
    return _SERVERS[lane].run(_environ(outdir, environments, extra_env))


def run_probe(name: str, *args: str, lane: str = "aws") -> subprocess.CompletedProcess[str]:
    """``run(args)`` of ``tests/probes/<name>.py`` in the session's synthesis process of ``lane`` (its
    bindings stay out of the test process, and load once for every synthesis); its answer as the
    standard output. From a background job of that lane."""
    return _SERVERS[lane].run(clean_environ(), probe=name, args=list(args))


def load_stacks(outdir: Path, raw: bool = False) -> dict[str, dict[str, Any]]:
    """Every synthesized stack by its name (``prod_platform``, ``prod_cluster``, ``bootstrap``).

    Tests read one shape on both CDK lines: the kubernetes 3.x bindings (cdktn line) write the
    ``metadata`` of a namespace or a role as a list of one block, the 2.x bindings as the block, and
    Terraform reads both alike (``platform_constructs/shapes.py``); the list is shown as its block.
    ``raw`` keeps the files exactly as written (the snapshots compare those).
    """
    stacks = {p.parent.name: json.loads(p.read_text()) for p in sorted((outdir / "stacks").glob("*/cdk.tf.json"))}
    return stacks if raw else {name: one_block_view(stack) for name, stack in stacks.items()}


def one_block_view(stack: dict[str, Any]) -> dict[str, Any]:
    """The stack with every kubernetes resource's ``metadata`` list of one block replaced by that block."""
    for resource_type, resources in stack.get("resource", {}).items():
        if resource_type.startswith("kubernetes_"):
            for body in resources.values():
                metadata = body.get("metadata")
                if isinstance(metadata, list) and len(metadata) == 1:
                    body["metadata"] = metadata[0]
    return stack


REMOTE_OUTPUT = re.compile(r"data\.terraform_remote_state\.cross-stack-reference-input-([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)")
"""How a cluster stack reads one of its platform stack's outputs (cdktf's cross-stack reference)."""


def platform_reads(cluster: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(stack, output) pairs the cluster stack reads from other stacks."""
    return set(REMOTE_OUTPUT.findall(json.dumps(cluster)))


def compose(platform: Mapping[str, Any] | None, cluster: Mapping[str, Any]) -> dict[str, Any]:
    """An environment's stacks as the one configuration they amount to once both are applied.

    Every remote-state read in the cluster stack is replaced by the expression of the platform
    output it reads (``${aws_eks_cluster.….endpoint}``), and the stacks' resources, data sources,
    providers and outputs are put side by side (their construct paths never collide). Promises
    that span the two stacks (the service account a pod runs as has a pod identity, the secret a
    chart reads is the database's) are checked on this view; which stack holds what is checked on
    the stacks themselves (``tests/test_stack_split.py``).
    """
    if platform is None:
        return dict(cluster)
    outputs = platform.get("output", {})

    def expression(match: re.Match[str]) -> str:
        value = outputs[match.group(2)]["value"]
        assert isinstance(value, str) and value.startswith("${") and value.endswith("}"), value
        return value[2:-1]

    resolved = json.loads(REMOTE_OUTPUT.sub(expression, json.dumps(cluster)))
    resolved.get("data", {}).pop("terraform_remote_state", None)
    composed: dict[str, Any] = {"//": cluster["//"], "terraform": cluster["terraform"]}
    for block in ("provider", "resource", "data", "output", "variable"):
        merged: dict[str, Any] = {}
        for part in (platform.get(block, {}), resolved.get(block, {})):
            for key, value in part.items():
                merged[key] = {**merged.get(key, {}), **value} if block in ("resource", "data") else value
        if merged:
            composed[block] = merged
    return composed


def environments_of(outdir: Path) -> dict[str, dict[str, Any]]:
    """Each environment synthesized into ``outdir``, its stacks composed into one configuration (``compose``)."""
    stacks = load_stacks(outdir)
    clusters = {name.removesuffix("_cluster"): stack for name, stack in stacks.items() if name.endswith("_cluster")}
    return {env: compose(stacks.get(f"{env}_platform"), cluster) for env, cluster in clusters.items()}


GKE_EXAMPLES = Path(__file__).resolve().parent / "fixtures" / "gke"
"""A copy of ``examples/gke`` (dev, qa, prod on Google Cloud): the tests never read the shipped examples."""
EXISTING_EXAMPLES = Path(__file__).resolve().parent / "fixtures" / "existing"
"""A copy of ``examples/existing``."""


# Background synthesis. Every synthesis the session's tests need runs in one of the session's
# synthesis processes (``_SERVERS``, one per cloud, one job at a time in each); the jobs start as soon
# as the tests are collected, two at a time (the machine's two cores), the one with the longest work
# ahead of it first, and a fixture waits only for its own. A run of one test module starts only what
# that module uses. Slow checks that only read a synthesis (checkov, Terraform against the emulator)
# run the same way, in processes of their own.

Job = Callable[[Path], Any]
"""Given a fresh work folder of its own, synthesizes (and prepares) what a fixture returns."""


@dataclass(frozen=True)
class _Registered:
    job: Job
    seconds: float
    """Roughly how long it takes on this machine beside another job, as the session's summary shows it: the jobs with the longest work ahead of them
    run first, and tests run in the order their jobs should be done (``pytest_collection_modifyitems``)."""
    needs: tuple[str, ...]
    """Jobs whose results it reads: it is queued when they are done, so it never holds a worker waiting."""
    lane: str | None
    """The synthesis process it uses (``_SERVERS``), if any: one job at a time runs in each, after the
    lane's opening jobs (``LANE_OPENINGS``), so a worker never waits for another's synthesis."""


_JOBS: dict[str, _Registered] = {}
_STARTED: dict[str, Future[Any]] = {}
_WORK = Path(tempfile.mkdtemp(prefix="flightdeck-tests-"))


class _Workers:
    """Two threads (the machine's two cores) running the jobs that are ready, in the order the tests
    want them: of the ready jobs, the first whose lane is free."""

    def __init__(self, count: int) -> None:
        self.ready: list[tuple[int, int, str]] = []
        self.busy: set[str] = set()
        """The lanes a job runs in now."""
        self.stopping = False
        self.changed = threading.Condition()
        self.order = itertools.count()
        self.threads = [threading.Thread(target=self._work, name=f"synthesis-{n}", daemon=True) for n in range(count)]
        for thread in self.threads:
            thread.start()

    def queue(self, name: str) -> None:
        if _is_join(name):
            # Only gathers what its needs made: done at once, in the thread that finished the last of
            # them, rather than queued behind jobs with work to do (a ready join last in the order
            # would hold back its tests until the workers ran out of everything else).
            _run(name)
            return
        with self.changed:
            self.ready.append((_ORDER.get(name, len(_ORDER)), next(self.order), name))
            self.changed.notify()

    def _next(self) -> str | None:
        """The job to run next (its lane marked busy), waiting for one; None once stopping."""
        with self.changed:
            while not self.stopping:
                runnable = [entry for entry in self.ready if _JOBS[entry[2]].lane not in self.busy]
                if runnable:
                    entry = min(runnable)
                    self.ready.remove(entry)
                    lane = _JOBS[entry[2]].lane
                    if lane is not None:
                        self.busy.add(lane)
                    return entry[2]
                self.changed.wait()
            return None

    def _work(self) -> None:
        while (name := self._next()) is not None:
            try:
                _run(name)
            finally:
                with self.changed:
                    self.busy.discard(_JOBS[name].lane or "")
                    self.changed.notify_all()

    def stop(self) -> None:
        """Let each worker finish the job it runs (its folder is about to go), and run no other."""
        with self.changed:
            self.stopping = True
            self.changed.notify_all()
        for thread in self.threads:
            thread.join(timeout=600)


_WORKERS = _Workers(2)
_ORDER: dict[str, int] = {}
"""Each job's rank, longest work ahead first (set after collection): of the ready jobs whose lane is free, the first runs."""


def _is_join(name: str) -> bool:
    """Whether a job does no work of its own: it gathers what the jobs it needs made (``seconds`` 0, no lane)."""
    job = _JOBS[name]
    return job.seconds == 0 and job.lane is None and bool(job.needs)


def background(name: str, seconds: float, needs: tuple[str, ...] = (), lane: str | None = None) -> Callable[[Job], Job]:
    """Register ``job`` as the background work of the fixture ``name`` (which calls ``synthesized_by(name)``);
    a job that synthesizes in one of the session's synthesis processes names it (``lane``)."""
    if lane is not None:
        openings = LANE_OPENINGS[lane]
        before = openings[: openings.index(name)] if name in openings else openings
        needs = (*before, *(need for need in needs if need not in before))

    def register(job: Job) -> Job:
        _JOBS[name] = _Registered(job, seconds, needs, lane)
        return job

    return register


_TIMES: dict[str, tuple[float, float]] = {}
"""Each job that ran: when it started and ended (``time.monotonic``), for the session's summary."""


def _run(name: str) -> None:
    """Run the job ``name`` in this thread, its result or its error handed to its future."""
    future = _STARTED[name]
    if future.set_running_or_notify_cancel():
        try:
            future.set_result(_timed(name, _WORK / name))
        except BaseException as error:  # noqa: BLE001 -- handed to whoever waits for the job
            future.set_exception(error)


def _timed(name: str, work: Path) -> Any:
    started = time.monotonic()
    try:
        return _JOBS[name].job(work)
    finally:
        _TIMES[name] = (started, time.monotonic())


def _start(name: str) -> Future[Any]:
    if name in _STARTED:
        return _STARTED[name]
    needs = [_start(need) for need in _JOBS[name].needs]
    (_WORK / name).mkdir(exist_ok=True)  # an opening synthesis sent ahead made it already
    future: Future[Any] = Future()
    _STARTED[name] = future
    waiting = [len(needs)]
    lock = threading.Lock()

    def one_done(_: Future[Any]) -> None:
        with lock:
            waiting[0] -= 1
            last = waiting[0] == 0
        if last:
            _WORKERS.queue(name)

    if not needs:
        _WORKERS.queue(name)
    for need in needs:
        need.add_done_callback(one_done)
    return future


def synthesized_by(name: str) -> Any:
    """What the background job ``name`` made, waiting for it (started now if collection did not)."""
    return _start(name).result()


def _jobs_of(item: pytest.Item) -> set[str]:
    """The background jobs a test's fixtures are made by."""
    return set(getattr(item, "fixturenames", ())) & _JOBS.keys()


def _planned_ends(wanted: set[str]) -> dict[str, float]:
    """When each job should be done, at its estimated time, if the workers run them as ``_Workers`` does
    (the first ready job by ``_ORDER`` whose lane is free, two at a time)."""
    ends: dict[str, float] = {}
    running: list[tuple[float, str]] = []
    pending, now = set(wanted), 0.0
    while pending:
        lanes = {_JOBS[name].lane for _, name in running} - {None}
        ready = [n for n in pending if _JOBS[n].lane not in lanes and all(ends.get(d, float("inf")) <= now for d in _JOBS[n].needs)]
        if joins := [n for n in ready if _is_join(n)]:
            pending.remove(joins[0])
            ends[joins[0]] = now  # done as its last need is, without a worker (``_Workers.queue``)
            continue
        if ready and len(running) < len(_WORKERS.threads):
            name = min(ready, key=_ORDER.__getitem__)
            pending.remove(name)
            ends[name] = now + _JOBS[name].seconds
            running.append((ends[name], name))
            continue
        assert running, f"jobs that can never start: {sorted(pending)}"
        running.sort()
        now, _ = running.pop(0)
    return ends


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    # Every job the tests need, and what those need.
    wanted: set[str] = set()

    def want(name: str) -> None:
        if name not in wanted:
            wanted.add(name)
            for need in _JOBS[name].needs:
                want(need)

    for item in items:
        for name in _jobs_of(item):
            want(name)

    # The longest path of work from each job to the end: the job itself and the longest of the jobs that need it.
    tails: dict[str, float] = {}

    def tail(name: str) -> float:
        if name not in tails:
            tails[name] = _JOBS[name].seconds + max((tail(d) for d in wanted if name in _JOBS[d].needs), default=0.0)
        return tails[name]

    # Of the ready jobs, the one with the longest path ahead of it runs first: the session lasts at least
    # as long as that path, and as the work spread over two cores.
    for position, name in enumerate(sorted(wanted, key=lambda n: (-tail(n), n))):
        _ORDER[name] = position
    # Tests that wait for nothing first, then in the order their background work should be done (a
    # stable sort: within a module, and among equals, the order stays as written), so the main process
    # runs the rest while the jobs are under way instead of waiting for them.
    ends = _planned_ends(wanted)
    items.sort(key=lambda item: max((ends[n] for n in _jobs_of(item)), default=0.0))
    for name in sorted(wanted, key=_ORDER.__getitem__):
        _start(name)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say what the background work took: where a slow session's time went, without a profiler."""
    if not _TIMES:
        return
    origin = min(start for start, _ in _TIMES.values())
    terminalreporter.section("background work (two at a time)")
    for name, (start, end) in sorted(_TIMES.items(), key=lambda item: item[1][0]):
        terminalreporter.write_line(f"{name:<24} {end - start:6.1f} s  (from {start - origin:5.1f} s)")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _WORKERS.stop()
    _stop_head_starts()
    for server in _SERVERS.values():
        server.close()
    _FORKS.close()
    shutil.rmtree(_WORK, ignore_errors=True)


OPENING_SYNTHESES = {
    "synth_dir": ("aws", "cdktf.out", lambda: ENVIRONMENTS),
    "existing_dir": ("gcp", "existing.out", lambda: EXISTING_EXAMPLES),
    "gke_dir": ("gcp", "gke.out", lambda: GKE_EXAMPLES),
}
"""The lanes' opening syntheses (``LANE_OPENINGS``): lane, output folder in the job's work folder, environments."""


def _opening(name: str) -> tuple[Path, Path]:
    """An opening synthesis's output folder (its parent made) and environments."""
    _, output, environments = OPENING_SYNTHESES[name]
    (_WORK / name).mkdir(exist_ok=True)
    return _WORK / name / output, environments()


def _opening_synthesis(name: str) -> Path:
    """One of a lane's opening syntheses, with what the process had loaded before it and what it
    imported (the server says both)."""
    lane = OPENING_SYNTHESES[name][0]
    outdir, environments = _opening(name)
    answer = _SERVERS[lane].ask(_environ(outdir, environments, {}))
    assert answer["returncode"] == 0, f"synthesis of {environments} failed:\n{answer['stderr'][-5000:]}"
    (outdir / "imports.json").write_text(json.dumps(answer["imports"]))
    return outdir


@background("synth_dir", 10.5, lane="aws")
def _fixture_environments(work: Path) -> Path:
    return _opening_synthesis("synth_dir")


@background("gke_dir", 5, lane="gcp")
def _gke(work: Path) -> Path:
    return _opening_synthesis("gke_dir")


@background("existing_dir", 2.3, lane="gcp")
def _existing(work: Path) -> Path:
    return _opening_synthesis("existing_dir")


@background("lazy_bindings", 1.1, lane="gcp")
def _lazy_bindings(work: Path) -> dict[str, Any]:
    result = run_probe("lazy_bindings", lane="gcp")
    assert result.returncode == 0, result.stderr[-3000:]
    return cast(dict[str, Any], json.loads(result.stdout))


@pytest.fixture(scope="session")
def lazy_bindings() -> dict[str, Any]:
    """What ``tests/probes/lazy_bindings.py`` saw of the datadog binding, in a process that had not loaded
    it (the GCP synthesis process, after the existing cluster's synthesis and before GKE's)."""
    return cast(dict[str, Any], synthesized_by("lazy_bindings"))


@pytest.fixture(scope="session")
def synth_dir() -> Path:
    """The fixture environments (``ENVIRONMENTS``) with their bootstrap, synthesized once for the whole session."""
    return cast(Path, synthesized_by("synth_dir"))


@pytest.fixture(scope="session")
def gke_dir() -> Path:
    """The GKE fixture (a copy of ``examples/gke``), synthesized once for the whole session."""
    return cast(Path, synthesized_by("gke_dir"))


@pytest.fixture(scope="session")
def existing_dir() -> Path:
    """The existing-cluster fixture (a copy of ``examples/existing``), synthesized once for the whole session."""
    return cast(Path, synthesized_by("existing_dir"))


TRUST = Path(__file__).resolve().parent / "fixtures" / "trust"
"""The trust fixture: an AWS environment (``live.yaml``) and the files the refusal tests start from."""


# Restoring the database: a new instance from a snapshot, beside the old one, which leaves Terraform
# without being destroyed (read by tests/test_day_two.py, and validated with the real provider by
# tests/test_terraform_validate.py).


def _platform_stacks(work: Path, lane: str, environments: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The platform stacks of ``environments`` (file contents by name), synthesized together in ``lane``."""
    folder = work / "environments"
    folder.mkdir()
    for name, environment in environments.items():
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(environment))
    outdir = work / "out"
    result = run_main_shared(outdir, folder, lane=lane)
    assert result.returncode == 0, result.stderr
    return {name: json.loads((outdir / "stacks" / f"{name}_platform" / "cdk.tf.json").read_text()) for name in environments}


@background("restores_aws", 2, lane="aws")
def _restores_aws(work: Path) -> dict[str, dict[str, Any]]:
    live = yaml.safe_load((TRUST / "live.yaml").read_text())
    return _platform_stacks(
        work,
        "aws",
        {
            "live": live,
            "restored": {**live, "database": {"restore_from": {"snapshot": "rds:flightdeck-live-2026-12-01-02-10", "instance": "r1"}}},
            # Restored again, and also a dev environment without Datadog, whose containers' logs go to
            # CloudWatch (one variant for both: neither touches what the other checks, and each
            # variant costs a synthesis).
            "again": {
                **{k: v for k, v in live.items() if k != "datadog"},
                "tier": "dev",
                "database": {"restore_from": {"snapshot": "before-r2", "instance": "r2", "replaces": "r1"}},
            },
        },
    )


@background("restores_gcp", 1.7, lane="gcp")
def _restores_gcp(work: Path) -> dict[str, dict[str, Any]]:
    # The same on GCP: the GKE fixture's prod as it is (its stack from the GKE fixture's synthesis, which
    # opens this lane), cloned at a point in time, then restored from a backup of that clone.
    gke = yaml.safe_load((GKE_EXAMPLES / "prod.yaml").read_text())
    database = gke.get("database", {})
    live = json.loads((cast(Path, synthesized_by("gke_dir")) / "stacks" / "prod_platform" / "cdk.tf.json").read_text())
    restored = _platform_stacks(
        work,
        "gcp",
        {
            "grestored": {**gke, "database": {**database, "restore_from": {"instance": "r1", "point_in_time": "2026-12-01T02:10:00Z"}}},
            "gagain": {**gke, "database": {**database, "restore_from": {"instance": "r2", "replaces": "r1", "backup_run_id": 1764555000000}}},
        },
    )
    return {"glive": live, **restored}


@background("restores", 0, needs=("restores_aws", "restores_gcp"))
def _restores(work: Path) -> dict[str, dict[str, Any]]:
    return {**synthesized_by("restores_aws"), **synthesized_by("restores_gcp")}


@pytest.fixture(scope="session")
def restores() -> dict[str, dict[str, Any]]:
    """The trust fixture's AWS environment as it is (``live``), restored once (``restored``) and again
    (``again``, which is also a dev environment without Datadog); the GKE fixture's prod likewise (``glive``: its ``prod``,
    ``grestored``, ``gagain``)."""
    return cast(dict[str, dict[str, Any]], synthesized_by("restores"))


# The fixture's qa alone, with its second team (marketing) removed, and a bootstrap.yaml keeping
# the bootstrap's state in qa's bucket, synthesized as for the first deploy
# (``FLIGHTDECK_BOOTSTRAP_STATE=local``): one variant for two checks, as each costs a synthesis and
# neither touches what the other reads (the state location is the bootstrap stack's backend only;
# removing a team changes only qa's stacks). Read by tests/test_teams.py and tests/test_bootstrap.py.


@background("qa_first_deploy", 0.9, lane="aws")
def _qa_first_deploy(work: Path) -> Path:
    folder = work / "environments"
    folder.mkdir()
    qa = (ENVIRONMENTS / "qa.yaml").read_text()
    start = qa.index("  - name: marketing")
    (folder / "qa.yaml").write_text(qa[:start])
    # The same CI settings as the fixture environments (so qa has its runner), its state in qa's bucket.
    bootstrap = yaml.safe_load(BOOTSTRAP.read_text())
    qa_config = fixture_configs()["qa"]
    bootstrap["state"] = {"bucket": qa_config.state.bucket, "region": qa_config.state_region}
    (work / "bootstrap.yaml").write_text(yaml.safe_dump(bootstrap))
    outdir = work / "out"
    result = run_main_shared(outdir, environments=folder, FLIGHTDECK_BOOTSTRAP_STATE="local")
    assert result.returncode == 0, result.stderr[-3000:]
    return outdir


@pytest.fixture(scope="session")
def qa_first_deploy() -> Path:
    """Where ``_qa_first_deploy`` synthesized the fixture's qa without marketing, and its bootstrap."""
    return cast(Path, synthesized_by("qa_first_deploy"))


WORKSTATION = Path(__file__).resolve().parent / "fixtures" / "workstation"


@background("workstation", 0.6, lane="aws")
def _workstation(work: Path) -> tuple[Path, dict[str, dict[str, Any]]]:
    outdir = work / "out"
    (outdir / "stacks" / "sandbox").mkdir(parents=True)
    (outdir / "stacks" / "sandbox" / "cdk.tf.json").write_text("{}")
    result = run_main_shared(outdir, environments=WORKSTATION)
    assert result.returncode == 0, result.stderr[-3000:]
    return outdir, load_stacks(outdir)


@pytest.fixture(scope="session")
def workstation() -> tuple[Path, dict[str, dict[str, Any]]]:
    """``tests/fixtures/workstation`` (no CI, a bastion, a public dev endpoint), synthesized into a
    folder that still holds a stack of an older run; the stacks by name."""
    return cast(tuple[Path, dict[str, dict[str, Any]]], synthesized_by("workstation"))


@pytest.fixture(scope="session")
def gke_stacks(gke_dir: Path) -> dict[str, dict[str, Any]]:
    """The GKE examples by environment, each composed of its two stacks."""
    return environments_of(gke_dir)


@pytest.fixture(scope="session")
def existing_stack(existing_dir: Path) -> dict[str, Any]:
    """The existing-cluster example's one stack (``dev_cluster``)."""
    return load_stacks(existing_dir)["dev_cluster"]


def imports(outdir: Path) -> tuple[set[str], set[str]]:
    """The top-level packages loaded in the process before the synthesis of ``outdir``, and those it imported."""
    recorded = json.loads((outdir / "imports.json").read_text())
    return set(recorded["before"]), set(recorded["imported"])


@pytest.fixture(scope="session")
def stacks(synth_dir: Path) -> dict[str, dict[str, Any]]:
    """The fixture environments by name, each composed of its platform and cluster stack (``compose``);
    the bootstrap stack is the ``bootstrap`` fixture, the stacks themselves are ``synthesized``."""
    return environments_of(synth_dir)


@pytest.fixture(scope="session")
def synthesized(synth_dir: Path) -> dict[str, dict[str, Any]]:
    """Every stack of the fixture environments (and the bootstrap stack) by stack name."""
    return load_stacks(synth_dir)


@pytest.fixture(scope="session")
def bootstrap(synth_dir: Path) -> dict[str, Any]:
    """The bootstrap stack synthesized from the fixture's ``bootstrap.yaml`` with its environments."""
    return load_stacks(synth_dir)["bootstrap"]


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser where PyYAML was built with it (its wheels are): what ``yaml.safe_load`` reads, in a
fraction of the pure-Python parser's time, which was the largest part of the test process's own work
(the tests read every chart's values, hundreds of times)."""


def dump_yaml(data: Any) -> str:
    """``yaml.safe_dump(data, sort_keys=False)`` with libyaml's emitter, where PyYAML has it."""
    return yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False)


def parse_yaml(text: str) -> Any:
    """``yaml.safe_load(text)``, parsed by libyaml, each text once a session: the tests read the same
    releases' values again and again. Each caller gets a copy of its own (marshal copies plain data in
    C, keys' types and all), so one test changing what it was given never reaches another."""
    copied = _marshalled_yaml(text)
    return marshal.loads(copied) if copied is not None else yaml.load(text, Loader=_YAML_LOADER)


@cache
def _marshalled_yaml(text: str) -> bytes | None:
    """The parsed document, marshalled; None if it holds what marshal cannot copy (a timestamp)."""
    try:
        return marshal.dumps(yaml.load(text, Loader=_YAML_LOADER))
    except ValueError:
        return None


def parse_yaml_all(text: str) -> list[Any]:
    """``yaml.safe_load_all(text)``, parsed by libyaml."""
    return list(yaml.load_all(text, Loader=_YAML_LOADER))


def resources(stack: Mapping[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Resources of one type, by logical id (empty if none)."""
    return dict(stack.get("resource", {}).get(resource_type, {}))


def only(stack: Mapping[str, Any], resource_type: str) -> dict[str, Any]:
    found = resources(stack, resource_type)
    assert len(found) == 1, f"expected exactly one {resource_type}, found {sorted(found)}"
    return next(iter(found.values()))



def releases(stack: Mapping[str, Any], namespace: str | None = None) -> dict[str, dict[str, Any]]:
    """Helm releases of a stack by release name: those in ``namespace``, or, where a name recurs in
    several namespaces (every Airflow's release is ``airflow``), the shared Airflow's."""
    found: dict[str, dict[str, Any]] = {}
    for release in resources(stack, "helm_release").values():
        if namespace is not None and release["namespace"] != namespace:
            continue
        if release["name"] in found and release["namespace"] != "airflow":
            continue
        found[release["name"]] = release
    return found


def values_of(stack: Mapping[str, Any], release: str = "airflow", namespace: str | None = None) -> dict[str, Any]:
    """The parsed values of one Helm release (in ``namespace``; by default the shared Airflow's where the name recurs)."""
    (values,) = releases(stack, namespace)[release]["values"]
    return parse_yaml(values)


def resource_paths(stack: Mapping[str, Any], prefix: str = "") -> set[str]:
    """Construct paths (below the stack, ``airflow/release``) of every resource under ``prefix``."""
    paths = (r["//"]["metadata"]["path"].split("/", 1)[1] for by_id in stack.get("resource", {}).values() for r in by_id.values())
    return {path for path in paths if path.startswith(prefix)}


def network_policies(stack: Mapping[str, Any], namespace: str) -> dict[str, dict[str, Any]]:
    """The specs of one namespace's network policies, by policy name."""
    return {
        p["metadata"]["name"]: p["spec"]
        for p in resources(stack, "kubernetes_network_policy_v1").values()
        if p["metadata"]["namespace"] == namespace
    }


def render_chart(chart: Path, values: Mapping[str, Any], name: str, namespace: str) -> list[dict[str, Any]]:
    """One of the project's own charts rendered offline (helm-python-sdk, no cluster): its objects."""
    import helm_python as helm

    with helm.Chart.load(str(chart)) as loaded:
        manifests = loaded.render(dict(values), name=name, namespace=namespace)
    return [d for text in manifests.values() for d in parse_yaml_all(text) if d]


def rendered(stack: Mapping[str, Any], release: str, chart: Path, namespace: str) -> list[dict[str, Any]]:
    """A release of one of the project's charts in ``stack``, rendered with the values it is given."""
    return render_chart(chart, values_of(stack, release), name=release, namespace=namespace)


_NESTED_STATEMENTS = ("body", "orelse", "finalbody", "handlers", "cases")
"""Where statements hold statements (an ``except`` handler's and a ``case``'s body included)."""


def statements(tree: ast.AST) -> Iterator[ast.AST]:
    """Every statement of ``tree``, nested ones included, in ``ast.walk``'s order, without visiting an
    expression: an import or a raise is a statement, and statements nest only in bodies and handlers
    (most of a tree's nodes are expressions, which ``ast.walk`` would visit too)."""
    queue = collections.deque([tree])
    while queue:
        node = queue.popleft()
        if isinstance(node, ast.stmt):
            yield node
        for field in _NESTED_STATEMENTS:
            queue.extend(getattr(node, field, ()))


@cache
def import_statements(path: Path) -> tuple[ast.Import | ast.ImportFrom, ...]:
    """Every import statement of a source file, those inside functions included (each file parsed once a session)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return tuple(node for node in statements(tree) if isinstance(node, (ast.Import, ast.ImportFrom)))


@cache
def configs_in(directory: Path) -> dict[str, Any]:
    """The environment files of ``directory``, loaded and validated as main.py would (no overrides)."""
    from flightdeck.loader import load_environments

    return {c.name: c for c in load_environments(directory, {})}


def fixture_configs() -> dict[str, Any]:
    """The fixture's environment files (``tests/fixtures/platform/environments``, a copy of the examples as
    they were); named for the examples they copy. Tests never read ``environments/`` itself."""
    return configs_in(ENVIRONMENTS)
