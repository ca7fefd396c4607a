"""personalize: a JAX reproduction of "Teach LLMs to Personalize" (Li et al., 2023)."""

__version__ = "0.1.0"
