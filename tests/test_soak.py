"""eval/soak.py end to end, short: a real server on a tiny model at a steady rate for 20 s;
nothing lost, every minute and sample reported. The 30-minute run is eval/reports/soak.md."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_script():
    sys.path.insert(0, str(ROOT / "eval"))
    spec = importlib.util.spec_from_file_location("soak", ROOT / "eval" / "soak.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    tiny_models = pytest.importorskip("tiny_models")
    return tiny_models.build_tiny_model(tmp_path_factory.mktemp("tiny"), seed=3)


@pytest.mark.slow
def test_short_soak_loses_nothing_and_reports_over_time(tmp_path, tiny_model):
    soak = _load_script()
    report = soak.run_soak(str(tiny_model), minutes=20 / 60, rate=2, replicas=1, db=None,
                           workdir=tmp_path, max_tokens=8, sample_s=2)
    assert report["lost"] == 0, report["reasons"]
    assert report["tried"] == report["answered"] + report["rejected"] + report["errors"]
    assert report["tried"] >= 30 and report["answered"] >= 1
    assert report["minutes"][0]["tried"] == report["tried"]
    assert len(report["samples"]) >= 5
    assert all(s["replicas"][0]["rss_mb"] > 0 for s in report["samples"])
    assert report["metrics_scrape_status"] == 200
    assert "| minute |" in soak.markdown(report)
