"""Wijkplan geoservice: maintenance planning and citizen proposals per neighbourhood, as OGC API - Features."""

__version__ = "0.1.0"
