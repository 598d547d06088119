"""Run GUI scenario scripts in child processes and hand back what they observed.

A Kivy App runs once per process, so a GUI test calls :func:`run_child`, which asks a child
``python <script> <scenario> <orientation>`` under the current display to run the scenario
(tests/gui_driver.py, tests/gui_flow_driver.py, tests/test_maint_gui.py, …). The child prints
one ``RESULT {json}`` line per scenario; a failing step, a timeout or a crash comes back as an
AssertionError carrying the child's output, log tail and a screenshot of the failed moment,
never as a hang.

One child serves many scenarios. A driver whose ``main`` serves (:class:`ScenarioServer`)
says ``SERVING`` when it starts; after each scenario it resets the app (session ended, layers
closed, home screen, the platform database restored with SQLite's backup API, simulators back
to their first state) and says ``READY``, then takes the next scenario from its stdin. Children
are pooled by script, orientation and the environment the test gave (settings are read at
start), so a test module's scenarios share one app start. A child that failed a scenario, or
could not reset, is retired and the next scenario gets a fresh one. A driver whose ``main``
does not serve runs one scenario and exits, as before.

The test's *data_dir* keeps its meaning for a served scenario: the child's own data directory
lives in the pool, and afterwards the test's *data_dir* receives the child's log (its start-up
and this scenario's lines) and the Kivy home's config, which tests read. A test that put files
into *data_dir* before the call (a PIN, a roster) gets a child of its own on that directory.

Each child's data directory starts with a copy of a demo platform database seeded once per
test run: the demo seed (thousands of postings, hundreds of persons with histories) would
otherwise cost every child several seconds before its first screen.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import os
import queue
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

RESULT_PREFIX = "RESULT "
SERVING_LINE = "SERVING"  # the child's driver takes more scenarios on stdin
READY_LINE = "READY"  # the child has reset and waits for the next scenario
SERVE_ENV = "KIOSK_TEST_SERVE"  # "1": a serving driver keeps the app for more scenarios
# Read by the child for each scenario, not at start: they do not split the pool.
PER_SCENARIO_ENV = frozenset({"FLOW_SHOTS", "KIOSK_MAINT_SHOTS"})
EXIT_GRACE_SECONDS = 10.0  # a served child told to stop exits by then, stopped or not
POOL_SIZE = 2  # idle children kept (each holds an app and its platform; ~300 MB)
ROOT = Path(__file__).resolve().parents[1]
_seeded_template: Path | None = None
_pool: dict[tuple, _Child] = {}
_pool_lock = threading.Lock()
_pool_dir: Path | None = None
_names = itertools.count(1)


def seeded_platform_template() -> Path:
    """The demo platform database, seeded once per test run (same seed, same day).

    Under pytest-xdist the workers of one run share it: the first to get the lock seeds it.
    """
    global _seeded_template
    if _seeded_template is None:
        run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
        if run is None:
            _seeded_template = _seed(Path(tempfile.mkdtemp(prefix="kiosk-seeded-platform-")))
        else:
            import fcntl

            directory = Path(tempfile.gettempdir()) / f"kiosk-seeded-platform-{run}"
            directory.mkdir(exist_ok=True)
            with open(directory / "lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                done = directory / "seeded"
                if not done.exists():
                    _seed(directory)
                    done.touch()
            from kiosk.services.embedded_backend import BACKEND_DB_FILE_NAME

            _seeded_template = directory / BACKEND_DB_FILE_NAME
    return _seeded_template


def _seed(directory: Path) -> Path:
    from kiosk.config import load_config
    from kiosk.services.embedded_backend import BACKEND_DB_FILE_NAME, start_embedded_backend

    # The demo kiosk's own id: each child re-keys it with its own secret on start.
    kiosk_id = load_config().kiosk.device_id
    _url, _secret, handle = start_embedded_backend(directory, kiosk_id)
    handle.stop()
    return directory / BACKEND_DB_FILE_NAME


def give_seeded_platform(data_dir: Path) -> None:
    """Put a copy of the seeded demo platform database into *data_dir* (unless one is there),
    with its server key file (the secrets in it are sealed with that key), both 0600.

    SQLite's backup API copies a consistent database, WAL content included.
    """
    from kiosk.services.embedded_backend import BACKEND_DB_FILE_NAME
    from kiosk_backend.db import ensure_private_sqlite_file
    from kiosk_backend.server_keys import KEY_FILE_SUFFIX

    target = data_dir / BACKEND_DB_FILE_NAME
    if target.exists():
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    template = seeded_platform_template()
    key = Path(f"{template}{KEY_FILE_SUFFIX}").read_bytes()
    fd = os.open(f"{target}{KEY_FILE_SUFFIX}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    ensure_private_sqlite_file(target)
    restore_database(template, target)


def restore_database(source: Path, target: Path) -> None:
    """Make the SQLite database *target* a copy of *source* with the backup API.

    *target* may be open elsewhere (a running platform): the copy is one write transaction,
    and other connections see the restored content at their next read.
    """
    source_db = sqlite3.connect(source)
    copy = sqlite3.connect(target, timeout=30)
    try:
        source_db.backup(copy)
    finally:
        copy.close()
        source_db.close()


def snapshot_database(database: Path) -> Path:
    """A consistent copy of the (live) SQLite *database* beside it, for :func:`restore_database`."""
    copy = database.with_name(database.name + ".pristine")
    copy.unlink(missing_ok=True)
    restore_database(database, copy)
    return copy


def _seeded_files(data_dir: Path) -> set[Path]:
    """What :func:`give_seeded_platform` may have put into *data_dir* (itself or a subfolder)."""
    from kiosk.services.embedded_backend import BACKEND_DB_FILE_NAME
    from kiosk_backend.server_keys import KEY_FILE_SUFFIX

    names = {
        BACKEND_DB_FILE_NAME,
        f"{BACKEND_DB_FILE_NAME}-wal",
        f"{BACKEND_DB_FILE_NAME}-shm",
        f"{BACKEND_DB_FILE_NAME}{KEY_FILE_SUFFIX}",
    }
    return {p for p in data_dir.rglob("*") if p.is_file() and p.name in names}


def _prepared_by_test(data_dir: Path) -> bool:
    """True when the test put files of its own into *data_dir* (the child must see them)."""
    if not data_dir.exists():
        return False
    files = {p for p in data_dir.rglob("*") if p.is_file()}
    return bool(files - _seeded_files(data_dir))


def run_child(
    script: Path,
    name: str,
    data_dir: Path,
    *,
    orientation: str = "portrait",
    env: dict[str, str] | None = None,
    timeout: float = 300,
    seeded: bool = True,
) -> dict:
    """Run scenario *name* of *script* in a child process; its observations (raises on failure).

    A pooled child of the same script, orientation and *env* runs it when there is one (see the
    module docstring); a child of its own when the test prepared *data_dir* itself.
    """
    env = dict(env or {})
    scenario_env = {k: v for k, v in env.items() if k in PER_SCENARIO_ENV}
    start_env = {k: v for k, v in env.items() if k not in PER_SCENARIO_ENV}
    if _prepared_by_test(data_dir):  # the scenario runs on this very directory
        if seeded:
            give_seeded_platform(data_dir)
        child = _Child(script, orientation, start_env, data_dir, serve=False)
        return child.run(name, scenario_env, data_dir, timeout)
    key = (str(script), orientation, tuple(sorted(start_env.items())), seeded)
    with _pool_lock:
        child = _pool.pop(key, None)
    if child is not None and not child.wait_ready(time.monotonic() + timeout):
        child.close()  # it retired after its last scenario (could not reset)
        child = None
    if child is None:
        child = _Child(script, orientation, start_env, _new_pool_dir(seeded), serve=True)
    try:
        observations = child.run(name, scenario_env, data_dir, timeout)
    except BaseException:
        child.close()
        raise
    if child.serving and child.alive():
        _keep(key, child)
    else:
        child.close()
    return observations


def _new_pool_dir(seeded: bool) -> Path:
    global _pool_dir
    if _pool_dir is None:
        _pool_dir = Path(tempfile.mkdtemp(prefix="kiosk-gui-children-"))
        atexit.register(shutil.rmtree, _pool_dir, True)
    directory = _pool_dir / f"child-{next(_names)}"
    directory.mkdir()
    if seeded:
        give_seeded_platform(directory)
    return directory


def _keep(key: tuple, child: _Child) -> None:
    with _pool_lock:
        _pool[key] = child
        evicted = list(_pool)[:-POOL_SIZE] if len(_pool) > POOL_SIZE else []
        evicted_children = [_pool.pop(k) for k in evicted]
    for old in evicted_children:
        old.close()


@atexit.register
def close_all_children() -> None:
    """Stop every pooled child (the end of the test run)."""
    with _pool_lock:
        children = list(_pool.values())
        _pool.clear()
    for child in children:
        child.close()


class _Child:
    """One child process (parent side): start, send scenarios, read results, stop."""

    def __init__(
        self, script: Path, orientation: str, env: dict, data_dir: Path, *, serve: bool
    ) -> None:
        self.script = script
        self.orientation = orientation
        self.data_dir = data_dir
        self.serving = False  # the driver said SERVING
        self._serve = serve
        self._env = env
        self._proc: subprocess.Popen | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stdout: list[str] = []
        self._stderr_path = data_dir / "child-stderr.txt"
        self._scenarios = 0
        self._ready = False  # READY seen and no scenario sent since
        self._startup_log_end = 0  # bytes of kiosk.log written before the first scenario

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def run(self, name: str, scenario_env: dict, test_dir: Path, timeout: float) -> dict:
        """Run scenario *name*; its observations. Raises AssertionError on any failure."""
        deadline = time.monotonic() + timeout
        log_start = self._log_size()
        if self._proc is None:
            self._start(name, scenario_env)
        else:
            if not self.wait_ready(deadline):
                self._fail(name, "the child retired before this scenario")
            log_start = self._log_size()
            self._ready = False
            request = {"name": name, "env": scenario_env}
            try:
                self._proc.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
                self._proc.stdin.flush()
            except OSError as exc:
                self._fail(name, f"could not send the scenario: {exc!r}")
        result_line = self._wait_for(RESULT_PREFIX, deadline, name)
        self._scenarios += 1
        if self._scenarios == 1:
            self._startup_log_end = self._first_scenario_log_offset()
        self._hand_over(test_dir, log_start)
        report = json.loads(result_line[len(RESULT_PREFIX) :])
        if report["error"]:
            shot = report.get("screenshot") or "(none)"
            raise AssertionError(
                f"scenario {name}: {report['error']}\n--- screenshot of the failure: {shot}"
                f"\n--- log\n{self._log_tail(log_start)}"
            )
        if not self.serving:
            self._wait_exit(name, deadline)
        return report["observations"]

    # -- process ------------------------------------------------------------------------
    def _start(self, name: str, scenario_env: dict) -> None:
        child_env = {
            **os.environ,
            "KIOSK_DATA_DIR": str(self.data_dir),
            "KIVY_HOME": str(self.data_dir / "kivy"),
            "KIVY_NO_ARGS": "1",
            "KIOSK_ALLOW_SHORT_TIMERS": "1",
            SERVE_ENV: "1" if self._serve else "0",
            **self._env,
            **scenario_env,
        }
        self.data_dir.mkdir(parents=True, exist_ok=True)
        stderr = open(self._stderr_path, "w", encoding="utf-8")  # noqa: SIM115 (child's)
        self._proc = subprocess.Popen(
            [sys.executable, str(self.script), name, self.orientation],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            encoding="utf-8",
            env=child_env,
            cwd=ROOT,
            start_new_session=True,  # its own process group: a kill takes its helpers too
        )
        stderr.close()
        threading.Thread(target=self._read, daemon=True, name="gui-child-stdout").start()

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _wait_for(self, prefix: str, deadline: float, name: str) -> str:
        """The next line starting with *prefix* (other lines are kept for a failure report)."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._fail(name, f"no {prefix.strip()} line in time (child killed)", kill=True)
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                self._proc.wait()
                self._fail(name, f"the child ended (exit {self._proc.returncode})")
            if line == SERVING_LINE:
                self.serving = True
                continue
            if line.startswith(prefix):
                return line
            self._stdout.append(line)

    def wait_ready(self, deadline: float) -> bool:
        """True once the child said READY (now or before); False when it ended instead."""
        if self._ready:
            return True
        while self.alive() or not self._lines.empty():
            try:
                line = self._lines.get(timeout=max(0.01, min(1.0, deadline - time.monotonic())))
            except queue.Empty:
                if time.monotonic() > deadline:
                    return False
                continue
            if line is None:
                return False
            if line == READY_LINE:
                self._ready = True
                return True
            self._stdout.append(line)
        return False

    def _wait_exit(self, name: str, deadline: float) -> None:
        try:
            self._proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self._fail(name, "the child did not exit after its scenario", kill=True)
        if self._proc.returncode != 0:
            self._fail(name, f"the child exited {self._proc.returncode}")

    def close(self) -> None:
        """Ask the child to stop (EOF on its stdin); kill it if it does not."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(OSError):
            proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._kill()

    def _kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def _fail(self, name: str, what: str, *, kill: bool = False) -> None:
        if kill:
            self._kill()
        stderr = self._stderr_path.read_text(encoding="utf-8", errors="replace")
        stdout = "\n".join(self._stdout)
        raise AssertionError(
            f"scenario {name} failed: {what}\n--- stdout\n{stdout[-3000:]}"
            f"\n--- stderr\n{stderr[-5000:]}\n--- log\n{self._log_tail(0)}"
        )

    # -- the data directory -------------------------------------------------------------
    def _log_path(self) -> Path:
        return self.data_dir / "logs" / "kiosk.log"

    def _log_size(self) -> int:
        try:
            return self._log_path().stat().st_size
        except FileNotFoundError:
            return 0

    def _log_tail(self, start: int) -> str:
        try:
            with open(self._log_path(), "rb") as fh:
                fh.seek(start)
                return fh.read().decode("utf-8", "replace")[-4000:]
        except FileNotFoundError:
            return ""

    def _first_scenario_log_offset(self) -> int:
        """Where the first scenario's log lines begin: after the app's start-up lines."""
        try:
            data = self._log_path().read_bytes()
        except FileNotFoundError:
            return 0
        marker = data.find(b'"event": "scenario_start"')
        return data.rfind(b"\n", 0, marker) + 1 if marker >= 0 else 0

    def _hand_over(self, test_dir: Path, log_start: int) -> None:
        """Give the test's *test_dir* what it may read: the log of an app that started and ran
        this one scenario, and the Kivy home's config."""
        if test_dir.resolve() == self.data_dir.resolve():
            return
        try:
            data = self._log_path().read_bytes()
        except FileNotFoundError:
            data = b""
        first = self._startup_log_end
        logs = test_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        mine = data[:first] + data[max(first, log_start) :]
        (logs / "kiosk.log").write_bytes(mine)
        config = self.data_dir / "kivy" / "config.ini"
        if config.exists():
            (test_dir / "kivy").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(config, test_dir / "kivy" / "config.ini")


