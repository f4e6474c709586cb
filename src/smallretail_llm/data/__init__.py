"""Training data: versioned prompt templates, the SFT dataset, question generation, the teacher."""
