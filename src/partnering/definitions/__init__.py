"""Record-level indicator definitions, written once as Ibis expressions and run unchanged on any engine.

A foundation below the store (DESIGN.md): :mod:`partnering.compute` executes them on DuckDB or Apache Spark.
"""
