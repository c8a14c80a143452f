"""See the Signs: the core shared by the source and staff interfaces."""
