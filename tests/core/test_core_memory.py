"""Handing memory back and reusing it (``gridcarbon.core.memory``)."""
import platform
import subprocess
import sys
from importlib import import_module
from types import SimpleNamespace

import pytest

#: counts the page faults of making a 64 MB layer (above glibc's largest dynamic mmap threshold)
#: three times over, freeing each; "reuse" first asks for :func:`memory.reuse_freed_blocks`,
#: "remap" then undoes it with :func:`memory.map_large_blocks`
PROBE = """
import resource, sys
import numpy as np
from gridcarbon.core import memory
if sys.argv[1] in ("reuse", "remap"):
    assert memory.reuse_freed_blocks()
if sys.argv[1] == "remap":
    assert memory.map_large_blocks()
faults = []
for _ in range(3):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    layer = np.ones(8 << 20)
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    del layer
print(faults[1] + faults[2])
"""


def _refaults(mode: str) -> int:
    """Page faults of the second and third 64 MB layer in a fresh process."""
    done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1])


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_a_freed_layer_is_reused_not_mapped_and_zeroed_again():
    plain, reused = _refaults("plain"), _refaults("reuse")
    assert plain >= 32  # each layer new pages: at least one fault per 2 MB huge page
    assert reused <= plain // 16


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_mapping_large_blocks_again_hands_a_freed_layer_back():
    """After :func:`memory.map_large_blocks` a freed 64 MB layer is unmapped, as by default:
    the next one faults its pages in afresh."""
    plain, remapped = _refaults("plain"), _refaults("remap")
    assert remapped >= plain // 2 >= 16


def test_reusing_freed_blocks_turns_off_numpys_huge_page_advice():
    """A large grid's run gives numpy's arrays no huge-page advice (fresh 2 MB pages wait for
    the kernel to compact memory where THP is ``madvise``): numpy reports the advice on before
    and off after (its switch returns the setting it replaces)."""
    code = ("from numpy._core.multiarray import _set_madvise_hugepage as advise\n"
            "from gridcarbon.core import memory\n"
            "advise(True); memory.reuse_freed_blocks(); print(advise(True))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False"]


class _Stopped(Exception):
    """Raised by a stubbed stage to end a run early."""


def _advice() -> bool:
    """numpy's huge-page advice setting, left as it is (its switch returns the setting it replaces)."""
    from numpy._core.multiarray import _set_madvise_hugepage as advise

    state = advise(False)
    advise(state)
    return bool(state)


#: entry points that make a run's large arrays: (module, its first stage, stubbed to stop it; how to call it)
ENTRY_POINTS = {
    "run": ("gridcarbon.job", "prepare", lambda m: m.run("yrd-enhanced")),
    "build_baseline": ("gridcarbon.inventory.builtin", "_grid_parts", lambda m: m.build_baseline("yrd")),
    "write_baseline": ("gridcarbon.output.baseline", "load_regions", lambda m: m.write_baseline("yrd", "never")),
    "run_member": ("gridcarbon.ensembles.members", "EvolutionContext", lambda m: m.run_member(
        SimpleNamespace(scenario=SimpleNamespace(with_overrides=m.EvolutionContext)),
        SimpleNamespace(seed=1, overrides={}))),
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_runs_make_their_arrays_without_huge_page_advice(monkeypatch, entry):
    """A run, a built-in baseline (built or written) and an ensemble member turn numpy's
    huge-page advice off for their own arrays (the first 871 MB cube of china-enhanced at 10 km
    took 9-14 ms a 2 MB layer with it, 1.2 ms without; China's baseline at 1 km 51 s against 31)
    and give the setting back as it was after, also when they stop on an error."""
    from numpy._core.multiarray import _set_madvise_hugepage as advise

    module, stage, call = ENTRY_POINTS[entry]
    seen = []

    def stopped(*args, **kwargs):
        seen.append(_advice())
        raise _Stopped

    mod = import_module(module)
    monkeypatch.setattr(mod, stage, stopped)
    before = advise(True)
    try:
        with pytest.raises(_Stopped):
            call(mod)
        assert seen == [False] and _advice() is True
    finally:
        advise(before)


def test_overlapping_runs_give_the_advice_back_once_the_last_ends():
    """Two runs in threads of one process share the (process-wide) switch: the advice stays off
    while either runs, and the setting from before the first comes back after the last."""
    import threading

    from numpy._core.multiarray import _set_madvise_hugepage as advise

    from gridcarbon.core import memory

    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with memory.without_huge_page_advice():
            first_in.set()
            second_in.wait(10)
        seen["after first"] = _advice()
        first_out.set()

    def second():
        first_in.wait(10)
        with memory.without_huge_page_advice():
            second_in.set()
            first_out.wait(10)
            seen["second alone"] = _advice()

    before = advise(True)
    try:
        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert seen == {"after first": False, "second alone": False} and _advice() is True
    finally:
        advise(before)
