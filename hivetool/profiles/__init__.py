"""Static-port recipes: pin RPC services to fixed TCP ports in offline hives."""
