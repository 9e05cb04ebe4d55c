"""Engine options (gridcarbon.core.options): set for a block or the session, validated, restored."""
from __future__ import annotations

import pytest

import gridcarbon
from gridcarbon.core.options import OPTIONS, get_option, set_options

#: options taking an integer >= 0 and options taking an integer > 0
NON_NEGATIVE = ["in_memory_bytes", "large_grid_cells", "writer_queue_bytes"]
POSITIVE = ["max_display_cells", "predict_chunk_cells", "cube_chunk_cells"]


def test_every_option_is_validated_and_readable():
    assert sorted(OPTIONS) == sorted(NON_NEGATIVE + POSITIVE)
    assert all(get_option(name) == OPTIONS[name] for name in OPTIONS)
    assert gridcarbon.set_options is set_options and gridcarbon.get_option is get_option


def test_a_block_sets_options_and_restores_them_on_exit():
    before = dict(OPTIONS)
    with gridcarbon.set_options(in_memory_bytes=0, max_display_cells=30):
        assert get_option("in_memory_bytes") == 0 and get_option("max_display_cells") == 30
        with set_options(max_display_cells=7):  # nested blocks unwind in order
            assert get_option("max_display_cells") == 7 and get_option("in_memory_bytes") == 0
        assert get_option("max_display_cells") == 30
    assert OPTIONS == before


def test_options_are_restored_when_the_block_raises():
    before = dict(OPTIONS)
    with pytest.raises(RuntimeError, match="inside"):
        with set_options(cube_chunk_cells=16, large_grid_cells=0):
            raise RuntimeError("inside the block")
    assert OPTIONS == before


def test_without_a_block_an_option_holds_for_the_session():
    before = get_option("predict_chunk_cells")
    try:
        set_options(predict_chunk_cells=1234)
        assert get_option("predict_chunk_cells") == 1234
    finally:
        set_options(predict_chunk_cells=before)
    assert get_option("predict_chunk_cells") == before


def test_unknown_names_are_rejected_with_the_known_ones():
    before = dict(OPTIONS)
    with pytest.raises(ValueError, match="unknown gridcarbon option 'in_memory'") as info:
        set_options(in_memory=0)
    assert all(name in str(info.value) for name in OPTIONS)
    with pytest.raises(ValueError, match="unknown gridcarbon option 'no_such_option'"):
        set_options(max_display_cells=10, no_such_option=1)
    assert OPTIONS == before  # nothing of a refused call is applied


@pytest.mark.parametrize("name", NON_NEGATIVE + POSITIVE)
@pytest.mark.parametrize("value", [-1, 1.5, "1000", None, True])
def test_bad_values_are_rejected_naming_the_option(name, value):
    before = dict(OPTIONS)
    with pytest.raises(ValueError, match=f"gridcarbon option {name} must be an integer") as info:
        set_options(**{name: value})
    assert repr(value) in str(info.value)
    assert OPTIONS == before


@pytest.mark.parametrize("name", POSITIVE)
def test_zero_is_refused_where_a_count_must_be_positive(name):
    with pytest.raises(ValueError, match="> 0"):
        set_options(**{name: 0})


@pytest.mark.parametrize("name", NON_NEGATIVE)
def test_zero_is_accepted_where_it_means_never(name):
    with set_options(**{name: 0}):
        assert get_option(name) == 0


def test_a_refused_value_leaves_the_valid_ones_of_the_same_call_unset():
    before = dict(OPTIONS)
    with pytest.raises(ValueError, match="cube_chunk_cells"):
        set_options(in_memory_bytes=5, cube_chunk_cells=-4)
    assert OPTIONS == before
