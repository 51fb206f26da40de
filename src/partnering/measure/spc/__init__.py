"""measure/spc."""
