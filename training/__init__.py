"""Training-side tooling: synthetic data with a hidden ground truth, and (later) the learned ranker."""
