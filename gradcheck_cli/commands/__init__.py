"""Sub-commands beyond `run`, one module each; importing a module registers its commands."""
