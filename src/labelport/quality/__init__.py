"""Quality marks (consensus, honeypot, inference), computed from the labels."""

from labelport.quality.agreement import Comparer, agreement
from labelport.quality.marks import after_append, prepare_soon_compared, refresh_marks

__all__ = ["Comparer", "after_append", "agreement", "prepare_soon_compared", "refresh_marks"]
