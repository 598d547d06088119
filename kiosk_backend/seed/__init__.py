"""Demo data for the reference server."""
