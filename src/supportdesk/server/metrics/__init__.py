"""The node's metrics for operations: what is counted, what is read live, /metrics."""
