"""Values in sentences and tables keep the precision their source publishes (minutes, survey scores, averages)."""

import pytest

from partnering.indicators.catalogue import format_value

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("v,unit,text", [
    (61.234, "percent", "61.2%"),
    (14.46, "weeks", "14.5 weeks"),
    (7.783, "minutes", "7.8 minutes"),   # AmbSYS C1 mean 467 s = 7.78 minutes: not "8"
    (6.471245, "score", "6.47"),         # Staff Survey engagement, RWA 2024 (THEMES sheet)
    (912.36, "rate", "912.4"),           # KH03 beds available: a daily average, not a count
    (1234.0, "count", "1,234"),
    (float("nan"), "minutes", "n/a"),
])
def test_format_value_keeps_published_precision(v, unit, text):
    assert format_value(v, unit) == text
