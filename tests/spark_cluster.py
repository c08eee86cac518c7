"""A real Spark standalone cluster on 127.0.0.1 (one master, one worker) for the tests and benchmarks.

    with StandaloneCluster(cores=2, memory="6g") as cluster:
        session = start_session(master=cluster.master_url)

Both daemons run from the installed pyspark package (its bin/spark-class), in their own process
groups, with logs and work directories under a temporary directory; they are stopped by process
group id on exit, also when starting failed, so no JVM outlives the cluster.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def spark_home() -> Path:
    """The folder of the installed pyspark package, which holds bin/spark-class and the jars."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


class StandaloneCluster:
    """A master and one worker on 127.0.0.1 with free ports; `master_url` once entered."""

    def __init__(self, *, cores: int = 1, memory: str = "1g", start_timeout: float = 90.0) -> None:
        self.cores = cores
        self.memory = memory
        self.start_timeout = start_timeout
        self.master_url = ""
        self.web_url = ""
        self.root: Path | None = None
        self._processes: list[subprocess.Popen] = []
        self.pids: list[int] = []  # every daemon started, kept after stopping so callers can check they are gone

    def __enter__(self) -> StandaloneCluster:
        self.root = Path(tempfile.mkdtemp(prefix="spark-cluster-"))
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _start(self) -> None:
        port, web_port, worker_web_port = free_port(), free_port(), free_port()
        self.master_url = f"spark://127.0.0.1:{port}"
        self.web_url = f"http://127.0.0.1:{web_port}"
        self._launch("master", ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                                "--port", str(port), "--webui-port", str(web_port)])
        self._wait(lambda state: state is not None, "the master did not start")
        self._launch("worker", ["org.apache.spark.deploy.worker.Worker", self.master_url, "--host", "127.0.0.1",
                                "--cores", str(self.cores), "--memory", self.memory,
                                "--webui-port", str(worker_web_port), "--work-dir", str(self.root / "work")])
        self._wait(lambda state: state is not None and any(w.get("state") == "ALIVE" for w in state["workers"]),
                   "the worker did not register with the master")

    def _launch(self, name: str, arguments: list[str]) -> None:
        home = spark_home()
        conf = self.root / "conf"
        conf.mkdir(exist_ok=True)
        env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_CONF_DIR": str(conf),
               "SPARK_LOCAL_DIRS": str(self.root / "local"), "SPARK_LOG_DIR": str(self.root / "logs"),
               "PYSPARK_PYTHON": os.environ.get("PYSPARK_PYTHON", sys.executable)}
        log = open(self.root / f"{name}.log", "wb")  # noqa: SIM115 - the daemon writes to it until stopped
        with log:
            process = subprocess.Popen([str(home / "bin" / "spark-class"), *arguments], env=env, cwd=self.root,
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self._processes.append(process)
        self.pids.append(process.pid)

    def state(self) -> dict | None:
        """The master's view of the cluster (its web UI's JSON), or None while it does not answer."""
        try:
            with urllib.request.urlopen(f"{self.web_url}/json/", timeout=2) as response:
                return json.load(response)
        except (OSError, ValueError):
            return None

    def _wait(self, ready, what: str) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            exited = [p for p in self._processes if p.poll() is not None]
            if exited:
                raise RuntimeError(f"{what}: a Spark daemon exited\n{self.logs()}")
            if ready(self.state()):
                return
            time.sleep(0.25)
        raise RuntimeError(f"{what} within {self.start_timeout:g} s\n{self.logs()}")

    def logs(self) -> str:
        """The last lines of the daemons' logs (for failure messages)."""
        tails = []
        for log in sorted(self.root.glob("*.log")) if self.root else []:
            tails.append(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:]))
        return "\n".join(tails)

    def stop(self) -> None:
        """Stop the worker (and its executors) then the master, by process group; remove the temporary directory."""
        for process in reversed(self._processes):
            _stop_group(process)
        self._processes.clear()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None


def _stop_group(process: subprocess.Popen) -> None:
    """Terminate the process group this helper started for `process`, killing it after 15 s."""
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue
    _reap_group(process.pid)


def _reap_group(group: int) -> None:
    """Kill what is left in the group (executors the worker started) once its leader has exited."""
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass
