"""The bulk data commands pause the cyclic collector only while they run: a process that goes on
afterwards (a test run, a shell) has it back, also when the command failed."""

import gc

import pytest

from config.gc_pause import cycle_collector_paused


def test_paused_inside_and_restored_after_an_error():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), cycle_collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("import failed")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    try:
        with cycle_collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