def print_result(error: str | None, observations: dict, screenshot: str | None = None) -> None:
    """The child's word after each scenario: the line :func:`run_child` reads."""
    report = {"error": error, "observations": observations, "screenshot": screenshot}
    print(RESULT_PREFIX + json.dumps(report, ensure_ascii=False, default=str), flush=True)


# ------------------------------------------------------------------------------- child side
class ScenarioClock:
    """The idle timer's clock in a GUI child: it stands still until a scenario moves it, so a
    slow frame on a loaded machine never brings the idle prompt into a scenario that did not
    ask for it, and one that waits for idleness does not wait real seconds (:func:`pass_idle`).
    Seconds, like ``time.monotonic``."""

    def __init__(self) -> None:
        self._now = time.monotonic()

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds


SCENARIO_CLOCK = ScenarioClock()


def pass_idle(seconds: float):
    """Let *seconds* of the resident's inactivity pass on the idle clock (a script step:
    ``yield from pass_idle(s)``), and a little more: a limit is reached, not just touched. The
    app notices at its next idle poll."""
    from kiosk.screens.driver import Frames

    SCENARIO_CLOCK.advance(seconds + 0.5)
    yield Frames(1)


def child_runtime_options():
    """The app's runtime as GUI children run it: the demo card in-process (the machine's one
    pcscd + vpcd is shared with other test runs, whose card pulls would end our sessions)."""
    from kiosk.services.runtime import RuntimeOptions

    return RuntimeOptions(pcsc_available=lambda: None)


