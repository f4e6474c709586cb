"""Generation engines: the batcher, the local transformers and llama.cpp engines, the remote one, the engine process."""
