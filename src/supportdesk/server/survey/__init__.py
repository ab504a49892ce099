"""The exit survey: the one-time token at the end, the answer, its limits."""
