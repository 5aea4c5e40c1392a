"""How a log is paged for reading: the sizes of the pages a reader asks for."""

from __future__ import annotations

import itertools

from shared.logreader import FIRST_PAGE, growing_pages


def test_pages_grow_from_a_small_first_page_to_the_batch_size() -> None:
    """Hashing starts after a small first read; later pages are as large as the caller allows."""
    assert FIRST_PAGE == 1_000
    assert list(itertools.islice(growing_pages(10_000), 6)) == [1_000, 2_000, 4_000, 8_000, 10_000, 10_000]


def test_a_batch_smaller_than_the_first_page_bounds_every_page() -> None:
    assert list(itertools.islice(growing_pages(300), 3)) == [300, 300, 300]
