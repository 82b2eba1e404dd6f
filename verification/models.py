"""Models of this app (see ../shared/DESIGN.md)."""
