"""Applications for subsidised compute: drafts, submission, the workflow, estimates, attachments."""
