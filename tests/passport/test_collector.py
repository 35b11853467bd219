"""The passport list reads its page with Python's cyclic garbage collector paused (a page at
the cap holds some 200,000 dicts and lists, which would set the collector off hundreds of
times), and the collector resumes afterwards, whatever happens."""

from __future__ import annotations

import gc

import pytest

from passport.pagination import collector_paused
from passport.views import base, passports

pytestmark = pytest.mark.django_db


def test_the_list_is_built_and_encoded_with_the_collector_paused(anonymous, passport, monkeypatch):
    seen = []

    def spying(*args, **kwargs):
        seen.append(gc.isenabled())
        return base.answers(*args, **kwargs)

    monkeypatch.setattr(passports, "answers", spying)
    assert gc.isenabled()
    response = anonymous.get("/passport/batteryPass/")
    assert response.status_code == 200
    assert seen == [False]
    assert gc.isenabled()
    anonymous.get(f"/passport/batteryPass/{passport.battery_id}")  # other views: no pause
    assert seen == [False, True]
    assert gc.isenabled()


def test_pauses_nest_and_the_collector_resumes_after_an_error():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
        raise RuntimeError
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled():
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
