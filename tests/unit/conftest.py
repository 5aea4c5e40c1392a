"""Keeps the fast rung hermetic: a test here that tries to open a network connection or a database fails at once,
instead of quietly making the rung slow or dependent on a running service."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the fast rung touches no network and no database: use tests.unit.memory instead")


@pytest.fixture(scope="module", autouse=True)
def no_network_and_no_database() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", _refuse)
        patch.setattr(socket.socket, "connect_ex", _refuse)
        patch.setattr(socket, "create_connection", _refuse)
        patch.setattr(sqlite3, "connect", _refuse)
        patch.setattr(psycopg, "connect", _refuse)
        patch.setattr(psycopg.Connection, "connect", _refuse)
        yield
