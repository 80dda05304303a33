"""The reference agency consumer: what an agency's developers copy to receive their cases."""
