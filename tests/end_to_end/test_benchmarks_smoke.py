"""The benchmarks do not rot: each runs at its tiny size, conserves mass, writes its JSON keys.

Loads ``benchmarks/*.py`` by file path (the folder is not a package) and calls each
``main(size="tiny", out=...)`` into a temporary folder, so nothing is written under
benchmarks/results/. Optional references (exactextract, emiproc) are used when installed
and skipped otherwise; emiproc is never run at the tiny size. The end-to-end benchmark's
tiny size is one whole ``gridcarbon run yrd-enhanced --years 2030`` job in a child process
(about half a minute), in a fixture of its own so that it runs alone, after the others.
"""
from __future__ import annotations

import importlib.util
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
RTOL = 1e-9


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_smoke_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Every benchmark's tiny record, as returned and as written to JSON.

    The big-input benchmark's subprocess (mostly interpreter start-up and imports) runs in a
    thread while the other two run here, so the fixture takes about the longest of them.
    """
    out = tmp_path_factory.mktemp("bench")
    big = _load("bench_big_inputs")
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(big.main, "tiny", out=out / "b.json", verbose=False)
        records = {"allocation": _load("bench_allocation").main("tiny", out=out / "a.json", verbose=False),
                   "gridding": _load("bench_gridding").main("tiny", out=out / "g.json", emiproc=False,
                                                            verbose=False)}
        records["big_inputs"] = pending.result()
    written = {name: json.loads((out / f"{name[0]}.json").read_text()) for name in records}
    return records, written


@pytest.fixture(scope="module")
def e2e_tiny(tmp_path_factory):
    """The end-to-end benchmark's tiny record (one CLI job), as returned and as written."""
    out = tmp_path_factory.mktemp("bench_e2e") / "e.json"
    record = _load("bench_end_to_end").main("tiny", out=out, verbose=False)
    return record, json.loads(out.read_text())


def test_records_are_written_as_returned(tiny):
    records, written = tiny
    for name in records:
        assert written[name] == json.loads(json.dumps(records[name], default=float)), name


def test_allocation_tiny_solves_and_balances(tiny):
    rec = tiny[1]["allocation"]
    assert {"benchmark", "size", "problem", "lp_size", "status", "residual_rel", "build_s", "solve_s",
            "build_plus_solve_s", "build_over_solve", "within_target", "load_1min"} <= rec.keys()
    assert rec["status"] == "optimal" and rec["size"] == "tiny"
    assert rec["residual_rel"] <= RTOL


def test_gridding_tiny_conserves_mass_and_has_ratios(tiny):
    rec = tiny[1]["gridding"]
    assert {"benchmark", "size", "machine", "inputs", "exactextract", "emiproc", "cases", "load_1min_end"} <= rec.keys()
    assert {c["kind"] for c in rec["cases"]} == {"points", "lines", "polygons"}
    for case in rec["cases"]:
        assert {"kind", "res_m", "grid_shape", "n_features", "methods", "ratios", "l1_vs_gridcarbon_kernel",
                "load_1min"} <= case.keys()
        for name in ("gridcarbon", "gridcarbon_kernel", "rasterize"):
            m = case["methods"][name]
            assert {"best_s", "median_s", "cpu_best_s", "runs", "load_1min", "mass_error"} <= m.keys()
            assert m["best_s"] > 0
        assert case["methods"]["gridcarbon"]["mass_error"] <= RTOL
        assert case["methods"]["gridcarbon_kernel"]["mass_error"] <= RTOL
        assert case["ratios"]["gridcarbon/rasterize"] > 0
        if case["kind"] != "points":
            acc = case["accuracy"]
            assert acc["n_features"] > 0
            assert acc["gridcarbon_kernel"]["max"] <= 1e-9  # exact: nothing misplaced
            assert acc["rasterize"]["mean"] > acc["gridcarbon_kernel"]["mean"]
    if rec["exactextract"]["available"]:
        assert all("exactextract" in c["methods"] for c in rec["cases"] if c["kind"] != "points")


