"""The notify service's pages: the deliveries of a province for its operators, and everyone's inbox."""
