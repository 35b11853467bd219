"""A package with a demo hook, standing for a platform app in ``test_demo_hooks``."""
