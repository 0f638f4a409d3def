from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import require_corpus  # noqa: E402


@pytest.fixture
def corpus_root() -> Path:
    return require_corpus()


@pytest.fixture
def corpus_copy(tmp_path):
    """Copy a corpus file (and any logs beside it) into tmp_path; never touch the original."""
    import shutil

    from corpus import corpus_path

    def copy(relative: str, with_logs: bool = False) -> Path:
        if relative is None:
            require_corpus()
            pytest.skip("no corpus files of this role")
        source = corpus_path(relative)
        target = tmp_path / source.name
        shutil.copyfile(source, target)
        if with_logs:
            for sibling in source.parent.iterdir():
                if sibling.name.lower().startswith(source.name.lower() + ".log"):
                    shutil.copyfile(sibling, tmp_path / sibling.name)
        return target

    return copy
