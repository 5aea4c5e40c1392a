"""The prose of docs/benchmarks.md: method, gaps, profiles and remedies (written by hand, kept with the code)."""

METHOD = """## Method

- **Write path** (`bench/write_path.py`): a closed-loop httpx/asyncio load generator in the benchmark process
  (1, 10 and 50 concurrent clients, each sending its next request when the previous answer arrives; a short
  warm-up is discarded) posts `POST /v1/projects` to the registry started by `tests/support.py`'s
  `ServiceStack` (all three services running, so followers do their normal work), then the same payload to a
  bare FastAPI app (`bench/baseline_app.py`) served by uvicorn with the same settings (one process, same log
  config, sync endpoint in the same threadpool, engine configured by `shared.database.create_engine`) that does
  one INSERT of the JSON body into a table it creates in the same database. The baseline has no
  authentication, validation, aggregate, table lock, hash chain or indexes: the ratio is what those cost.
  The services are stopped while the baseline runs.
- **Propagation** (`bench/propagation.py`): one client registers back to back (load 1); the registration's log
  position is read right after the response and a poller in this process watches
  reporting's tracked registry position (`reporting_tracking`, what `ReportingStore(settings).positions()`
  returns; reporting commits read-model rows and its tracked position in one transaction). The poller reads
  with a plain deferred transaction, not through aigov's engines (see the SQLite finding below). The idle figure
  (one write, then a pause) is kept for comparison.
- **Scale sweep** (`bench/scale.py`): for logs of 10,000, 100,000 and 1,000,000 events (1,000 / 10,000 /
  100,000 projects; 7 registry and 3 risk events each, one project in ten classified high), each in a fresh
  database. The logs are made by `bench/scaledata.py`: every kind of event is made once by the real domain model
  and encoded by the library's mapper, then copied per project with its own ids and times, chained with
  `shared.hashchain` exactly as the recorder chains, and bulk-written (`COPY` / `executemany`), so a million
  events take seconds instead of the ~2.5 minutes commands would take. On each log, beside its baseline:
  - **rebuild**: exactly `aigov reporting rebuild` (`ReportingStore.clear()` then
    `ProjectionFollower(batch_size=2000).catch_up()`), against a raw keyset-paged
    `SELECT id, originator_id, originator_version, topic, state` of both event tables (same page size) and against
    the eventsourcing library's own read-and-decode (`select_notifications` + `mapper.to_domain_event`, first
    200,000 events);
  - **verification**: `verify_log()` of both logs and `verify_export` of an export file (written untimed),
    against the same algorithm (`verify_chain`) over the same records already in memory;
  - **answers**, in-process (the routes' code without HTTP, `ReportQueries`), median of 15 after a warm-up:
    `?as_of=` of one project's public record and of a ministry's inventory first page (100 items and the
    count) at the log's middle moment (half the events before it), the live inventory's and public (high-risk)
    register's first page with their counts, and one project's audit timeline;
  - **memory**: `VmRSS` of a reporting service process started on the database, idle and after serving the
    reports above (inventory, register, `?as_of=`, a 500-item page).
- **Memory** (`bench/memory.py`): `VmRSS` from `/proc/<pid>/status` of the three uvicorn processes, 2 s after
  start (idle) and the peak while one client registers back to back.
- Profiles: each run records cProfile excerpts (below). The write path was profiled by hand with py-spy 0.4.3
  (`pip install py-spy` into `.venv`, not a project dependency): `py-spy record -r 200 -f raw -p <registry pid>`
  during a load of 1.
"""

