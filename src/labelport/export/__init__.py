"""Exports: a whole project (or a selection) to an archive in the format training code reads."""

from labelport.export.report import ExportReport, Skipped

__all__ = ["ExportReport", "Skipped"]
