"""Record-level computing: validate ECDS-like attendances and RTT-like pathways and compute the monthly
indicators of :mod:`partnering.definitions` on DuckDB (embedded default) or Apache Spark (scale).

Interface (:mod:`.run`, :mod:`.generate`, :mod:`.validate`) apart from engines (:mod:`.engines`), as pandera
separates its API from its backends.
"""
