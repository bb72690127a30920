"""Model-based signals: train fastText classifiers offline and score documents with them."""
