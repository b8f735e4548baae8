"""The report: plain data about a graded submission (``model``) and the renderers that format it."""
