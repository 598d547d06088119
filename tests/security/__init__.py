"""Security findings of issue 13, one test per finding, through the real paths."""
