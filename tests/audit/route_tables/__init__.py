"""Route audit tables of each feature, merged into `ROUTES` of test_route_audit.

A feature adds a module here defining `ROUTES: dict[tuple[str, str], list[Case] | str]`
(same shape as the core table), so features added side by side do not edit one file.
"""

from __future__ import annotations

import importlib
import pkgutil

from tests.audit.arrange import Case


def feature_tables() -> dict[tuple[str, str], list[Case] | str]:
    merged: dict[tuple[str, str], list[Case] | str] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        table = getattr(module, "ROUTES", {})
        overlap = merged.keys() & table.keys()
        assert not overlap, f"{module_info.name} repeats routes: {sorted(overlap)}"
        merged.update(table)
    return merged
