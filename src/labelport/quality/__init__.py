"""Quality marks (consensus, honeypot, inference): pure scoring of labels against each other.

Nothing in this package reads or writes the store; ``labelport.services.marks`` keeps the stored marks
exact with it.
"""

from labelport.quality.agreement import Comparer, agreement

__all__ = ["Comparer", "agreement"]
