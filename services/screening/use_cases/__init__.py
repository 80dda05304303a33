"""What screening does: classify each new need and publish the result."""
