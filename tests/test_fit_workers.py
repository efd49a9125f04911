"""``qsim fit --workers``: the search's simulations on several processes give the same fit,
byte for byte, and the same progress lines in the same order (SPEC §21)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_fit import known_queue, write_series

from qsim.experiments.fitting import fit
from qsim.input.errors import QsimError
from qsim.present.cli import main


@pytest.fixture(scope="module")
def short_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A day and a half of the known queue: a scan of candidates that each take milliseconds,
    # so that the test stays fast; the pool still gets hundreds of tasks to hand out and put
    # back in order.
    return write_series(tmp_path_factory.mktemp("short") / "short.csv", *known_queue(11, 1.5))


def fitted_files(series: Path, out: Path, workers: int) -> dict[str, bytes]:
    assert main(["fit", str(series), "--out", str(out), "-r", "3", "--workers",
                 str(workers)]) == 0
    return {name: (out / name).read_bytes() for name in ("fit.json", "scenario.yaml")}


def test_two_workers_write_the_same_files_as_one(short_csv: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "fitted"  # the same folder both times: scenario.yaml names it
    one = fitted_files(short_csv, out, 1)
    err_one = capsys.readouterr().err
    two = fitted_files(short_csv, out, 2)
    err_two = capsys.readouterr().err
    assert one == two
    # every candidate's line, in the same order (the scan's 128 or 256, then Nelder-Mead's,
    # then the finalists')
    assert err_one == err_two
    assert err_one.count(" finalist ") == 9 and err_one.count(": loss ") > 128


def test_workers_the_api_refuses(short_csv: Path) -> None:
    with pytest.raises(QsimError, match="workers must be a whole number"):
        fit(str(short_csv), workers=0)


def test_a_series_shorter_than_a_day_fits_with_no_24h_figure(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Three hours: no 24-h autocorrelation in the data, so none to meet; fit.json says null
    # (it crashed on the nan before), the table and the sentence leave it out.
    import json

    series = write_series(tmp_path / "three_hours.csv", *known_queue(11, 0.125))
    out = tmp_path / "fitted"
    assert main(["fit", str(series), "--out", str(out), "-r", "2", "--workers", "1"]) == 0
    shown = capsys.readouterr().out
    report = json.loads((out / "fit.json").read_text())
    acf = report["statistics"]["acf_24h"]
    assert acf["data"] is None and "met" not in acf
    assert report["targets"] == 5 and "acf_24h" not in shown.split("falls short on")[-1]


@pytest.mark.parametrize("value, says", [("0", "greater than or equal to 1"),
                                         ("two", "valid integer")])
def test_bad_workers_exit_2_with_one_line_and_write_nothing(
        short_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str,
        says: str) -> None:
    out = tmp_path / "fitted"
    assert main(["fit", str(short_csv), "--out", str(out), "--workers", value]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("qsim: error:") and "--workers" in err and says in err
    assert len(err.splitlines()) == 1 and not out.exists()
