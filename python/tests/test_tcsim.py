"""The Python module against the command line it wraps and against published figures."""
import json
import os
import subprocess
import tempfile

import pytest

import tcsim

SOURCE = os.environ.get("TCSIM_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.environ.get("TCSIM_BINARY", os.path.join(os.path.dirname(tcsim.__file__), "..", "..", "tcsim"))


def cli_json(*args):
    out = subprocess.run([BINARY, *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def test_run_is_the_command_lines_json():
    # DeepSeek-V3 as its paper counts it: 671B parameters, 37B active (V3-TR §1).
    r = tcsim.run(step_only=True)
    assert round(r["model"]["params_total"] / 1e9) == 671
    assert round(r["model"]["params_active"] / 1e9) == 37
    assert r == cli_json("run", "--json", "--step-only")


def test_a_scenario_may_be_a_dict_and_set_overrides_fields():
    base = tcsim.run(set={"hardware.gpu": "h100"}, step_only=True)
    assert base["scenario"]["gpu"] == "h100"
    mine = tcsim.run({"extends": "builtin:deepseek-v3", "hardware": {"gpu": "h100"}}, step_only=True)
    assert mine["step"]["time_s"] == base["step"]["time_s"]
    listed = tcsim.run(set={"parallelism.pp": 8, "parallelism.stage_layers": [8] * 7 + [5]}, step_only=True)
    assert listed["resolved"]["parallelism"]["pp"] == 8


def test_bad_input_raises_scenario_error_with_its_place():
    with pytest.raises(tcsim.ScenarioError) as e:
        tcsim.run({"extends": "builtin:deepseek-v3", "parallelism": {"tp": "eight"}}, step_only=True)
    err = e.value
    assert err.key == "parallelism.tp"
    assert err.line >= 1 and err.column >= 1
    assert err.file.endswith(".yaml")
    assert "eight" in str(err)
    with pytest.raises(tcsim.ScenarioError) as flag:
        tcsim.run(set={"no.such.key": 1}, step_only=True)
    assert flag.value.file == "--set"


def test_collective_takes_nccl_tests_ranges():
    r = tcsim.collective(op="allreduce", minbytes="8", maxbytes="8M", stepfactor=4, gpus=16)
    sizes = [row["size_bytes"] for row in r["rows"]]
    assert sizes == [8 * 4**k for k in range(11)]
    # The average bus bandwidth line is the mean of the rows.
    mean = sum(row["busbw_bytes_per_s"] for row in r["rows"]) / len(r["rows"])
    assert r["avg_busbw_bytes_per_s"] == pytest.approx(mean)


def test_sweep_returns_one_row_per_variant_with_si_columns():
    rows = tcsim.sweep(vary={"cost.rental": ["$2/GPU-h", "$3/GPU-h"], "parallelism.pp": [8, 16]}, depth="step")
    records = rows.to_dict("records") if hasattr(rows, "to_dict") else rows
    assert [r["id"] for r in records] == [0, 1, 2, 3]
    assert sorted({r["cost.rental_usd_per_gpu_hour"] for r in records}) == [2, 3]
    assert all(r["status"] in ("ok", "does-not-fit", "invalid") for r in records)


def test_validate_and_report():
    v = tcsim.validate(case="deepseek-v3-step")
    figure = v["cases"][0]["figures"][0]
    assert figure["published"] == 180000  # V3-TR §1: 180K H800 GPU-hours per trillion tokens
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "report")
        r = tcsim.report(out=out, trials=20, samples=200)
        assert os.path.exists(os.path.join(out, "report.html"))
        views = {view["id"]: view for view in r["cost"]["views"]}
        assert views["headline"]["usd"] == pytest.approx(5.576e6)  # V3-TR Table 1


def test_init_writes_a_scenario_that_runs():
    text = tcsim.init("mixtral-8x7b", "h100", 16)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(text)
    try:
        r = tcsim.run(f.name, step_only=True)
        assert r["memory"]["fits"] is True
    finally:
        os.unlink(f.name)


def test_version():
    assert tcsim.version() == subprocess.run([BINARY, "--version"], capture_output=True, text=True).stdout.split()[-1]
