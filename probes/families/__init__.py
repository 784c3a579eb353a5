"""The built-in probe families: one module each, declared the same way (see ``probes.base``)."""
