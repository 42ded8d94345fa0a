"""Software-defined assets, one module per stage; each calls litsynth and writes the warehouse."""
