"""jaxfne workflows: the run, tune, plot and export commands and the CPU code-generation hint."""
