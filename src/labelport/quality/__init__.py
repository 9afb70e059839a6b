"""Quality marks (consensus, honeypot, inference), computed from the labels."""

from labelport.quality.agreement import Comparer, agreement
from labelport.quality.marks import prepare_soon_compared, refresh_marks

__all__ = ["Comparer", "agreement", "prepare_soon_compared", "refresh_marks"]
