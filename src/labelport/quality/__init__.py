"""Quality marks (consensus and honeypot), computed from the labels."""

from labelport.quality.marks import refresh_marks

__all__ = ["refresh_marks"]
