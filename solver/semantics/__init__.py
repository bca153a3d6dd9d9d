"""Semantics shared by every backend: concrete values (values.py)."""
