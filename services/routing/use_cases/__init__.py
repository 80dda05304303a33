"""What routing does: route screened needs, apply agencies' reports, escalate overdue cases."""
