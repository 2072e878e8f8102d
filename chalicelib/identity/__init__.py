"""The one identity data model behind both dialects: tenants, accounts (users and
service accounts), policies (Wazo) = roles (Wavefront), groups = user groups."""
