"""The node's metrics for operations: the exposition format, what is counted, /metrics."""
