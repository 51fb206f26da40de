"""Indicator definitions — codes, names, units, improvement directions, standards, owners and sources.

A foundation below the store: ``store``, ``ingest``, ``measure`` and ``compute`` all read it, none of them owns it.
"""

from partnering.indicators.catalogue import (  # noqa: F401
    DIRECTIONS,
    UNITS,
    IndicatorDef,
    format_value,
    indicator,
    load_catalogue,
)
