"""Constrained decoding: which tokens a draft may write next."""
