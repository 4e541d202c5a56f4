"""The portal: kg's pages for people, served by `kg serve` from its own origin.

Every page is one HTML shell (kg.portal.shell) whose script reads the public HTTP API; the
scripts and styles written here are in web/, the browser libraries installed from the npm
registry at set-up are in node_modules/ (kg.portal.files serves both, and nothing else)."""
