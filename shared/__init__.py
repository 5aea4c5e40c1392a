"""Code shared by the three aigov services: the event log, event metadata, auth and settings."""
