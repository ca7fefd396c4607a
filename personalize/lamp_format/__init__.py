"""LaMP / LongLaMP interchange: export our predictions to their `{"task", "golds": [{"id", "output"}]}` files and
score such files with the benchmarks' metrics (ROUGE-1, ROUGE-L, METEOR)."""
