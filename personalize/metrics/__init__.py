"""The paper's metrics: BLEU and ROUGE-1/2/L (in %), exact match for author distinction, paired t-tests."""
