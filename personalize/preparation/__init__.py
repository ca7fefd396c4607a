"""The paper's data preparation: documents in, generation examples and splits out."""
