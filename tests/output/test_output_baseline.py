"""Golden files: the committed 2024 baseline rasters are what the current code writes
(gridcarbon.output.baseline)."""
import hashlib
from pathlib import Path

from gridcarbon.output.baseline import write_baseline

COMMITTED = Path(__file__).resolve().parents[2] / "rasters" / "yrd_2024"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_committed_baseline_rasters_match_a_fresh_build(tmp_path):
    fresh = write_baseline("yrd", tmp_path / "yrd_2024")
    committed = sorted(COMMITTED.glob("*.tif"))
    assert len(committed) == 13  # 11 gridded sectors + total + net
    changed = [p.name for p in committed if _digest(p) != _digest(fresh / p.name)]
    assert not changed, f"regenerate with `gridcarbon baseline yrd --out rasters/yrd_2024`: {changed}"
