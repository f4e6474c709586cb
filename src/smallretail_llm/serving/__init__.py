"""Serving: settings, the assistant that drafts and checks, constrained decoding, engines and the HTTP API."""
