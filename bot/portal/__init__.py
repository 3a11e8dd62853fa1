"""The portal: server-rendered pages where restricted users read what was delivered to them."""
