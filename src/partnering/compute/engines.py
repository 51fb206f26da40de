"""Engines that run the Ibis definitions: DuckDB (embedded, the default) and Apache Spark (local or a cluster).

Both read the record set's Parquet files directly (never the whole set in pandas) and return only the small
monthly aggregates.  Spark is pinned to UTC (``spark.sql.session.timeZone``) although the definitions use no
timestamps, so that nothing an engine does with time zones can reach the figures.

For a cluster, pass ``master`` (e.g. ``spark://host:7077``, or run inside Databricks where a session exists:
:func:`spark_session` reuses an active one) and a record set path the cluster can read.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from partnering.config import java_home_setting, spark_python_settings
from partnering.errors import ConfigError

ENGINES = ("duckdb", "spark")
#: where Debian and Ubuntu install OpenJDK 17 (Spark 4 needs Java 17 or later)
JAVA_17_HOMES = ("/usr/lib/jvm/java-17-openjdk-amd64", "/usr/lib/jvm/java-17-openjdk-arm64",
                 "/usr/lib/jvm/java-17-openjdk")


def java_home() -> str | None:
    """A Java home for Spark: $JAVA_HOME when it holds bin/java, else the one `java` on PATH resolves to, else a
    standard OpenJDK 17 folder; None when there is no Java."""
    candidates = [java_home_setting()]
    on_path = shutil.which("java")
    if on_path:
        candidates.append(str(Path(on_path).resolve().parent.parent))
    candidates.extend(JAVA_17_HOMES)
    for home in candidates:
        if home and (Path(home) / "bin" / "java").is_file():
            return home
    return None


def duckdb_connection(threads: int | None = None, memory_limit: str | None = None):
    """An in-memory DuckDB connection pinned to UTC; ``memory_limit`` (e.g. ``"2GB"``) makes it spill to disk
    beyond that (DuckDB's default is 80% of the machine's memory)."""
    import ibis

    con = ibis.duckdb.connect(**({"threads": threads} if threads else {}))
    con.raw_sql("SET TimeZone = 'UTC'")
    con.raw_sql("SET enable_progress_bar = false")  # the command line shows its own progress, on stderr
    if memory_limit:
        con.raw_sql(f"SET memory_limit = '{memory_limit}'")
    return con


def spark_session(master: str = "local[*]", shuffle_partitions: int = 8, memory: str | None = None):
    """A Spark session pinned to UTC, UI off, its warehouse in a temporary folder (an active one is reused)."""
    home = java_home()
    if home is None:
        raise ConfigError("Spark needs Java 17 or later: install openjdk-17-jre-headless or set JAVA_HOME")
    os.environ["JAVA_HOME"] = home
    # Python workers (applyInPandas) must run this interpreter, with pandas and pyarrow
    for name, value in spark_python_settings(sys.executable).items():
        os.environ[name] = value
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.conf.set("spark.sql.session.timeZone", "UTC")
        return active
    builder = (SparkSession.builder.master(master).appName("partnering-compute")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="partnering-spark-")))
    if memory:
        builder = builder.config("spark.driver.memory", memory)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def connect(engine: str, session=None):
    """An Ibis backend for ``engine`` (``duckdb`` or ``spark``; ``session`` an existing Spark session)."""
    import ibis

    if engine == "duckdb":
        return duckdb_connection()
    if engine == "spark":
        return ibis.pyspark.connect(session or spark_session())
    raise ConfigError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")


def read_parquet(con, folder: Path, name: str):
    """The Parquet files of ``folder`` as an Ibis table on ``con`` (files stay on disk)."""
    pattern = str(folder / "*.parquet")
    if con.name == "duckdb":
        return con.read_parquet(pattern, table_name=name)
    df = con._session.read.parquet(str(folder))
    df.createOrReplaceTempView(name)
    return con.table(name)


def materialise(con, expr, name: str):
    """``expr`` computed once on ``con`` and kept there, as a table to read twice (DuckDB: a temporary table;
    Spark: a cached temporary view).  For small intermediate results, e.g. the repeated record ids."""
    if con.name == "duckdb":
        return con.create_table(name, expr, overwrite=True, temp=True)
    frame = con._session.sql(str(con.compile(expr))).cache()
    frame.count()
    frame.createOrReplaceTempView(name)
    return con.table(name)


def small_table(con, frame, name: str):
    """A small pandas frame (e.g. the census months) as a table on ``con``."""
    if con.name == "duckdb":
        return con.create_table(name, frame, overwrite=True, temp=True)
    con._session.createDataFrame(frame).createOrReplaceTempView(name)
    return con.table(name)
