"""Hidden checks, one module per exercise module. Never shown to learners, never importing solutions/."""
