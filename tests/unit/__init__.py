"""The fast rung: unit tests of every aggregate (on the library's in-memory persistence), of the projection fold
and of the guideline's rules. No database, no server, no network; the whole rung runs in seconds."""
