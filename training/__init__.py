"""Training screening's model (scikit-learn, the `training` extra); the services only load the result."""
