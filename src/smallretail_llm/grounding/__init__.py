"""Grounding: which claims a text makes, and whether the product record and the law back them."""
