"""``GET /v1/video/models``: the catalog as this server serves it (who renders each model, and whether it can).

Callers pick models from this list instead of learning at create time that a key needs credentials the server
lacks. The body is ``providers.availability.report()``, the same report ``reelflow doctor`` prints, built from the
routing rule the tasks use (``providers.registry``).
"""

from __future__ import annotations

from fastapi import APIRouter

from adapter.auth import KeyIdDep
from adapter.video import AUTH_ERRORS, ApiKeyHeader
from providers.availability import ModelList, report

router = APIRouter(prefix="/v1/video", tags=["models"])


@router.get(
    "/models",
    operation_id="list_models",
    summary="The model catalog: kinds, express flag, clip lengths, aspect ratios, who serves each row here",
    responses=AUTH_ERRORS,
)
async def list_models(kid: KeyIdDep, api_key: ApiKeyHeader = None) -> ModelList:
    return report()
