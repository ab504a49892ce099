"""What makes several nodes one desk: the sessions each node has in hand, kept in step
through the database and the bus, and the hand-on of a socket to the node serving its
session (docs/cluster.md)."""
