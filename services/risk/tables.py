"""The risk service keeps no tables of its own beyond its event log, hash chain and tracking records."""
