"""Core: settings, the seed contract, the model catalog, storage and the error tree. Imports nothing of ours."""
