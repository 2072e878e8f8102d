"""Dashboards and folders: one store that both the Wavefront dialect (/api/v2/dashboard,
chalicelib/categories/dashboard.py) and the Grafana dialect (/api/dashboards, /api/folders,
/api/search, chalicelib/compat/grafana/) read and write.

store.py holds what both dialects share: how a dashboard is stored, unique titles per
folder, Grafana's numeric ids, stars (= Wavefront favorites), folders, and the Grafana save
with its conflict rules.
"""
