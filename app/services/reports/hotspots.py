"""Hotspot communes (địa bàn trọng điểm): data, a list per province in
`hotspot_communes` (app/models/report_config.py), kept by the province; the periodic
return flags them in its breakdown by commune of reception."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def hotspot_communes(session: AsyncSession, province: str | None) -> dict[str, str | None]:
    """Commune code → name of the scope's hotspot communes (every province's for the
    whole country)."""
    rows = await session.execute(
        text(
            "SELECT commune_code, name FROM hotspot_communes "
            "WHERE CAST(:province AS varchar) IS NULL OR province_code = :province"
        ),
        {"province": province},
    )
    return {str(code): name for code, name in rows.all()}
