import datetime as dt
import subprocess
import sys

import pandas as pd
import pytest

from vip2analysis.contract import assign_periods, load_periods, periods_table
from vip2analysis.errors import PeriodConfigError

GOOD = """\
periods:
  method:
    start: 2007-04-01
    end: 2009-06-30
    data_date: 2010-06-30
    label_da: Metodedel
    label_en: Method phase
"""


def test_shipped_periods_are_the_reports():
    cfg = load_periods()
    assert cfg.assign_by == "start_date"
    assert [(p.name, p.start, p.end) for p in cfg] == [
        ("method", dt.date(2007, 4, 1), dt.date(2009, 6, 30)),
        ("extension1", dt.date(2009, 7, 1), dt.date(2009, 11, 30)),
        ("extension2", dt.date(2009, 12, 15), dt.date(2010, 6, 15)),
        ("all", dt.date(2007, 4, 1), dt.date(2010, 6, 15)),
    ]
    assert cfg["extension1"].label_da == "1. projektforlængelse"
    assert cfg["all"].label("en") == "Whole project"


def test_override_by_path(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(GOOD, encoding="utf-8")
    cfg = load_periods(path)
    assert cfg.names == ["method"]
    assert periods_table(cfg).loc[0, "days"] == 822


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (GOOD.replace("label_en", "colour"), "period 'method', field `colour`: unknown key"),
        (GOOD.replace("2009-06-30", "2006-06-30"), "field `end`: end 2006-06-30 is before start"),
        (
            GOOD.replace("2010-06-30", "2007-03-01"),
            "field `data_date`: data date 2007-03-01 is before",
        ),
        (GOOD.replace("    data_date: 2010-06-30\n", ""), "field `data_date`: missing"),
        (GOOD.replace("2009-06-30", "30.06.2009"), "field `end`: '30.06.2009' is not a date"),
        (GOOD.replace("2009-06-30", "2009-02-30"), "field `end`: '2009-02-30' is not a date"),
        (GOOD + GOOD.split("\n", 1)[1], "duplicate name 'method'"),
        (GOOD.replace("    label_da: Metodedel\n", ""), "field `label_da`: missing"),
        ("periods: {}\n", "field `periods`"),
        (GOOD + "colour: red\n", "top level, field `colour`: unknown key"),
        (GOOD.replace("method:", "my period:"), "field `name`"),
    ],
)
def test_bad_config_names_file_period_and_field(tmp_path, text, needle):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PeriodConfigError) as err:
        load_periods(path)
    assert str(path) in str(err.value)
    assert needle in str(err.value)


def test_assign_by_start_date_inclusive():
    cfg = load_periods()
    df = pd.DataFrame(
        {
            "start_date": pd.to_datetime(["2009-06-30", "2009-07-01", "2009-12-01"]),
            "end_date": pd.to_datetime(["2009-12-01", None, None]),
        }
    )
    assert assign_periods(df, cfg, period="method").tolist() == [True, False, False]
    assert assign_periods(df, cfg, period="extension1").tolist() == [False, True, False]
    assert assign_periods(df, cfg, period="all").tolist() == [True, True, True]


def test_cli_periods_prints_table_and_rejects_bad_config(tmp_path):
    ok = subprocess.run(
        [sys.executable, "-m", "vip2analysis", "periods"], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert "extension2" in ok.stdout and "2009-12-15" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("2009-06-30", "2006-06-30"), encoding="utf-8")
    res = subprocess.run(
        [sys.executable, "-m", "vip2analysis", "periods", "--config", str(bad)],
        capture_output=True,
        text=True,
    )
    assert res.returncode != 0
    assert "period 'method', field `end`" in res.stderr
    assert "Traceback" not in res.stderr
