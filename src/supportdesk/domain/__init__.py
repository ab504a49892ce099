"""Pure domain rules of supportdesk: no I/O, stdlib only."""
