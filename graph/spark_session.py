"""Starting and stopping the Spark session of the Spark engine, with a plain error whenever Spark cannot be used.

Every check runs before or around the Java virtual machine so that a person sees one sentence
(a `SparkUnavailable`) within about 30 seconds instead of a hang or a Java traceback. pyspark is
imported inside the functions only: the project's other commands never load it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
import zipfile
from pathlib import Path
from urllib.parse import urlparse

from graph.errors import SparkUnavailable

MIN_JAVA = 17
PYSPARK_HINT = "install it with: pip install '.[spark]' (or pip install pyspark)"
JAVA_HINT = ("install Java 17 or newer (Debian: apt-get install openjdk-17-jre-headless) "
             "or set JAVA_HOME to a Java 17+ installation")
CONNECT_SECONDS = 3.0
READY_SECONDS = 20.0
DEFAULT_MASTER_PORT = 7077
LOOPBACK = {"127.0.0.1", "localhost"}
QUIET_LOG4J2 = """\
rootLogger.level = error
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = spark: %p %c{1}: %m%n%ex
"""

_started: dict[int, list] = {}  # id(session) -> [users, scratch directory]
_lock = threading.Lock()


def parse_java_version(text: str) -> int | None:
    """The major Java version in the output of `java -version` (None when it has none).

    >>> parse_java_version('openjdk version "17.0.15" 2025-04-15')
    17
    >>> parse_java_version('java version "1.8.0_392"')
    8
    """
    found = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if not found:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def find_java() -> str | None:
    """The java program Spark will start: $JAVA_HOME/bin/java when JAVA_HOME is set, else `java` on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        return str(candidate) if os.access(candidate, os.X_OK) else None
    return shutil.which("java")


def require_java() -> None:
    """Raise SparkUnavailable unless Java 17 or newer can be started (checked before any JVM is launched)."""
    java = find_java()
    if java is None:
        where = f"JAVA_HOME={os.environ['JAVA_HOME']} has no bin/java" if os.environ.get("JAVA_HOME") \
            else "no java on PATH and JAVA_HOME is not set"
        raise SparkUnavailable(f"Spark needs Java but {where}: {JAVA_HINT}")
    try:
        shown = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SparkUnavailable(f"Spark needs Java but {java} could not be run ({error}): {JAVA_HINT}") from None
    version = parse_java_version(shown.stderr + shown.stdout)
    if version is None or version < MIN_JAVA:
        found = f"Java {version}" if version else "an unknown Java version"
        raise SparkUnavailable(f"Spark needs Java {MIN_JAVA} or newer but {java} is {found}: {JAVA_HINT}")


def require_pyspark() -> None:
    """Raise SparkUnavailable unless pyspark can be imported."""
    # pyspark warns when it first meets a pandas version it has not been tested with; the engine does not use pandas
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    try:
        import pyspark.sql  # noqa: F401
    except ImportError:
        raise SparkUnavailable(f"the Spark engine needs pyspark, which is not installed: {PYSPARK_HINT}") from None


def master_addresses(master: str) -> list[tuple[str, int]]:
    """The (host, port) pairs of a standalone master URL; empty for local and other masters.

    >>> master_addresses("spark://10.0.0.5:7077,10.0.0.6")
    [('10.0.0.5', 7077), ('10.0.0.6', 7077)]
    >>> master_addresses("local[*]")
    []
    """
    if not master.startswith("spark://"):
        return []
    pairs = []
    for part in master[len("spark://"):].split(","):
        host, colon, port = part.strip().rstrip("/").partition(":")
        if not host or (colon and not port.isdigit()):
            raise SparkUnavailable(f"the Spark master URL {master} is not spark://HOST:PORT")
        pairs.append((host, int(port) if colon else DEFAULT_MASTER_PORT))
    return pairs


def is_local_master(master: str) -> bool:
    """Whether the master runs everything inside the driver (local, local[N], local[*])."""
    return master == "local" or master.startswith("local[")


def binds_loopback(master: str) -> bool:
    """Whether the driver should listen on 127.0.0.1 only: a local master or a master on this machine's loopback.

    >>> binds_loopback("spark://127.0.0.1:7077"), binds_loopback("spark://10.0.0.5:7077")
    (True, False)
    """
    if is_local_master(master):
        return True
    hosts = [host for host, _ in master_addresses(master)]
    return bool(hosts) and all(host in LOOPBACK for host in hosts)


def require_reachable(master: str, *, timeout: float = CONNECT_SECONDS) -> None:
    """Raise SparkUnavailable unless some host:port of a standalone master accepts a TCP connection."""
    addresses = master_addresses(master)
    reasons = []
    for host, port in addresses:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return
        except OSError as error:
            reasons.append(f"{host}:{port}: {_socket_reason(error, timeout)}")
    if addresses:
        raise SparkUnavailable(f"cannot reach the Spark master {master} ({'; '.join(reasons)}): "
                               "is the master running, and is the URL right (spark://HOST:PORT, port 7077 by default)?")


