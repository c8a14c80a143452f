"""The nginx front before both interfaces: its configuration and its own pages."""
