"""Tamper evidence that holds against whoever runs the database: a transparency log over each event log.

``merkle``: RFC 9162 §2.1 tree hashing, proofs and their verification (pure functions).
``store``: the tree's nodes stored beside the events, appended in the inserting transaction; roots and proofs
in O(log n) reads. ``note``: C2SP signed notes, checkpoints and cosignatures (Ed25519). ``witness``: a C2SP
``tlog-witness``. ``publish``: a service's checkpoints and their pushing to witnesses. ``audit``: checking a
log or an export against checkpoints published earlier.
"""
