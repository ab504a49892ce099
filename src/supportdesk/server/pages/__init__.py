"""HTML pages of the portal and the console: one module per area."""
