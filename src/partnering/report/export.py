"""Exports of store data for analysts and board papers (CSV, XLSX and Parquet via :mod:`partnering.report.tables`)."""

from __future__ import annotations

from partnering.report.tables import FORMATS, format_of, write_table  # noqa: F401  (write_table: public here too)

OBS_EXPORT_COLUMNS = ["org_code", "indicator", "period", "numerator", "denominator", "value"]
OGL_ATTRIBUTION = ("Contains public sector information licensed under the Open Government Licence v3.0 "
                   "(NHS England). Synthetic demo values, where present, are not real NHS data.")


def export_observations(engine, out, fmt: str | None = None, indicators=None, suppress: bool = False,
                        **scope) -> int:
    """Write the current observations (one row per organisation, indicator and month) and return the row count.

    ``fmt`` is ``csv``, ``xlsx`` or ``parquet``; ``None`` takes it from the extension of ``out``. With
    ``suppress`` the NHS small-number rule is applied to count indicators (:mod:`partnering.report.suppression`).
    """
    from partnering.indicators.catalogue import indicator
    from partnering.report.suppression import suppress_observations
    from partnering.store import repository as repo

    df = repo.observations_frame(engine, indicators, **scope)
    df = df[OBS_EXPORT_COLUMNS]
    if suppress:
        counts = {c for c in df["indicator"].unique() if (d := indicator(c)) is not None and d.unit == "count"}
        df = suppress_observations(df, counts)
    write_table(df, out, fmt or format_of(out), sheet="observations", attribution=OGL_ATTRIBUTION)
    return len(df)
