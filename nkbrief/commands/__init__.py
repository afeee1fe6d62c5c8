"""Sub-commands of the nkbrief command line; each module has ``register(subparsers)``."""
