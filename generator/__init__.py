"""CPG generator: compile Python guideline definitions into CPG-on-FHIR artifacts."""