def _socket_reason(error: OSError, timeout: float) -> str:
    if isinstance(error, TimeoutError) or isinstance(error, socket.timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(error, socket.gaierror):
        return "unknown host"
    return error.strerror or str(error)


def session_config(*, master: str, app_name: str, config: dict | None, log_config: Path) -> dict[str, str]:
    """The Spark settings of the engine: quiet, UTC, ANSI arithmetic, no web UI; `config` wins (Java options add up)."""
    settings = {
        "spark.app.name": app_name,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.ansi.enabled": "true",
        "spark.sql.session.timeZone": "UTC",
    }
    if binds_loopback(master):
        settings["spark.driver.host"] = "127.0.0.1"
        settings["spark.driver.bindAddress"] = "127.0.0.1"
    settings.update({key: str(value) for key, value in (config or {}).items()})
    quiet = f"-Dlog4j2.configurationFile=file:{log_config}"
    extra = settings.get("spark.driver.extraJavaOptions")
    settings["spark.driver.extraJavaOptions"] = f"{extra} {quiet}" if extra else quiet
    return settings


def start_session(*, master: str = "local[*]", app_name: str = "kyt", config: dict | None = None,
                  ready_timeout: float = READY_SECONDS):
    """A SparkSession on `master` that has run a trivial Python job, or SparkUnavailable saying why not.

    Once the driver is up, executors get `ready_timeout` seconds to register and again to run the job.
    """
    require_pyspark()
    require_java()
    require_reachable(master)
    from pyspark import SparkConf, SparkContext
    from pyspark.sql import SparkSession

    with _lock:
        active = SparkContext._active_spark_context
        if active is not None:
            if active.master != master:
                raise SparkUnavailable(f"this process already has a Spark session on {active.master}; "
                                       f"stop it before starting one on {master}")
            session = SparkSession.builder.getOrCreate()
            if id(session) in _started:  # shared: its last stop_session stops it; others are never stopped here
                _started[id(session)][0] += 1
            return session
        scratch = Path(tempfile.mkdtemp(prefix="kyt-spark-"))
        log_config = scratch / "log4j2.properties"
        log_config.write_text(QUIET_LOG4J2)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        settings = session_config(master=master, app_name=app_name, config=config, log_config=log_config)
        conf = SparkConf().setMaster(master).setAll(list(settings.items()))
        try:
            SparkContext._ensure_initialized(conf=conf)  # the JVM starts here, so the wait below is the master's alone
            session = _create_within(SparkSession.builder.config(conf=conf), master, timeout=ready_timeout)
        except SparkUnavailable:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        except Exception as error:  # noqa: BLE001 - the JVM failed to start; say why in one line
            shutil.rmtree(scratch, ignore_errors=True)
            if master_addresses(master) and "stopped SparkContext" in str(error):
                raise SparkUnavailable(f"the Spark master {master} did not accept this application: is it a Spark "
                                       "master, of a version that matches pyspark?") from None
            raise SparkUnavailable(f"Spark could not start on {master}: {_first_line(error)}") from None
        _started[id(session)] = [1, scratch]
    try:
        session.sparkContext.setLogLevel("ERROR")
        _quiet_python_loggers()
        session.sparkContext.addPyFile(str(_zip_graph(scratch)))
        if not is_local_master(master):
            _await_executors(session, master, timeout=ready_timeout)
        _bounded(session, lambda: session.sparkContext.parallelize([0], 1).map(_python_ready).collect(),
                 timeout=ready_timeout, failure=f"the Spark workers of {master} could not run a trivial Python job")
    except BaseException:
        _stop_soon(session)
        raise
    return session


def _create_within(builder, master: str, *, timeout: float):
    """builder.getOrCreate(), given up after `timeout` s (a standalone master that never answers blocks it ~60 s)."""
    outcome: dict = {}
    settled = threading.Lock()

    def create() -> None:
        try:
            made = builder.getOrCreate()
        except Exception as error:  # noqa: BLE001 - handed to the caller
            outcome["error"] = error
            return
        with settled:
            if outcome.get("abandoned"):
                made.stop()
            else:
                outcome["session"] = made

    creator = threading.Thread(target=create, name="kyt-spark-start", daemon=True)
    creator.start()
    creator.join(timeout)
    with settled:
        if "session" in outcome:
            return outcome["session"]
        if "error" in outcome:
            raise outcome["error"]
        outcome["abandoned"] = True
    raise SparkUnavailable(f"the Spark master {master} did not accept this application within {timeout:g} s: "
                           "is it a Spark master, of a version that matches pyspark?")


def stop_session(session) -> None:
    """Stop a session from start_session (once its last user stops it) and remove its temporary files."""
    with _lock:
        entry = _started.get(id(session))
        if entry is None:
            return
        entry[0] -= 1
        if entry[0] > 0:
            return
        del _started[id(session)]
    session.stop()
    if entry[1] is not None:
        shutil.rmtree(entry[1], ignore_errors=True)


def check_readable(session, path: str, *, timeout: float = READY_SECONDS) -> None:
    """Raise SparkUnavailable naming `path` unless the executors (not just this machine) can read it."""
    scheme = urlparse(path).scheme
    if len(scheme) > 1 and scheme != "file":
        _check_hadoop_path(session, path)
        return
    local = os.path.abspath(urlparse(path).path if scheme == "file" else path)
    context = session.sparkContext
    master = context.master
    here = _unreadable(local, 0)
    if is_local_master(master) and here is not None:
        raise SparkUnavailable(f"{path} cannot be read: {here.split(': ', 1)[1]}")
    spread = max(1, context._jsc.sc().getExecutorIds().size())
    failures = _bounded(session, lambda: context.parallelize(range(spread), spread)
                        .map(lambda index: _unreadable(local, index)).filter(bool).collect(),
                        timeout=timeout,
                        failure=f"could not check on the Spark workers of {master} that {path} is readable")
    if failures:
        raise SparkUnavailable(f"{path} cannot be read by the Spark workers ({failures[0]}): the transfers must be on "
                               "a path every worker can read (a shared filesystem, HDFS or S3)")


def _check_hadoop_path(session, path: str) -> None:
    context = session.sparkContext
    try:
        hadoop_path = context._jvm.org.apache.hadoop.fs.Path(path)
        found = hadoop_path.getFileSystem(context._jsc.hadoopConfiguration()).exists(hadoop_path)
    except Exception as error:  # noqa: BLE001 - e.g. no filesystem for the scheme, or refused credentials
        raise SparkUnavailable(f"{path} cannot be read: {_first_line(error)}") from None
    if not found:
        raise SparkUnavailable(f"{path} cannot be read: it does not exist")


def _unreadable(path: str, _index: int) -> str | None:
    """Runs on an executor: None when `path` is a readable file or directory there, else 'HOST: why'."""
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            with open(path, "rb") as handle:
                handle.read(1)
    except OSError as error:
        return f"{socket.gethostname()}: {error.strerror or error}"
    return None


def _python_ready(value: int) -> int:
    """Runs on an executor: proves the worker's Python starts and imports the shipped graph package."""
    import graph.errors  # noqa: F401
    return value


def _await_executors(session, master: str, *, timeout: float) -> None:
    context = session.sparkContext
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if context._jsc.sc().getExecutorIds().size() > 0:
            return
        time.sleep(0.2)
    raise SparkUnavailable(
        f"the Spark master {master} gave this application no executor within {timeout:g} s: is it a Spark "
        "master, are its workers alive (see its web UI), and do they have the free cores and memory asked for "
        "(spark.executor.memory, spark.executor.cores, spark.cores.max)?")


def _bounded(session, job, *, timeout: float, failure: str):
    """Run `job` (Spark actions) and cancel it after `timeout` seconds; SparkUnavailable on timeout or failure."""
    context = session.sparkContext
    group = f"kyt-{uuid.uuid4().hex}"
    context.setJobGroup(group, failure, interruptOnCancel=True)
    timer = threading.Timer(timeout, context.cancelJobGroup, args=(group,))
    timer.daemon = True
    started = time.monotonic()
    timer.start()
    try:
        return job()
    except Exception as error:  # noqa: BLE001 - Java and Python worker errors become one sentence
        if time.monotonic() - started >= timeout:
            raise SparkUnavailable(f"{failure} within {timeout:.0f} s") from None
        raise SparkUnavailable(f"{failure}: {_first_line(error)}") from None
    finally:
        timer.cancel()
        context.setLocalProperty("spark.jobGroup.id", None)


def _zip_graph(scratch: Path) -> Path:
    """A zip of this project's graph package (Python files only), for the executors to import."""
    package = Path(__file__).resolve().parent
    target = scratch / "graph.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for source in sorted(package.rglob("*.py")):
            if "__pycache__" not in source.parts:
                archive.write(source, Path("graph") / source.relative_to(package))
    return target


def _quiet_python_loggers() -> None:
    """Stop pyspark printing each failed query as a JSON record on stderr; the engine reports errors itself."""
    import logging

    from pyspark.logger import PySparkLogger

    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)


def _stop_soon(session) -> None:
    """Stop a session that failed its checks without waiting more than a few seconds on an unresponsive master."""
    stopper = threading.Thread(target=stop_session, args=(session,), daemon=True)
    stopper.start()
    stopper.join(timeout=10)


def _first_line(error: BaseException) -> str:
    java = getattr(error, "java_exception", None)
    text = str(java.getMessage() if java is not None else error) or error.__class__.__name__
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[0] if lines else error.__class__.__name__
    return line if len(line) <= 300 else line[:297] + "..."
