"""LoRA training: recipe config, the SFT trainer and the random-init smoke run."""
