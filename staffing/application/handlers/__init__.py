"""One handler per command; importing this package registers them all (``registry.HANDLERS``)."""

from staffing.application.handlers import corrections, people, positions, quota, reorganisations, units

__all__ = ["corrections", "people", "positions", "quota", "reorganisations", "units"]
