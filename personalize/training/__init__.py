"""Training: Adafactor, learning-rate schedules, train/eval steps, the train loop and checkpoints."""
