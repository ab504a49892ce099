"""The agents as the server sees them: who is signed in, their sockets, who is online."""
