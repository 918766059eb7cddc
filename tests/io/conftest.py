"""Fixtures of the io tests."""

import numpy as np
import pytest
from support.media import moving_squares


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    return moving_squares()
