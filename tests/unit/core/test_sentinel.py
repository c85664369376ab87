"""``covet._sentinel.MISSING``: one sentinel for the cache and the handlers."""

from __future__ import annotations

import copy
import pickle

from covet._sentinel import MISSING


def test_is_falsy_and_named() -> None:
    assert not MISSING
    assert repr(MISSING) == "MISSING"
    assert MISSING is not None


def test_survives_copy_and_pickle_as_the_same_object() -> None:
    assert copy.copy(MISSING) is MISSING
    assert copy.deepcopy(MISSING) is MISSING
    assert pickle.loads(pickle.dumps(MISSING)) is MISSING


def test_cache_and_handlers_share_it() -> None:
    from covet.cache import MISSING as cache_missing
    from covet.handlers.errors import MISSING as handlers_missing

    assert cache_missing is MISSING
    assert handlers_missing is MISSING
