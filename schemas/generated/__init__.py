"""Generated code: see schemas/generate.py."""
