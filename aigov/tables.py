"""Import every module that declares tables, so ``shared.schema.ALL_METADATA`` is complete."""

import services.registry.tables  # noqa: F401
import services.reporting.tables  # noqa: F401
import services.risk.tables  # noqa: F401
import shared.idempotency  # noqa: F401
from shared.schema import ALL_METADATA

__all__ = ["ALL_METADATA"]
