"""Data files of the item definitions (a package so that setuptools ships them)."""
