"""smallretail-llm: a Korean small shop's product list -> standard product DB -> LoRA-tuned
small LLM -> grounded product copy and customer Q&A over FastAPI."""

__version__ = "0.1.0"
