"""The sample export shipped in data/ is exactly what its script writes, and calibrates to believable figures."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from planner.calibrate import calibrate_export, plan_settings
from planner.demo import DEMO_PIPELINE

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample_crm_export.csv"


def make_sample_export() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_sample_export", ROOT / "data" / "make_sample_export.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_file_is_byte_for_byte_what_the_script_writes() -> None:
    script = make_sample_export()
    assert script.SAMPLE == SAMPLE
    assert SAMPLE.read_bytes() == script.sample_csv()
    assert script.sample_csv() == script.sample_csv()  # a fixed seed: the same bytes every time


def test_the_sample_calibrates_to_sane_figures() -> None:
    deals, result = calibrate_export(SAMPLE.read_bytes(), SAMPLE.name)
    o = result.overall
    assert deals.preset == "hubspot" and deals.problems.empty
    assert result.rows_read == 1500 and result.rows_bad == 0
    assert 0.05 <= o.win_rate <= 0.40
    assert 0.05 <= o.win_rate_value <= 0.40
    assert 5_000 < o.median_deal_size <= o.avg_deal_size < 30_000
    assert 10 < o.cycle_median_days < 90
    assert o.cycle_q1_days <= o.cycle_median_days <= o.cycle_q3_days
    assert deals.stage_order == (*(name for name, _, _ in DEMO_PIPELINE), "Closed Won")
    # lags from the "Date entered" history, close to the generator's mean days per stage
    assert result.lag_source == "stage history" and result.has_history
    assert all(lag is not None and 1 <= lag <= 20 for lag in result.lag_days)
    # conversions close to the generator's chances (0.55, 0.60, 0.50, 0.70), within their 95% intervals or near
    for conversion, (_, chance, _) in zip(o.conversions, DEMO_PIPELINE, strict=True):
        assert conversion.rate == pytest.approx(chance, abs=0.12)
        assert conversion.low < conversion.rate < conversion.high
    assert sum(result.seasonality) == pytest.approx(1.0) and len(result.seasonality) == 12
    assert len(result.by_owner) == 6
    settings = plan_settings(result)
    assert settings.deal_size == pytest.approx(o.avg_deal_size, abs=0.01)
    assert [s.name for s in settings.stages] == [name for name, _, _ in DEMO_PIPELINE]
    assert settings.won_stage == "Closed Won"
