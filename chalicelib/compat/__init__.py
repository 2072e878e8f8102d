"""Other wire dialects over the same data: Grafana, Wazo, OAuth2 client credentials."""
