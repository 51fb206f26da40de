"""Making Data Count SPC for every organisation x indicator series at once, on Spark.

The series are grouped on Spark and each group is handed, as pandas, to the same SPC engine that runs locally
(``applyInPandas``): the engine is passed in by the caller — :func:`partnering.measure.spc.run_spc` lives above
this layer — so there is one SPC implementation and Spark only distributes it.  Series are independent
(NHSRplotthedots computes limits and rules per series), so per-group results equal one local run over all series.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

#: the per-point columns returned (a subset of the engine's, with Spark types); ``x`` is the ISO month
POINT_COLUMNS = ("series string, x string, y double, mean double, lpl double, upl double, "
                 "special_cause_flag boolean, point_type string")
POINT_NAMES = [c.split()[0] for c in POINT_COLUMNS.split(", ")]


def series_points(indicators: pd.DataFrame) -> pd.DataFrame:
    """The long indicator table as SPC input: ``series`` = ``org_code|indicator``, ``x`` the period, ``y`` the
    value, ``indicator`` kept for per-indicator options."""
    return pd.DataFrame({
        "series": indicators["org_code"].astype(str) + "|" + indicators["indicator"].astype(str),
        "indicator": indicators["indicator"].astype(str),
        "x": indicators["period"].astype(str),
        "y": indicators["value"].astype(float),
    })


def tidy_points(points: pd.DataFrame) -> pd.DataFrame:
    """An engine result in :data:`POINT_COLUMNS` form, sorted by series and month (so that runs compare)."""
    out = points[POINT_NAMES].copy()
    out["x"] = pd.to_datetime(out["x"]).dt.strftime("%Y-%m")
    for c in ("series", "point_type"):
        out[c] = out[c].astype(str)
    out["special_cause_flag"] = out["special_cause_flag"].astype(bool)
    return out.sort_values(["series", "x"]).reset_index(drop=True)


def spc_on_spark(session, points, spc_for_frame: Callable[[pd.DataFrame], pd.DataFrame]) -> pd.DataFrame:
    """``spc_for_frame`` (pandas ``series, indicator, x, y`` of one or more series -> :func:`tidy_points` form)
    applied to every series of ``points`` (pandas or a Spark DataFrame) on Spark; returns the points, sorted."""
    frame = points if not isinstance(points, pd.DataFrame) else session.createDataFrame(points)
    result = frame.groupBy("series").applyInPandas(spc_for_frame, schema=POINT_COLUMNS).toPandas()
    return result.sort_values(["series", "x"]).reset_index(drop=True)
