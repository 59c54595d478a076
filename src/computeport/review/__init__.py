"""Review: reviewer assignments, conflict declarations, rubric scores, the panel view."""
