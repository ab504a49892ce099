"""The audit trail as the console serves it: names, the filter, exports, refusal counts."""
