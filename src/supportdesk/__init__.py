"""supportdesk: a self-hosted remote-support desk for a bank's online-banking hotline."""

__version__ = "0.1.0"
