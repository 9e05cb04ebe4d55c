"""``report.html``: the story of a run on one self-contained page (docs/architecture.md, "Outputs").

Built from a run folder's files alone (so ``gridcarbon report DIR`` rebuilds it; during a
run the exported years' layers come from memory, as the files hold them): the maps of every
exported year and layer behind a year slider (:mod:`gridcarbon.output.report_maps`), the pathway, sector and provincial charts (:mod:`gridcarbon.output.report_charts`), the
carbon market (``market.csv`` and its figures), the energy mix (``energy_summary.csv`` and
its figures), facility events, storage fill and, when ``totals_ensemble.csv`` is present,
ensemble bands. Images are data URIs, charts inline SVG, the one script inline: the page
needs no network. Sections whose table the run lacks say so. Written atomically.
"""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd

from gridcarbon.core.units import T_PER_MT
from gridcarbon.output import report_charts as charts
from gridcarbon.output.atomic import write_text_atomic
from gridcarbon.output.layers import WrittenLayers
from gridcarbon.output.report_maps import MapSet, build_maps

REPORT_FILE = "report.html"
#: the page's style sheet (system fonts, one column of at most 980 px)
CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:980px;padding:0 16px;color:#222}
h1{font-size:1.6em;margin:.6em 0 .2em}h2{border-bottom:1px solid #ccc;margin-top:1.6em}
table{border-collapse:collapse;font-size:13px;margin:.5em 0}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}svg,img.figure{max-width:100%;height:auto}
.map{position:relative;width:100%;max-width:640px}.map img,.map svg{position:absolute;left:0;top:0;width:100%;height:100%}
.map img{image-rendering:pixelated}.controls{display:flex;gap:1em;align-items:center;margin:.5em 0}
.legend{position:relative;max-width:640px;height:42px}.bar{height:14px;border:1px solid #999}
.tick{position:absolute;top:18px;font-size:11px;transform:translateX(-50%);white-space:nowrap}
.note{color:#666;font-style:italic}
"""
#: the year slider and layer selector: swaps the map image and its legend
SCRIPT = """
const M = JSON.parse(document.getElementById("map-data").textContent);
const layer = document.getElementById("layer"), year = document.getElementById("year");
function show() {
  const y = M.years[Number(year.value)], name = layer.value, legend = M.legends[name];
  document.getElementById("map-image").src = M.images[name][y];
  document.getElementById("year-label").textContent = y;
  document.getElementById("legend-bar").style.background = legend.gradient;
  const ticks = document.getElementById("legend-ticks");
  ticks.replaceChildren(...legend.ticks.map(([p, text]) => {
    const s = document.createElement("span");
    s.className = "tick"; s.style.left = (100 * p) + "%"; s.textContent = text; return s;
  }));
}
layer.addEventListener("change", show);
year.addEventListener("input", show);
show();
document.body.dataset.ready = "yes";
"""


def write_report(root: Path, manifest: dict, boundaries: gpd.GeoDataFrame | None,
                 layers: WrittenLayers | None = None, maps: MapSet | None = None,
                 drawn: dict[str, str] | None = None) -> Path:
    """Write ``root/report.html`` for the run folder ``root`` (``manifest``: the run's manifest;
    ``boundaries``: region outlines drawn on the maps, any CRS; ``layers``: the exported
    years' layers, default read from the folder's COGs; ``maps``: their
    :func:`~gridcarbon.output.report_maps.build_maps`, when already drawn; ``drawn``: the charts
    of :func:`~gridcarbon.output.report_charts.draw_charts`, when already drawn). Returns its path."""
    root = Path(root)
    maps = build_maps(root, boundaries, layers) if maps is None else maps
    drawn = charts.draw_charts(root) if drawn is None else drawn
    body = [_header(manifest), _maps_section(maps), _pathway_section(root, maps.years, drawn),
            _market_section(root, maps.years), _energy_section(root, maps.years), _facility_section(root, drawn),
            _ensemble_section(root)]
    title = html.escape(f"gridcarbon run {manifest.get('scenario', root.name)}")
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<link rel="icon" href="data:,"><meta name="viewport" content="width=device-width">'
            f"<style>{CSS}</style></head><body>\n" + "\n".join(body) +
            f'\n<script type="application/json" id="map-data">{_map_json(maps)}</script>'
            f"\n<script>{SCRIPT}</script>\n</body></html>\n")
    return write_text_atomic(root / REPORT_FILE, page)


def _header(manifest: dict) -> str:
    """Title, description and the run's identity and health figures."""
    sc = manifest.get("scenario_resolved", {})
    alloc = manifest.get("allocation", {})
    facts = {"scenario": manifest.get("scenario"), "scenario hash": manifest.get("scenario_hash"),
             "seed": manifest.get("seed"), "base year": manifest.get("base_year"),
             "exported years": ", ".join(str(y) for y in [manifest.get("base_year"), *manifest.get("years", [])]),
             "resolution": f"{manifest.get('resolution_m', 0) / 1000:g} km",
             "grid": " x ".join(str(n) for n in manifest.get("grid", {}).get("shape", [])) + " cells",
             "solver status": alloc.get("status"),
             "coupling iterations": manifest.get("coupling", {}).get("iterations"),
             "largest relative residual": _number(manifest.get("conservation", {}).get("max_relative_residual")),
             "gridcarbon": manifest.get("gridcarbon")}
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in facts.items() if v is not None)
    return (f"<h1>gridcarbon run: {html.escape(str(manifest.get('scenario', '')))}</h1>"
            f"<p>{html.escape(str(sc.get('description', '')))}</p><table>{rows}</table>")


def _number(value: float | None) -> str | None:
    return None if value is None else f"{value:.1e}"


def _maps_section(maps: MapSet) -> str:
    """Layer selector, year slider, the map with its outlines and legend."""
    options = "".join(f'<option value="{n}">{html.escape(maps.labels[n])}</option>' for n in maps.layers)
    return (f"<h2>Maps</h2><p>t CO2/yr per cell, on one log scale per layer for all exported years; "
            f"grey: inside the study area, nothing emitted.</p>"
            f'<div class="controls"><select id="layer">{options}</select>'
            f'<input id="year" type="range" min="0" max="{len(maps.years) - 1}" step="1" value="0">'
            f'<b id="year-label">{maps.years[0]}</b></div>'
            f'<div class="map" style="aspect-ratio:{maps.width}/{maps.height}"><img id="map-image" alt="map">'
            f'<svg viewBox="0 0 {maps.width} {maps.height}" preserveAspectRatio="none">'
            f'<path d="{maps.outlines}" fill="none" stroke="#333" stroke-width="0.6" '
            f'vector-effect="non-scaling-stroke"/></svg></div>'
            f'<div class="legend"><div class="bar" id="legend-bar"></div><div id="legend-ticks"></div></div>')


def _map_json(maps: MapSet) -> str:
    """The map images and legends as JSON for the page's script ('<' escaped for a script tag)."""
    data = {"years": maps.years, "images": {n: {str(y): u for y, u in d.items()} for n, d in maps.images.items()},
            "legends": maps.legends}
    return json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")


def _pathway_section(root: Path, years: list[int], drawn: dict[str, str]) -> str:
    """Pathway, sector and provincial charts and the provincial table from ``totals.csv``."""
    table = charts.region_table(pd.read_csv(root / "totals.csv"), years)
    return ("<h2>Pathway and sectors</h2>" + drawn["pathway"] + drawn["sector"] +
            "<h2>Provincial split</h2>" + drawn["region"] + _table(table))


def _market_section(root: Path, years: list[int]) -> str:
    """Carbon price per exported year and the permit-trade figures of ``market.csv``."""
    if not (root / "market.csv").is_file():
        return _missing("Carbon price and permit trade", "market.csv")
    market = pd.read_csv(root / "market.csv")
    chosen = market[market["year"].isin(years)]
    table = chosen.pivot_table(index="region", columns="year", values="permits_bought_t") / T_PER_MT
    price = chosen.groupby("year")["carbon_price_yuan_per_t"].agg(["min", "max"])
    return ("<h2>Carbon price and permit trade</h2>" + _figures(root, "carbon_price", "permits") +
            "<p>Carbon price, yuan/t CO2 (lowest and highest over regions):</p>" + _table(price) +
            "<p>Permits bought (+) or sold (-), Mt CO2/yr:</p>" + _table(table.rename(columns=str)))


def _energy_section(root: Path, years: list[int]) -> str:
    """Generation mix figures and the study area's energy summary in the exported years."""
    if not (root / "energy_summary.csv").is_file():
        return _missing("Energy mix", "energy_summary.csv")
    summary = pd.read_csv(root / "energy_summary.csv")
    total = summary[(summary["region"] == "total") & summary["year"].isin(years)].drop(columns="region")
    return ("<h2>Energy mix</h2>" + _figures(root, "generation_mix", "non_fossil_shares") +
            _table(total.set_index("year")))


def _facility_section(root: Path, drawn: dict[str, str]) -> str:
    """Facility events per year and by sector, and the storage fill."""
    parts = ["<h2>Facilities and storage</h2>"]
    if "events" not in drawn:
        parts.append('<p class="note">No facility events in this run.</p>')
    else:
        events = pd.read_csv(root / "facility_events.csv")
        parts += [drawn["events"],
                  _table(events.pivot_table(index="sector", columns="event", values="id", aggfunc="count",
                                            fill_value=0))]
    if "storage" in drawn:
        parts.append(drawn["storage"])
    else:
        parts.append('<p class="note">Storage account: not in this run (no storage.csv).</p>')
    return "".join(parts)


def _ensemble_section(root: Path) -> str:
    """Ensemble bands from ``totals_ensemble.csv``, when the run has one."""
    if not (root / "totals_ensemble.csv").is_file():
        return _missing("Ensemble bands", "totals_ensemble.csv")
    return "<h2>Ensemble bands</h2>" + charts.ensemble_chart(pd.read_csv(root / "totals_ensemble.csv"))


def _figures(root: Path, *names: str) -> str:
    """The run's own PNG figures ``maps/<name>.png`` as data-URI images (those present)."""
    out = []
    for name in names:
        path = root / "maps" / f"{name}.png"
        if path.is_file():
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            out.append(f'<img class="figure" alt="{name}" src="data:image/png;base64,{data}">')
    return "".join(out)


def _table(table: pd.DataFrame) -> str:
    return table.to_html(float_format=lambda v: f"{v:,.3g}" if abs(v) < 1 else f"{v:,.1f}", border=0)


def _missing(title: str, file: str) -> str:
    return f'<h2>{html.escape(title)}</h2><p class="note">Not in this run (no {html.escape(file)}).</p>'
