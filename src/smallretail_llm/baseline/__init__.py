"""The deterministic writer and answerer: the renderer, rule answers, intents and draft checks."""
