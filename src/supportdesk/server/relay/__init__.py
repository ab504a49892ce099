"""The relay: the customer's link, the agents' viewers and consoles, files on the way."""
