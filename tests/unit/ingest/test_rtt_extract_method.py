"""The RTT Full CSV data file reader on small hand-made files: the interpolation method, the checks and refusals."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from partnering.errors import IngestError
from partnering.ingest import rtt_extract as rx

pytestmark = pytest.mark.unit

HEADER = ["Period", "Provider Parent Org Code", "Provider Parent Name", "Provider Org Code", "Provider Org Name",
          "Commissioner Parent Org Code", "Commissioner Parent Name", "Commissioner Org Code",
          "Commissioner Org Name", "RTT Part Type", "RTT Part Description", "Treatment Function Code",
          "Treatment Function Name"] + rx.BAND_COLUMNS + [rx.TOTAL, rx.UNKNOWN, rx.TOTAL_ALL]


def row(provider, part, tf, bands=None, unknown=0, commissioner="03F", period="RTT-January-2026", total_all=None):
    """One line of a Full CSV data file: ``bands`` maps band index -> count."""
    b = [""] * rx.N_BANDS
    for k, v in (bands or {}).items():
        b[k] = str(v)
    s = sum((bands or {}).values())
    if part in rx.COMPLETED:
        totals = [str(s), str(unknown), str(s + unknown if total_all is None else total_all)]
    elif part in rx.INCOMPLETE:
        totals = ["", "", str(s if total_all is None else total_all)]
    else:
        totals = ["", "", str(total_all)]
    name = "Total" if tf == "C_999" else f"Service {tf}"
    return [period, "QE1", "ICB", provider, f"Provider {provider}", "", "", commissioner, "", part, "desc", tf,
            name] + b + totals


def provider_rows(provider="RXX", commissioner="03F", **kw):
    """A provider x commissioner with two treatment functions and their C_999 total, in every part."""
    a = {0: 10, 1: 10, 20: 5, 53: 2, 66: 1}
    b = {2: 4, 17: 6, 18: 3, 79: 1, 104: 1}
    total = {k: a.get(k, 0) + b.get(k, 0) for k in set(a) | set(b)}
    out = []
    for part in rx.PARTS:
        if part == "Part_3":
            out += [row(provider, part, "C_100", total_all=7, commissioner=commissioner),
                    row(provider, part, "C_110", total_all=5, commissioner=commissioner),
                    row(provider, part, "C_999", total_all=12, commissioner=commissioner)]
            continue
        unk = 2 if part in rx.COMPLETED else 0
        out += [row(provider, part, "C_100", a, unknown=unk, commissioner=commissioner),
                row(provider, part, "C_110", b, commissioner=commissioner),
                row(provider, part, "C_999", total, unknown=unk, commissioner=commissioner)]
    return out


def write(path, rows, header=HEADER):
    path.write_text("\n".join(",".join(r) for r in [header] + rows) + "\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------- the method


def test_interpolation_within_weekly_bands_by_hand():
    bands = np.zeros((1, rx.N_BANDS))
    bands[0, 0], bands[0, 1] = 10, 10
    # 20 pathways: the median (10th) is reached exactly at the end of week 0-1; the 92nd percentile at 18.4 of 20,
    # 8.4 of the 10 in week 1-2 -> 1.84 weeks
    assert rx.band_percentile(bands, 0.5)[0] == pytest.approx(1.0)
    assert rx.band_percentile(bands, 0.92)[0] == pytest.approx(1.84)
    bands[0, 30] = 20  # 40 pathways: the median at 20 = the end of week 1-2; p92 at 36.8: 16.8/20 into week 30-31
    assert rx.band_percentile(bands, 0.5)[0] == pytest.approx(2.0)
    assert rx.band_percentile(bands, 0.92)[0] == pytest.approx(30.84)


def test_no_percentile_below_20_pathways_or_in_the_open_104_plus_band():
    few = np.zeros((1, rx.N_BANDS))
    few[0, 3] = 19
    assert np.isnan(rx.band_percentile(few, 0.5)[0])
    few[0, 3] = 20
    assert rx.band_percentile(few, 0.5)[0] == pytest.approx(3.5)
    late = np.zeros((1, rx.N_BANDS))
    late[0, 0], late[0, 104] = 10, 90
    assert np.isnan(rx.band_percentile(late, 0.5)[0])  # no upper bound to interpolate to
    with pytest.raises(ValueError):
        rx.band_percentile(np.zeros((1, 18)), 0.5)


def test_weeks_rounded_half_up_to_one_decimal_as_published():
    # 44.05 is 44.04999... in binary floating point; NHS England's published figure is 44.1
    assert rx.round_weeks(np.array([45.25, 44.05, 12.34])).tolist() == [45.3, 44.1, 12.3]


def test_part_measures_count_bands_above_52_65_78_104_weeks():
    bands = np.zeros((1, rx.N_BANDS))
    bands[0, [17, 18, 52, 65, 78, 104]] = [1, 2, 3, 4, 5, 6]
    m = rx.part_measures(bands, np.array([21.0]))
    # a wait of exactly 18 weeks is in the 17-18 band (index 17), which is within 18 weeks
    assert m["within_18w"][0] == 1 and m["over_52w"][0] == 18 and m["over_65w"][0] == 15
    assert m["over_78w"][0] == 11 and m["over_104w"][0] == 6 and m["within_18w_pct"][0] == pytest.approx(100 / 21)


# ------------------------------------------------------------------------------------------- a whole file


def test_a_small_file_is_summed_per_provider_and_treatment_function(tmp_path):
    f = write(tmp_path / "extract.csv", provider_rows("RXX", "03F") + provider_rows("RXX", "NONC")
              + provider_rows("RYY"))
    ext = rx.read_extract(f)
    assert ext.period == "2026-01" and ext.rows == 3 * 15
    frame = rx.measures(ext)
    tot = frame[(frame.provider_code == "RXX") & (frame.treatment_function_code == "C_999")].iloc[0]
    assert tot.incomplete_pathways == 2 * 43  # two commissioners, 43 pathways each
    assert tot.incomplete_over_104w == 2 and tot.new_clock_starts == 24
    # unknown clock starts count in the completed total but not in its waits
    assert tot.admitted_pathways == 2 * 45 and tot.admitted_known_clock_start == 2 * 43
    assert tot.admitted_within_18w_pct == pytest.approx(100 * 30 / 43)
    assert ext.england["Part_2"] == {"all": 3 * 43, "excluding NONC": 2 * 43}
    obs = rx.observations(frame).set_index(["org_code", "indicator"])["value"]
    assert obs[("RXX", "rtt_incomplete_pathways")] == 86 and obs[("RYY", "rtt_new_clock_starts")] == 12
    assert not any(":" in i for _, i in obs.index)  # treatment functions are not stored as indicators


def test_a_zip_of_one_csv_reads_the_same(tmp_path):
    f = write(tmp_path / "extract.csv", provider_rows())
    z = tmp_path / "extract.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(f, "20260131-RTT-January-2026-full-extract.csv")
    assert rx.is_full_extract(z) and rx.is_full_extract(f)
    assert rx.measures(rx.read_extract(z)).equals(rx.measures(rx.read_extract(f)))


@pytest.mark.parametrize("members, message", [
    ([], "the zip holds no CSV file"),
    (["notes.txt"], r"the zip holds no CSV file \(it holds: notes.txt\)"),
    (["a.csv", "b.csv"], r"the zip holds 2 CSV files \(a.csv, b.csv\); expected exactly one"),
])
def test_a_zip_without_exactly_one_csv_is_refused(tmp_path, members, message):
    z = tmp_path / "bad.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for m in members:
            zf.writestr(m, "Period\n")
    with pytest.raises(IngestError, match=message):
        rx.read_extract(z)


def test_no_period_column_is_refused(tmp_path):
    rows = [r[1:] for r in provider_rows()]
    f = write(tmp_path / "extract.csv", rows, HEADER[1:])
    assert rx.is_full_extract(f)
    with pytest.raises(IngestError, match="has no 'Period' column") as e:
        rx.read_extract(f)
    assert e.value.row == 1 and e.value.column == "Period"


def test_period_must_be_one_month_of_the_expected_form(tmp_path):
    rows = provider_rows()
    rows[4][0] = "RTT-February-2026"
    with pytest.raises(IngestError, match="holds two months") as e:
        rx.read_extract(write(tmp_path / "two.csv", rows))
    assert e.value.row == 6
    rows = provider_rows()
    for r in rows:
        r[0] = "January 2026"
    with pytest.raises(IngestError, match="is not of the form RTT-<Month>-<YYYY>"):
        rx.read_extract(write(tmp_path / "odd.csv", rows))


def test_a_treatment_function_that_does_not_add_up_to_c999_is_refused(tmp_path):
    rows = provider_rows("RXX") + provider_rows("RYY")
    i = next(k for k, r in enumerate(rows) if r[3] == "RYY" and r[9] == "Part_2" and r[11] == "C_110")
    band = 13 + 40  # 'Gt 40 To 41 Weeks SUM 1': add 3 pathways to the row and to its Total All
    rows[i][band] = "3"
    rows[i][-1] = str(int(rows[i][-1]) + 3)
    with pytest.raises(IngestError) as e:
        rx.read_extract(write(tmp_path / "tampered.csv", rows))
    msg = str(e.value)
    assert "provider RYY, Part_2 (incomplete pathways), column 'Gt 40 To 41 Weeks SUM 1'" in msg
    assert "the treatment functions sum to 3 but the C_999 rows say 0 (difference -3" in msg
    assert e.value.column == "Gt 40 To 41 Weeks SUM 1"


def test_a_missing_c999_row_is_refused(tmp_path):
    rows = [r for r in provider_rows() if not (r[9] == "Part_3" and r[11] == "C_999")]
    with pytest.raises(IngestError, match=r"provider RXX, Part_3 .*column 'Total All': the treatment functions sum "
                                          r"to 12 but the C_999 rows say 0"):
        rx.read_extract(write(tmp_path / "cut.csv", rows))


@pytest.mark.parametrize("change, message, column", [
    (lambda r: r.__setitem__(-1, "60"), "Part_2 row does not add up: Total All 60 is not the sum of the weekly "
                                        "bands 28", "Total All"),
    (lambda r: r.__setitem__(13, "-1"), "-1 is negative", "Gt 00 To 01 Weeks SUM 1"),
    (lambda r: r.__setitem__(13, "ten"), "'ten' is not a whole number of pathways", "Gt 00 To 01 Weeks SUM 1"),
    (lambda r: r.__setitem__(9, "Part_4"), "RTT part 'Part_4' is not one of Part_1A", "RTT Part Type"),
])
def test_a_bad_row_is_refused_with_its_line_and_column(tmp_path, change, message, column):
    rows = provider_rows()
    i = next(k for k, r in enumerate(rows) if r[9] == "Part_2" and r[11] == "C_100")
    change(rows[i])
    with pytest.raises(IngestError, match=message) as e:
        rx.read_extract(write(tmp_path / "bad.csv", rows))
    assert e.value.row == i + 2 and e.value.column == column


def test_a_completed_row_whose_unknown_clock_starts_do_not_add_up_is_refused(tmp_path):
    rows = provider_rows()
    i = next(k for k, r in enumerate(rows) if r[9] == "Part_1B" and r[11] == "C_100")
    rows[i][-1] = str(int(rows[i][-1]) + 1)
    with pytest.raises(IngestError, match=r"Part_1B row does not add up: Total All 31 is not Total 28 \+ unknown "
                                          r"clock starts 2") as e:
        rx.read_extract(write(tmp_path / "bad.csv", rows))
    assert e.value.row == i + 2


def test_an_incomplete_provider_sheet_is_not_taken_for_the_extract(tmp_path):
    f = tmp_path / "Incomplete-Provider-Mar25.csv"
    f.write_text("Region Code,Provider Code,Provider Name,Treatment Function Code,Treatment Function,>0-1\n")
    assert not rx.is_full_extract(f)
