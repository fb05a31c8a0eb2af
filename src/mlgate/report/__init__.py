"""Reports written from a bundle: JUnit XML (the HTML report lands here too)."""
