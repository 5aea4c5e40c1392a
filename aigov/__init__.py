"""The top of the tree: what assembles the three services (the ``aigov`` command and the full table list).

Only this package and ``migrations`` may know every service; ``shared`` knows none and the services know
each other only through their published contracts (import-linter contracts in pyproject.toml)."""
