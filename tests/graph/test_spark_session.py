"""The Spark session: a real standalone cluster runs jobs, and every way Spark cannot be used is one plain sentence."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from graph.errors import SparkUnavailable
from graph.spark_session import (binds_loopback, check_readable, master_addresses, parse_java_version, start_session,
                                 stop_session)

ROOT = Path(__file__).resolve().parents[2]
ATTEMPT = """
import sys, time
from graph.errors import SparkUnavailable
from graph.spark_session import start_session
started = time.monotonic()
try:
    start_session(master=sys.argv[1], ready_timeout=float(sys.argv[2]))
except SparkUnavailable as error:
    print(f"{time.monotonic() - started:.1f}")
    print(error)
    sys.exit(3)
print("started")
"""


def attempt(master: str, *, env: dict | None = None, ready_timeout: float = 20, prelude: str = ""):
    """Run start_session(master) in a fresh Python; (exit code, seconds it took, message, stderr)."""
    done = subprocess.run([sys.executable, "-c", prelude + ATTEMPT, master, str(ready_timeout)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**(env if env is not None else os.environ), "PYTHONPATH": str(ROOT)})
    lines = done.stdout.splitlines()
    seconds = float(lines[0]) if done.returncode == 3 else None
    return done.returncode, seconds, "\n".join(lines[1:]), done.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_java_versions_are_read_from_both_version_styles():
    assert parse_java_version('openjdk version "21.0.2" 2024-01-16') == 21
    assert parse_java_version('java version "1.8.0_392"') == 8
    assert parse_java_version("command not found") is None


def test_master_urls_give_their_hosts_and_ports():
    assert master_addresses("spark://a:7000,b") == [("a", 7000), ("b", 7077)]
    assert master_addresses("yarn") == []
    with pytest.raises(SparkUnavailable, match="spark://a:x"):
        master_addresses("spark://a:x")
    assert binds_loopback("local[4]") and binds_loopback("spark://localhost:7077")
    assert not binds_loopback("spark://127.0.0.1:7077,10.0.0.2:7077")


def test_the_cluster_runs_jobs_with_the_shipped_graph_package(spark_session):
    context = spark_session.sparkContext
    assert spark_session.range(10).selectExpr("sum(id)").first()[0] == 45
    assert context.parallelize(range(4), 2).map(lambda n: n * n).sum() == 14
    [where] = context.parallelize([0], 1).map(lambda _: __import__("graph").__file__).collect()
    assert "graph.zip" in where, where  # imported from the zip sent with the job, as on a remote cluster


def test_the_session_overflows_loudly_and_counts_time_in_utc(spark_session):
    from pyspark.errors import ArithmeticException

    with pytest.raises(ArithmeticException):
        spark_session.range(1).selectExpr("id + 9223372036854775807 + 1 AS x").collect()
    assert spark_session.sql("SELECT unix_timestamp(timestamp'1970-01-02 00:00:00')").first()[0] == 86400


def test_a_second_start_on_the_same_master_shares_the_session(spark_cluster, spark_session):
    again = start_session(master=spark_cluster.master_url)
    assert again is spark_session
    stop_session(again)
    assert spark_session.range(3).count() == 3  # still running: its first user has not stopped it


def test_a_session_on_another_master_is_refused_while_one_runs(spark_session):
    with pytest.raises(SparkUnavailable, match="already has a Spark session"):
        start_session(master="local[1]")


def test_an_unreachable_master_is_named_within_seconds(spark_installed):
    master = f"spark://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(SparkUnavailable) as caught:
        start_session(master=master)
    assert time.monotonic() - started < 30
    assert f"cannot reach the Spark master {master}" in str(caught.value)


def test_a_master_host_that_does_not_answer_is_named_within_seconds(spark_installed):
    master = "spark://192.0.2.1:7077"  # TEST-NET-1: reserved for documentation, never routed
    started = time.monotonic()
    with pytest.raises(SparkUnavailable, match="cannot reach the Spark master spark://192.0.2.1:7077"):
        start_session(master=master)
    assert time.monotonic() - started < 30


def test_a_port_that_is_no_spark_master_gives_no_executor_in_bounded_time(spark_installed):
    listener = socket.create_server(("127.0.0.1", 0))
    held = []
    threading.Thread(target=lambda: held.append(listener.accept()), daemon=True).start()
    master = f"spark://127.0.0.1:{listener.getsockname()[1]}"
    try:
        code, seconds, message, stderr = attempt(master, ready_timeout=10)
    finally:
        listener.close()
    assert code == 3, stderr
    assert message.startswith(f"the Spark master {master} did not accept this application within 10 s"), message
    assert seconds < 45, seconds  # the driver's JVM start plus the 10 s; unbounded, Spark itself gives up after 60 s
    assert "Traceback" not in stderr


def test_missing_java_says_how_to_install_it(spark_installed, tmp_path):
    path = [d for d in os.environ["PATH"].split(os.pathsep) if d and not os.path.exists(os.path.join(d, "java"))]
    env = {key: value for key, value in os.environ.items() if key != "JAVA_HOME"}
    code, seconds, message, stderr = attempt("local[1]", env={**env, "PATH": os.pathsep.join(path)})
    assert code == 3, stderr
    assert "no java on PATH and JAVA_HOME is not set" in message
    assert "apt-get install openjdk-17-jre-headless" in message
    assert seconds < 30 and "Traceback" not in stderr

    code, _, message, _ = attempt("local[1]", env={**os.environ, "JAVA_HOME": str(tmp_path)})
    assert code == 3 and f"JAVA_HOME={tmp_path} has no bin/java" in message


def test_missing_pyspark_says_how_to_install_it():
    code, seconds, message, stderr = attempt("local[1]", prelude="import sys; sys.modules['pyspark'] = None\n")
    assert code == 3, stderr
    assert "pip install '.[spark]'" in message and seconds < 30


def test_a_path_the_workers_cannot_read_is_named(spark_session, tmp_path):
    readable = tmp_path / "transfers"
    readable.mkdir()
    (readable / "part-0.parquet").write_bytes(b"PAR1")
    check_readable(spark_session, str(readable))
    check_readable(spark_session, f"file://{readable / 'part-0.parquet'}")

    missing = tmp_path / "elsewhere" / "transfers"
    started = time.monotonic()
    with pytest.raises(SparkUnavailable) as caught:
        check_readable(spark_session, str(missing))
    assert time.monotonic() - started < 30
    assert str(caught.value).startswith(f"{missing} cannot be read by the Spark workers")
    assert "No such file or directory" in str(caught.value)


def test_a_filesystem_spark_has_no_driver_for_is_named(spark_session):
    with pytest.raises(SparkUnavailable, match="^nosuchfs://bucket/transfers cannot be read: "):
        check_readable(spark_session, "nosuchfs://bucket/transfers")


def test_no_spark_daemon_outlives_a_cluster_that_failed_to_start(spark_installed):
    from tests.spark_cluster import StandaloneCluster

    cluster = StandaloneCluster(start_timeout=0.5)
    with pytest.raises(RuntimeError, match="the master did not start"):
        with cluster:
            pass
    assert len(cluster.pids) == 1 and cluster.root is None
    with pytest.raises(ProcessLookupError):
        os.kill(cluster.pids[0], 0)
