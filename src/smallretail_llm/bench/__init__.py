"""Speed and memory benches (`python -m smallretail_llm.bench`)."""
