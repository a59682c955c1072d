"""C2SP tlog-tiles paths, read as the specification writes them."""

import pytest
from confide_gateway.arguments import tile_path

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("path, read", [
    ("0/000", (0, 0, 256)), ("0/005", (0, 5, 256)), ("1/273", (1, 273, 256)), ("0/x001/000", (0, 1000, 256)),
    ("0/x001/x234/067.p/112", (0, 1234067, 112)), ("2/000.p/1", (2, 0, 1)), ("63/000", (63, 0, 256)),
])
def test_paths_of_the_specification(path, read):
    assert tile_path(path) == read


@pytest.mark.parametrize("path", ["0/1", "0/0000", "64/000", "00/000", "0/x001", "0/000.p/0", "0/000.p/256",
                                  "0/000.p/012", "0/001/002", "entries/000", "0/x1/000", ""])
def test_anything_else_is_no_tile(path):
    assert tile_path(path) is None
