"""The experiment runner: a corpus through every stage to the paper's results table."""
