"""Lets pytest run the hidden checks directly: `pytest grader/checks --impl solutions`."""

from pathlib import Path

import pytest

from grader.loading import from_folder


def pytest_addoption(parser):
    parser.addoption("--impl", default="exercises", help="folder of exercise modules to check")


@pytest.fixture
def impl(request):
    folder = Path(request.config.getoption("--impl"))
    module = request.module.__name__.rsplit(".", 1)[-1]
    return from_folder(folder).load(module)
