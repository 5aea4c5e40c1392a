"""The write-path baseline: a bare FastAPI app, served like aigov's services, doing one INSERT per request.

It stores the same JSON body in a table of the same database through an engine configured exactly like
aigov's (WAL, busy timeout and ``BEGIN IMMEDIATE`` on SQLite), so the ratio isolates what aigov adds:
authentication, validation, the aggregate, the event store's table lock, the hash chain and the indexes.

    python -m bench.baseline_app --port 8100      (reads BENCH_DATABASE_URL)
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from typing import Any

import sqlalchemy
from fastapi import FastAPI

from shared.database import create_engine
from shared.observability import json_log_config

TABLE = "bench_baseline_writes"


def ensure_table(url: str) -> None:
    """The baseline's own table, created in the bench database beside aigov's tables."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id VARCHAR(36) PRIMARY KEY, body TEXT NOT NULL)"
        )
    engine.dispose()


def create_app() -> FastAPI:
    """A sync endpoint like aigov's (run in the same threadpool), one INSERT in one transaction."""
    engine = create_engine(os.environ["BENCH_DATABASE_URL"])
    insert = sqlalchemy.text(f"INSERT INTO {TABLE} (id, body) VALUES (:id, :body)")
    app = FastAPI()

    @app.post("/v1/projects", status_code=201)
    def register(body: dict[str, Any]) -> dict[str, str]:
        new_id = str(uuid.uuid4())
        with engine.begin() as connection:
            connection.execute(insert, {"id": new_id, "body": json.dumps(body)})
        return {"id": new_id}

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    ensure_table(os.environ["BENCH_DATABASE_URL"])
    uvicorn.run(
        "bench.baseline_app:create_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        log_config=json_log_config("INFO"),
    )


if __name__ == "__main__":
    main()