def test_big_inputs_tiny_conserves_mass_in_a_subprocess(tiny):
    rec = tiny[1]["big_inputs"]
    assert {"benchmark", "size", "inputs", "limit_mib", "cases", "all_under_2gib"} <= rec.keys()
    for case in rec["cases"]:
        assert {"res_m", "peak_rss_mib", "under_2gib", "stages", "checks", "gridding_wall_s",
                "process_wall_s", "mass_conserved", "load_1min"} <= case.keys()
        assert case["mass_conserved"] and case["peak_rss_mib"] > 0
        assert max(v for k, v in case["checks"].items() if k.endswith("error")) <= RTOL
        assert case["checks"]["mass_outside_regions_t"] == 0


def test_end_to_end_tiny_runs_the_cli_and_conserves(e2e_tiny):
    record, rec = e2e_tiny
    assert rec == json.loads(json.dumps(record))
    assert {"benchmark", "size", "machine", "rtol", "timeout_s", "cases", "ratios", "all_ok",
            "all_conserved", "all_within_target", "load_1min_end"} <= rec.keys()
    assert rec["benchmark"] == "end_to_end" and rec["size"] == "tiny"
    assert [c["case"] for c in rec["cases"]] == ["yrd10"]
    case = rec["cases"][0]
    assert {"case", "scenario", "res_m", "years", "command", "exit_code", "ok", "timed_out", "wall_s", "cpu_s",
            "peak_rss_mib", "load_1min", "timings_s", "max_relative_residual", "coupling_iterations", "grid",
            "files_written", "files_in_manifest", "totals_rows_checked", "totals_max_relative_residual",
            "conserved", "target_wall_s", "limit_rss_mib", "wall_over_target", "peak_over_limit",
            "within_target"} <= case.keys()
    assert case["exit_code"] == 0 and case["ok"] and not case["timed_out"], case.get("stderr_tail")
    assert case["scenario"] == "yrd-enhanced" and case["res_m"] == 10_000 and case["years"] == [2030]
    assert "--years 2030" in case["command"] and "--quiet" in case["command"]
    assert case["wall_s"] > 0 and case["peak_rss_mib"] > 0 and len(case["load_1min"]) == 2
    assert case["conserved"] is True and rec["all_conserved"] is True and rec["all_ok"] is True
    assert case["totals_rows_checked"] > 0 and case["totals_max_relative_residual"] <= rec["rtol"]
    assert case["max_relative_residual"] <= rec["rtol"]
    assert case["coupling_iterations"] >= 1 and case["files_written"] > 0
    assert len(case["grid"]["shape"]) == 2 and case["grid"]["res_m"] == 10_000
    assert {"total_s"} <= case["timings_s"].keys() and case["timings_s"]["total_s"] > 0
    assert case["target_wall_s"] == 8.0 and isinstance(case["within_target"], bool)  # issue 19: 8 s warm
    assert case["wall_over_target"] == pytest.approx(case["wall_s"] / 8.0, rel=5e-3)
    assert case["tree_peak_rss_mib"] >= case["peak_rss_mib"] and case["code"] == "current"
    assert {"china10/yrd10", "ens32/yrd10", "ens32/yrd10 peak memory"} <= set(rec["ratios"])


def test_run_all_summarises_every_record(tiny, e2e_tiny):
    rows = _load("run_all").summary_rows({**tiny[1], "end_to_end": e2e_tiny[1]})
    assert {r[0] for r in rows} == {"allocation", "gridding", "big_inputs", "end_to_end"}
    assert any(r[2] == "ratio gridcarbon / rasterize" for r in rows)
    assert {r[2] for r in rows if r[0] == "end_to_end"} >= {"wall s", "peak RSS MiB", "within target",
                                                            "conserved (1e-6)"}
