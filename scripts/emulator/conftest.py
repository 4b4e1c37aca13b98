import pytest

from harness import start_emulator, stop_emulator


@pytest.fixture(scope="session")
def url():
    """An emulator in its default mode, shared by the tests that leave its settings as they found them."""
    u, state = start_emulator()
    yield u
    stop_emulator(state)
