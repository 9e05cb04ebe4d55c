"""Siting primitives (gridcarbon.evolution.siting): spacing, caps, order and seeded noise."""
import numpy as np

from gridcarbon.core.cells import CellIndex
from gridcarbon.core.kernels import pick_sites
from gridcarbon.evolution.siting import Surface, ranked_cells


def _surface(full: np.ndarray, held: np.ndarray | None = None) -> Surface:
    """A (y, x) layer as a siting surface held compact on the cells of ``held`` (default: all)."""
    index = CellIndex.of_mask(np.ones(full.shape, bool) if held is None else held)
    return Surface(index.compact(full), index)


def test_pick_sites_spacing_cap_order_and_determinism():
    nx = 10
    order = np.array([0, 1, 2, 22, 5, 50, 55, 99], np.int64)  # flat indices on a 10-wide grid
    everywhere = np.ones(100, bool)

    def run(occupied, n, spacing, cap):
        return list(pick_sites(order, everywhere, 10, nx, np.asarray(occupied, np.int64), n, float(spacing), cap,
                               -1, 0.0))

    # no occupants, spacing 0: simply the first n of the order
    assert run([], 3, 0, 1) == [0, 1, 2]
    # spacing 3: 1 and 2 are too close to 0; 22 is sqrt(4 + 4) = 2.83 < 3 away; 5 is 5 away; 50 is 5 down
    assert run([], 3, 3, 1) == [0, 5, 50]
    # an occupant at 0 with cap 1 blocks that cell; its spacing still blocks 1 and 2
    assert run([0], 2, 3, 1) == [5, 50]
    # cap 2: the occupied cell takes one more (co-location is governed by the cap, not spacing)
    assert run([0], 2, 3, 2) == [0, 5]
    # asking for more than fits returns fewer: 55 is 5 from both 5 and 50, 99 is 5.66 from 55
    got = run([], 8, 3, 1)
    assert got == [0, 5, 50, 55, 99]
    for a in got:
        for b in got:
            if a != b:
                assert np.hypot(a // nx - b // nx, a % nx - b % nx) >= 3
    # deterministic, and the order matters
    assert run([0], 2, 3, 2) == run([0], 2, 3, 2)
    rev = pick_sites(order[::-1].copy(), everywhere, 10, nx, np.empty(0, np.int64), 1, 3.0, 1, -1, 0.0)
    assert list(rev) == [99]


def test_ranked_cells_orders_by_score_then_index_and_noise_is_seeded():
    score = _surface(np.array([[0.5, 0.9, 0.5], [0.1, 0.9, 0.7]]))
    allowed = np.array([[True, True, True], [True, False, True]])
    # 0.9 (cell 1), 0.7 (cell 5), 0.5 tie -> cells 0 then 2, 0.1 (cell 3); cell 4 not allowed
    assert list(ranked_cells(score, allowed, None, 0.0)) == [1, 5, 0, 2, 3]
    assert list(ranked_cells(score, allowed, np.random.default_rng(1), 0.0)) == [1, 5, 0, 2, 3]
    # candidates limited to some cells (a region's): same order, only those; 4 stays not allowed
    some = np.array([0, 2, 4, 5])
    assert list(ranked_cells(score, allowed, None, 0.0, cells=some)) == [5, 0, 2]
    assert sorted(ranked_cells(score, allowed, np.random.default_rng(1), 0.5, cells=some)) == [0, 2, 5]

    big = _surface(np.linspace(0, 1, 400).reshape(20, 20))
    ok = np.ones((20, 20), bool)
    a = ranked_cells(big, ok, np.random.default_rng(7), 0.5)
    b = ranked_cells(big, ok, np.random.default_rng(7), 0.5)
    c = ranked_cells(big, ok, np.random.default_rng(8), 0.5)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert sorted(a) == list(range(400))  # a permutation of the allowed cells
    assert not np.array_equal(a, ranked_cells(big, ok, None, 0.0))  # the noise did reorder


def test_a_surface_held_compact_ranks_as_its_full_layer_with_zero_outside():
    """Held on part of the grid, a surface reads 0 at the other cells: the order, with and without
    noise (one draw per cell of the grid either way), is that of the full layer with 0 there."""
    rng = np.random.default_rng(5)
    full = rng.uniform(0.1, 1.0, size=(9, 7))
    held = rng.uniform(size=full.shape) < 0.6
    ok = rng.uniform(size=full.shape) < 0.8
    compact, whole = _surface(full, held), _surface(np.where(held, full, 0.0))
    assert compact.scores.size == held.sum() < whole.scores.size
    for noise, seed in ((0.0, None), (0.3, 4)):
        got = ranked_cells(compact, ok, None if seed is None else np.random.default_rng(seed), noise)
        want = ranked_cells(whole, ok, None if seed is None else np.random.default_rng(seed), noise)
        assert np.array_equal(got, want)
    assert np.array_equal(compact.at(np.arange(full.size)), np.where(held, full, 0.0).ravel())


def _pick_by_comparing_all(order, allowed, nx, occupied, n, spacing, cap, centre, reach2):
    """pick_sites' rule, each candidate compared with every source (the reference)."""
    taken, sources = [], [divmod(int(o), nx) for o in occupied]
    r0, c0 = divmod(centre, nx)
    for idx in order:
        if len(taken) == n:
            break
        r, c = divmod(int(idx), nx)
        if not allowed[idx] or (centre >= 0 and (r - r0) ** 2 + (c - c0) ** 2 > reach2):
            continue
        near = [(r - a) ** 2 + (c - b) ** 2 for a, b in sources]
        if any(0 < d < spacing ** 2 for d in near) or near.count(0) >= cap:
            continue
        taken.append(int(idx))
        sources.append((r, c))
    return taken


def test_pick_sites_buckets_choose_what_comparing_every_source_chooses():
    """Spacings below, at and beyond the bucket side, caps of 1 and 2, sources on bucket edges,
    an off-grid source (cell -1, which Python's floor division puts at row -1), cells not
    allowed and a disc the sites must lie in."""
    rng = np.random.default_rng(11)
    ny, nx = 160, 200
    allowed = rng.uniform(size=ny * nx) > 0.3
    cases = [(0.0, 1, -1), (0.5, 2, -1), (3.0, 1, 1234), (16.0, 1, -1), (23.5, 2, -1), (8.0, 2, 3000), (40.0, 1, -1)]
    for spacing, cap, centre in cases:
        order = rng.permutation(ny * nx)[:8000].astype(np.int64)
        occupied = np.concatenate([[-1, 0, nx - 1, 16 * nx + 15, 16 * nx + 16],
                                   rng.integers(0, ny * nx, 12)]).astype(np.int64)
        got = pick_sites(order, allowed, ny, nx, occupied, 40, spacing, cap, centre, 30.5 ** 2)
        want = _pick_by_comparing_all(order, allowed, nx, occupied, 40, spacing, cap, centre, 30.5 ** 2)
        assert list(got) == want and len(want) > 0, (spacing, cap)
