"""Clinical terminology: the shipped SNOMED CT / dm+d subset and readers for the official
release files (see release_files.py)."""
