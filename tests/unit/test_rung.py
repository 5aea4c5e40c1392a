"""The rung's own guarantees: hermetic (no network, no database) and on the library's in-memory persistence."""

from __future__ import annotations

import socket
import sqlite3

import psycopg
import pytest
from eventsourcing.popo import POPOApplicationRecorder

from tests.unit.memory import InMemoryLog


def test_no_test_of_the_rung_can_reach_the_network_or_a_database() -> None:
    for connect in (
        lambda: sqlite3.connect(":memory:"),
        lambda: socket.create_connection(("127.0.0.1", 5432)),
        lambda: psycopg.connect("postgresql://postgres@127.0.0.1:5432/test"),
    ):
        with pytest.raises(AssertionError, match="fast rung"):
            connect()


def test_the_logs_of_the_rung_live_in_memory() -> None:
    assert isinstance(InMemoryLog("registry").recorder, POPOApplicationRecorder)
