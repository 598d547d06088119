"""Data files of the domain layer (catalogue, division codes, holidays); a package so they ship."""
