"""Progress reports, their schedule and reminders, and the tranches of GPU-hours they release."""
