"""Case services: access (who reaches which case), numbering, timeline, and the
workflow features built on them."""
