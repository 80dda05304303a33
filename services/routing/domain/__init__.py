"""Routing's rules: which agency's provincial queue receives a screened need."""
