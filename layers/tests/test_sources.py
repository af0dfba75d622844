"""Every Lambda source in layers/ can be inlined as a CloudFormation ZipFile (templates/README.md)."""
import ast
import sys

import pytest

from conftest import LAYERS, load_source

SOURCES = sorted(p.relative_to(LAYERS).as_posix() for p in LAYERS.glob("*/*.py") if p.parent.name != "tests")
ALLOWED = set(sys.stdlib_module_names) | {"boto3", "botocore"}


def test_the_sources_are_found():
    assert {"routing/state_updater.py", "application/photos.py", "application/comments.py", "frontend/post_auth.py",
            "frontend/pre_auth.py", "frontend/user_import.py"} <= set(SOURCES)


@pytest.mark.parametrize("relative", SOURCES)
def test_fits_in_a_zipfile_property(relative):
    text = (LAYERS / relative).read_text(encoding="utf-8")
    assert len(text) < 4000, f"{relative} has {len(text)} characters; the limit is 4000"
    assert "\t" not in text and text.endswith("\n")


@pytest.mark.parametrize("relative", SOURCES)
def test_standard_library_and_boto3_only(relative):
    tree = ast.parse((LAYERS / relative).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
        for name in names:
            assert name.split(".")[0] in ALLOWED, f"{relative} imports {name}"


@pytest.mark.parametrize("relative", SOURCES)
def test_defines_index_handler(relative):
    assert callable(load_source(relative).handler)