class ScenarioServer:
    """The child's side of :func:`run_child`: runs scenario *first*, then, when the parent asked
    for a serving child and the driver can reset its app, more scenarios read from stdin.

    *make(name, observations)* returns a scenario's script (kiosk.screens.driver);
    *finish(observations)* adds what the driver notes for every scenario; *reset()* returns a
    script that puts the app back as it was after start (None: this driver cannot, so its
    child runs one scenario). A scenario that fails retires the child: the next one gets a fresh
    app. Everything runs on the UI thread; a reader thread only hands stdin lines over.
    """

    def __init__(self, app, first: str, make, *, finish=None, reset=None) -> None:
        self.app = app
        self.first = first
        self._make = make
        self._finish = finish
        self._reset = reset
        self.serving = reset is not None and os.environ.get(SERVE_ENV) == "1"
        self.stopped_with: str | None = "the app stopped before the scenario finished"

    def start(self, delay: float = 0.5) -> None:
        """Run the first scenario once the home screen was first drawn (and *delay* s more)."""
        from kivy.clock import Clock

        if self.serving:
            print(SERVING_LINE, flush=True)

        def when_drawn(_dt) -> bool:
            if not getattr(self.app, "_first_frame_seen", True):
                return True  # keep polling
            self._run(self.first, None, delay)
            return False

        Clock.schedule_interval(when_drawn, 0.05)

    def _run(self, name: str, scenario_env: dict | None, delay: float = 0.0) -> None:
        """Start scenario *name*; *scenario_env* replaces the per-scenario variables (None:
        keep the process's own, as the first scenario was started with them)."""
        import logging

        from kiosk.screens.driver import ScenarioRunner

        if scenario_env is not None:
            for key in PER_SCENARIO_ENV:
                os.environ.pop(key, None)
            os.environ.update(scenario_env)
        logging.getLogger("kiosk.tests").info(
            "scenario", extra={"event": "scenario_start", "state": name}
        )
        observations: dict = {}
        self.stopped_with = "the app stopped before the scenario finished"
        try:
            script = self._make(name, observations)
        except KeyError:
            self._done(name, observations, f"KeyError: no scenario {name!r} in this driver")
            return
        ScenarioRunner(
            script, lambda error: self._done(name, observations, _describe(error))
        ).start(delay=delay)

    def _done(self, name: str, observations: dict, error: str | None) -> None:
        self.stopped_with = None
        if self._finish is not None:
            self._finish(observations)
        shot = self._screenshot(name) if error else None
        print_result(error, observations, shot)
        if error is None and self.serving:
            from kiosk.screens.driver import ScenarioRunner

            ScenarioRunner(self._reset(), self._after_reset).start(delay=0)
        else:
            self._stop()

    def _after_reset(self, error: BaseException | None) -> None:
        if error is not None:  # the app is not as new: retire it
            print(f"reset failed, retiring: {_describe(error)}", file=sys.stderr, flush=True)
            self._stop()
            return
        print(READY_LINE, flush=True)
        threading.Thread(target=self._next, daemon=True, name="scenario-requests").start()

    def _next(self) -> None:
        from kivy.clock import Clock

        line = sys.stdin.readline()
        if not line.strip():  # EOF: the parent is done with this child
            Clock.schedule_once(lambda _dt: self._stop(), 0)
            # Every result is out; an app that lingers after stopping (seen after a long idle
            # wait, its loop still flipping) must not hold the parent up.
            time.sleep(EXIT_GRACE_SECONDS)
            os._exit(0)
        request = json.loads(line)
        Clock.schedule_once(lambda _dt: self._run(request["name"], request.get("env", {})), 0)

    def _stop(self) -> None:
        self.app.allow_exit = True
        self.app.stop()

    def _screenshot(self, name: str) -> str | None:
        """The glass at the moment of failure, for the report (None if it cannot be taken)."""
        try:
            from kiosk.paths import data_dir as resolve_data_dir
            from kiosk.screens.driver import export_png

            base = resolve_data_dir(self.app.services.config.kiosk.data_dir)
            path = base / "failures" / f"{name}-{time.strftime('%H%M%S')}.png"
            return str(export_png(self.app.root_layout, path))
        except Exception as exc:  # the report matters more than the picture
            print(f"no failure screenshot: {exc!r}", file=sys.stderr, flush=True)
            return None


def _describe(error: BaseException | None) -> str | None:
    return None if error is None else f"{type(error).__name__}: {error}"
