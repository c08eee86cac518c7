"""A real Spark standalone cluster (tests/spark_cluster.py) shared by the Spark tests of one run.

Skipped when pyspark or Java 17 is missing, unless REQUIRE_SPARK is set, as in CI, where
that fails the tests instead.
"""

from __future__ import annotations

import os

import pytest

from graph.errors import SparkUnavailable


def spark_missing() -> str | None:
    """Why Spark cannot run here (pyspark or Java missing), or None when it can."""
    from graph.spark_session import require_java, require_pyspark

    try:
        require_pyspark()
        require_java()
    except SparkUnavailable as error:
        return str(error)
    return None


def require_spark() -> None:
    """Skip the calling test (fail it when REQUIRE_SPARK is set) when Spark cannot run here."""
    reason = spark_missing()
    if reason is None:
        return
    if os.environ.get("REQUIRE_SPARK"):
        pytest.fail(f"REQUIRE_SPARK is set but {reason}")
    pytest.skip(reason)


@pytest.fixture
def spark_installed():
    """Nothing; skips the test (fails it under REQUIRE_SPARK) unless pyspark and Java 17 are installed."""
    require_spark()


@pytest.fixture(scope="session")
def spark_cluster():
    """A running StandaloneCluster (master and one 1-core, 1 GB worker on 127.0.0.1); stopped after the run."""
    require_spark()
    from tests.spark_cluster import StandaloneCluster

    with StandaloneCluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def spark_session(spark_cluster):
    """A SparkSession from graph.spark_session.start_session connected to `spark_cluster`."""
    from graph.spark_session import start_session, stop_session

    session = start_session(master=spark_cluster.master_url, app_name="kyt-tests", ready_timeout=120,
                            config={"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2"})
    yield session
    stop_session(session)
