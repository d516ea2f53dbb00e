"""What the service serves to a browser, from the package itself (issue 13: an offline network)."""
