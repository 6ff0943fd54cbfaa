"""scikit-learn drop-ins: the MLP estimators, batched stacks, searches, sequence estimators."""
