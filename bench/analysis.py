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
  with a plain deferred transaction, not through aigov's engines (a deferred read, so polling never takes the
  write lock). The idle figure (one write, then a pause) is kept for comparison.
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

Run-to-run noise: this machine has 2 cores shared by five engineers' test suites and benchmarks; load averages of
10–19 were seen during the afternoon (the run above ended at the load shown at the top), and PostgreSQL was
restarted by a fault test in the middle of one earlier run. Absolute rates moved several-fold between runs (the
raw scan of the same kind of table measured between ~27,000 and ~600,000 events/s), the same-run ratios by ±30%.
The ratios, and the shape of each cost against the log's size, are what to read.

### What issue 14 changed

- **History that is read, not recomputed** (`services/reporting/history.py`): every version of each project
  document part (registry part; risk, board and incidents part) with the log position it began at, ministry
  versions, each log's clock (running maximum of `occurred_at` per position) and running registration counts.
  Every version rather than snapshots plus events: an `?as_of=` report needs *every* project of a page at one
  moment, which with versions is an index probe per project (`parts_at`), with snapshots a fold per project.
  `?as_of=` of a project is three index probes (the moment's prefix of each log, then each part at it), flat in
  the sweep from 10,000 to 1,000,000 events.
- **Reports page in SQL** (`services/reporting/queries.py`): live pages on `(registered_at, project_id)` indexes
  (with ministry or classification in front), totals from kept counts (`reporting_counts`,
  `reporting_registrations`); pages as of a moment walk the same index a page of candidates at a time. The
  follower loads only the documents a batch touches, so its memory does not grow with the projects (the rebuild's
  RSS growth column above).
- **Rebuild from the stored JSON** (`shared/logrows.py`): no decode to domain objects; each table written with one
  statement per batch (driver `executemany`, `COPY` on PostgreSQL); one log line per batch; a progress bar in
  `aigov reporting rebuild`.
- **Verification**: one compiled `SELECT … LEFT JOIN` run on the driver, ids as text (PostgreSQL) or bytes
  (SQLite), PostgreSQL's binary protocol, the next page read while this one is hashed; the export verifier parses
  with orjson.
- **Write path**: on PostgreSQL the registration's index rows are written before the save takes the log's table
  lock (statements inside the lock: 6 → 4, counted by `bench/write_path.py`); on SQLite every read transaction
  (`read_session()`, reporting's reads, the follower's loads) begins deferred instead of `BEGIN IMMEDIATE`.

### Growth of PostgreSQL first pages in this run

In the run above, PostgreSQL's live inventory first page and the `?as_of=` ministry page missed the growth bound
(cost at 1,000,000 events over cost at 10,000) while staying far inside the absolute bounds; the full `make bench`
run 15 minutes earlier, with the same query code, measured 0.43× and 0.84× (met), and SQLite met both in both
runs. Each answer is three to five indexed queries whose plans do not depend on the table's size (index range
scans with `LIMIT`, one probe per project of the page); what moved is PostgreSQL's per-query latency on a
machine at load 8–11 (a few milliseconds per round trip, against a 2–7 ms answer). A quieter machine, or more
samples per point, would separate the two; the sweep takes the median of 15.

### Rebuild: below 0.5× the raw scan and below the library's own read-and-decode

The profile of the first batches of a rebuild is below ("scale, cProfile"). The rebuild now spends roughly a
third reading and parsing the rows (`logrows.envelopes`), a fifth folding (`history.fold`: the projection plus one
JSON text per new version and the clock), and a third to a half writing (`history.write`: per event a version
row with the part's JSON, ~1 KB for the registry part, a clock row and a `project_events` row; per batch the
live documents and counts). The raw scan and the library's read-and-decode write nothing: the issue's floors
compare a rebuild that writes about four rows per event with reads that write none. Tried: everything in the list
above (each step measured with the profile). What remains, in order of expected gain: (1) pipeline the batches —
read batch n+1 and write batch n−1 in threads while batch n folds (the drivers release the GIL while the
database works; the next batch's documents come from the previous batch's memory, not the database); (2) drop
`reporting_project_events`, which now duplicates the keys of `reporting_project_versions`; (3) a rebuild-only
path that writes the live documents once at the end instead of per batch.

### Verification: below 0.8× the same algorithm in memory

Reading a row costs about as much as hashing it (Python builds a tuple with a ~700-byte `bytes` per event; the
hash is one SHA-256 over the same bytes), so one thread tops out near 0.5×; the prefetch thread overlaps only the
driver's waits. What remains: verify segments of the log in parallel processes — each link is checked against the
*stored* previous link, so segments are independent and the first failing position is the same as a sequential
walk's — and let the database hand over the rows as one buffer (COPY … TO STDOUT) instead of a tuple per row. The
export verifier is bounded by `orjson.loads` per line plus the hashing.

### Write path and propagation

The write path is dominated by round trips while three services, the database and the load generator share two
cores; the table lock serialises writers, so throughput is flat from 10 to 50 clients and latency grows with the
queue. Fewer statements under the lock (done on PostgreSQL: 6 → 4) and deferred reads on SQLite (done) help;
group commit (concurrent commands queued and saved in one transaction, each answered on its own) is the remedy
the issue names and is not built.

Propagation under load is the reporting follower's batch cycle competing with the writer for the same cores. The
history made each batch write more (a version, a clock row and counts besides the live rows), so the batch was
trimmed to about ten round trips: each log's clock and the registration counts are carried from the previous
batch instead of read back, the tracked position moves by one conditional `UPDATE` (it names the position the
batch started from, so exactly-once holds without the library's separate read), and small batches are written by
`executemany` rather than `COPY`. What remains: profile the live follower's cycle under load (not profiled by
this run: the rebuild profile below is of large batches), and write a small batch's rows of all tables in fewer
statements.

### History of one long project, and reports as of a moment with filters

`?as_of=` of a project with 10,000 events reads three rows whatever the project's length. Reports as of a moment
filtered by stage or risk status count their total by reading each candidate's parts (no kept count per moment and
filter: stage and risk status come from two logs at two positions); the pending list and the periodic report as
of a moment read the ministry's (or every) project's parts at the moment. Live, they read only pending projects /
the ministry's projects.

### Memory

Reporting's resident memory no longer holds the read model: after serving the reports, it is the same at 1,000
and 100,000 projects (sweep table), and a rebuild's memory rises by about one batch, whatever the log's length.
"""
