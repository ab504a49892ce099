"""Benchmarks: our RFB engine against TigerVNC x0vncserver and x11vnc on one Xvfb workload."""
