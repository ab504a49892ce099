"""Set-up and operations helpers run from the repository: install, cluster, HAProxy."""
