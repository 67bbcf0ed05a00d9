"""Fixtures of the fake-provider tests: one in-process fake server per module, reset before each test."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_providers import start_fake_providers  # noqa: E402


@pytest.fixture(scope="module")
def fake():
    fp = start_fake_providers()
    yield fp
    fp.stop()


@pytest.fixture(autouse=True)
def _reset(fake):
    fake.reset()
    yield