ANALYSIS = """## Gaps, profiles and remedies

Run-to-run noise: this machine has 2 cores shared with other work, and the baselines themselves move by ±30%
between runs (e.g. the PostgreSQL baseline at 1 client measured 220–390 commands/s on the same day); the write-path
ratios moved between 0.07× and 0.18× and propagation p99 between ~140 and ~235 ms across runs. The conclusions
below hold for every run made.

### Write path: throughput far below 0.6× the baseline, p99 far above 25 ms

Profile (py-spy on the registry process, load 1, PostgreSQL): of the samples inside the
`register_project` endpoint, about 75% wait on PostgreSQL (`psycopg Connection.wait`). The endpoint makes
many round trips per command, each paying the machine's scheduling delay while the three services, PostgreSQL
and the load generator share 2 cores:

1. `RegistryApplication.require_ministry_exists` is `Ministry.create_id(code) in self.repository`, which in
   eventsourcing reconstructs the **whole Ministry aggregate** (select all its events, decode, mutate) on every
   registration: ~40% of the endpoint's samples. A ministry with a long CAIO history makes it slower still.
   **Fixed** after this profile: one indexed lookup of the registry's ministries table inside the command's
   own transaction (the figures above are after the fix).
2. The save itself (`HashChainMixin._insert_stored_events`: the library's `LOCK TABLE registry_events IN
   EXCLUSIVE MODE`, the insert, a `SELECT hash … ORDER BY position DESC LIMIT 1` for the previous link, the
   hash insert) and two index inserts (`projects`, `risk_gate`): ~40%.
3. In the same process the registry's risk follower runs on every registration (risk reacts with an event the
   registry follows): it took as many samples as the endpoint, mostly `max_tracking_id` and `select_notifications`
   queries, each batch in its own transaction; with LISTEN/NOTIFY it wakes for every event.

Writers are serialised by the table lock, so at 10 and 50 clients throughput stays flat and latency grows with
the queue (p99 ≈ clients / throughput), which makes the 25 ms p99 target at 50 clients unreachable while each
command holds the lock for several round trips.

The baseline itself drops at 50 clients on both backends (to a quarter to a third of its 10-client rate). It is not
the connection pool (a one-off run with `pool_size=50` was no better); the likely causes are
the client side (httpx's connection pool with 50 connections on the same 2 cores as the servers) and 40
threadpool threads contending for the GIL. So the 50-client ratio flatters aigov; the 1- and 10-client ratios
are the reliable ones.

Remedies still open:
- Shorten the locked section: read the previous link with the row just inserted in one statement
  (`INSERT … RETURNING` + a cached last link per process, revalidated inside the lock), and batch the index
  inserts into the same round trip.
- Let followers take several notifications before committing when under load, and cache their tracked position
  in memory (it only moves when they commit) instead of `SELECT max(notification_id)` per batch.
- Measure on a machine where the database does not share 2 cores with three services and the load generator.

### Propagation

Under load 1 the p99 is near the 200 ms target (met in the run above; ~95–235 ms across runs, depending on what
else the 2 cores are doing); it is dominated by the followers' batch cycle (read both logs, fold, commit) competing
with the writer.
The remedy list above (fewer queries per follower batch) also applies here.

### SQLite: every read transaction takes the write lock

`shared.database.configure_engine` makes every transaction on aigov's engines begin with `BEGIN IMMEDIATE`,
including read-only ones (`read_session()`, the library's `transaction(commit=False)`, `max_tracking_id`,
`select_notifications`). So on SQLite each follower poll (every 50 ms, in every process), each GET and each
position check takes the database's write lock and serialises with writers in all processes; waiters sleep in
SQLite's busy-handler back-off (up to 100 ms per retry), which makes the long tails. Measured: a first version of
the propagation benchmark polled reporting's position through `ReportingStore.positions()` every 2 ms; on
SQLite the writer's rate halved and propagation p99 was ~930 ms; polling with a plain deferred transaction gave
~140 ms and twice the writes. Remedy: issue `BEGIN IMMEDIATE` only for transactions that will write (e.g. a
separate write engine or an execution option on the recorders' write paths) and plain `BEGIN` (deferred, WAL
snapshot) for reads.

### Replay: rebuild at a few per cent of the raw scan rate (target 0.5×)

cProfile of `ProjectionFollower.process_available` (see below): a quarter to a third in `AuditedApplication.read_log`
(the library's `select_notifications` through the ORM plus `mapper.to_domain_event` decoding every event into a
domain object), a fifth to a third in `LogEntry.as_dict` (turning the object back into JSON: `to_jsonable`,
`EventMeta.as_dict` via `dataclasses.asdict`), and a third to a half in `ReportingStore.persist` (`_upsert`: an UPDATE
then maybe an INSERT **per touched project per batch**). A `logger.info` line per projected event adds to it.

Remedies: fold directly from the stored JSON (`state` bytes → `json.loads`) instead of decode-to-object then
re-encode-to-dict; in `persist`, use one `INSERT … ON CONFLICT DO UPDATE` with all rows of the batch
(executemany) instead of UPDATE-then-INSERT per row; during a rebuild, write the read model once at the end (or in
large chunks) rather than per batch of 1,000; log per batch, not per event.

### Verification: below 200,000 events/s

**Fixed** after the profile below: `iter_chained_records` now reads events and links with one keyset-paged Core
`SELECT … LEFT JOIN <service>_event_hashes` (10,000 rows per page, no ORM objects), the records are named tuples,
and `canonical_bytes` no longer re-parses ids that are already UUIDs: log verification went from ~25,000–31,000
to ~79,000–105,000 events/s (50,000-event log; figures above are after the fix). What remains is the driver's
row fetch and type conversion; the export file is bounded by `json.loads` per line.

The profile before the fix:

cProfile of the verifier (`verify_chain` over `iter_chained_records`, first 20,000 events): ~80% is
`iter_chained_records` (reading through the library's
`select_notifications`: ORM row objects, 2,000 per query, plus a second query for the hash table), ~15% hashing.
The hashing alone, over rows already in memory, runs at about the target (200,000–250,000 events/s in
pure Python; `canonical_bytes` parses every originator id into a `UUID` and formats a header per event), so
any reading cost at all puts the verifier below it: the target needs both a cheaper read and a cheaper header.

Remedies still open: stream with a server-side cursor and fetch the originator id as raw bytes (no UUID type
processing); verify the chains of both logs in parallel processes; the export verifier avoids the database and is
bounded by `json.loads` per line plus
hashing (a faster JSON parser, e.g. orjson, or parsing only the needed fields would close most of its gap).

### History: "as of a moment" replays both logs from position zero

`ReportingStore.replay(as_of)` reads and decodes **every** event of both logs (it filters by time but does not
stop at the moment, and it reads events of all projects), so its cost grows with the whole log, not with the
project: 0.57–0.95 s across runs for a log of 10,000 events, and proportionally more in a real log. The registry's
snapshot-assisted load
at a version (snapshot every 100 events, then at most 99 events) is already within the target.

Remedies: keep a per-project index `(project_id, occurred_at, service, position)` (reporting already has
`project_events (project_id, service, position)`; add the time) so "as of" reads only that project's events up to
the moment; for projects with long histories, fold from a periodic per-project document snapshot (like the
library's snapshots) and the events after it; stop reading a log once events are past the moment.

### Memory

No target in the issue; the numbers are recorded for trend tracking. The three processes are the same Python
process image (FastAPI, SQLAlchemy, eventsourcing) and differ little.
"""
