"""Evaluation: cases, metrics and the side-by-side report."""
