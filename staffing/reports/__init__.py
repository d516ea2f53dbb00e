"""Reports the ministry asks for, built from the read models (issue 11)."""
