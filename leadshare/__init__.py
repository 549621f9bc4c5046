"""leadshare: a lead-sharing marketplace for car dealer groups.

The app is built by `leadshare.app.create_app`; importing this package loads nothing else.
"""
