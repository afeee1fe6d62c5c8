"""Shared fixtures: the public data folder (skip when absent) and temporary stores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("NKBRIEF_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, read as it is; tests that need it skip in a user's clone without it."""
    if not (SHARED_DATA / "SOURCES.md").exists():
        pytest.skip(f"public data folder {SHARED_DATA} is absent (only CI and developers have it)")
    return SHARED_DATA


@pytest.fixture
def empty_store(tmp_path):
    from nkbrief.store import Store

    st = Store.open(tmp_path / "empty.sqlite3", seed=False)
    yield st
    st.close()


@pytest.fixture(scope="session")
def _seeded_template(tmp_path_factory):
    from nkbrief.store import Store

    path = tmp_path_factory.mktemp("seed") / "seeded.sqlite3"
    Store.open(path).close()
    return path


@pytest.fixture
def seeded_store(tmp_path, _seeded_template):
    """A store seeded from the bundled dataset (copied from one built per session)."""
    import shutil

    from nkbrief.store import Store

    path = tmp_path / "seeded.sqlite3"
    shutil.copyfile(_seeded_template, path)
    st = Store.open(path)
    yield st
    st.close()


@pytest.fixture(autouse=True, scope="session")
def _site_settings(tmp_path_factory):
    """The tests run as a site whose administrator set UNCLASSIFIED as the pack marking
    (nkbrief.privacy); without a site default a pack needs an explicit marking, which
    tests/core/test_briefing_print.py checks by pointing NKBRIEF_SITE_CONFIG elsewhere. The
    variable is set in os.environ so commands run in a subprocess see it too."""
    path = tmp_path_factory.mktemp("site") / "site.ini"
    path.write_text("[pack]\nclassification = UNCLASSIFIED\n", encoding="utf-8")
    old = os.environ.get("NKBRIEF_SITE_CONFIG")
    os.environ["NKBRIEF_SITE_CONFIG"] = str(path)
    yield path
    if old is None:
        os.environ.pop("NKBRIEF_SITE_CONFIG", None)
    else:
        os.environ["NKBRIEF_SITE_CONFIG"] = old
