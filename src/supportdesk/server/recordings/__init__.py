"""Recordings as the server runs them: the relay's tee, the player, retention."""
