"""A submission that kills its own process while being imported."""

import os

os._exit(3)
