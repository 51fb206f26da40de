"""Writing tables to CSV, XLSX and Parquet for analysts and board papers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from partnering.errors import ValidationError
from partnering.report.suppression import suppress_observations

FORMATS = ("csv", "xlsx", "parquet")
OBS_EXPORT_COLUMNS = ["org_code", "indicator", "period", "numerator", "denominator", "value"]


def write_table(df: pd.DataFrame, out: str | Path, fmt: str | None = None, sheet: str = "data",
                attribution: str | None = None) -> None:
    out = Path(out)
    fmt = (fmt or out.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ValidationError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    if fmt == "csv":
        df.to_csv(tmp, index=False)
    elif fmt == "parquet":
        df.to_parquet(tmp, index=False)
    else:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
            df.to_excel(xl, sheet_name=sheet[:31], index=False)
            if attribution:
                pd.DataFrame({"notes": attribution.splitlines()}).to_excel(xl, sheet_name="notes", index=False)
    tmp.replace(out)  # never leave a half-written file under the requested name


def export_observations(engine, out, fmt: str, indicators=None, suppress: bool = False, **scope) -> int:
    from partnering.indicators.catalogue import indicator
    from partnering.store import repository as repo

    df = repo.observations_frame(engine, indicators, **scope)
    df = df[OBS_EXPORT_COLUMNS]
    if suppress:
        counts = {c for c in df["indicator"].unique() if (d := indicator(c)) is not None and d.unit == "count"}
        df = suppress_observations(df, counts)
    write_table(df, out, fmt, sheet="observations",
                attribution="Contains public sector information licensed under the Open Government Licence v3.0 "
                            "(NHS England). Synthetic demo values, where present, are not real NHS data.")
    return len(df)
