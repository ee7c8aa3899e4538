"""Tracking layer: ``Client``, the fluent run stack and the metric write-behind buffer."""
