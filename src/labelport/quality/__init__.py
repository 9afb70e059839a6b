"""Quality marks (consensus, honeypot, inference), computed from the labels."""

from labelport.quality.agreement import Comparer, agreement
from labelport.quality.marks import refresh_marks

__all__ = ["Comparer", "agreement", "refresh_marks"]
